"""Generated scripts: clean (ruff), deterministic, safe, and they build the design's model."""

import ast
import re
import runpy
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from designer import codegen
from designer.codegen import data as codegen_data
from designer.design import templates
from designer.design.spec import DataSpec, Design, Edge, Node
from designer.model import exporting
from designer.model.build import DesignInvalid, build_model

from helpers.same_model import assert_same_layers, config, layer_config

RUFF = Path(sys.executable).with_name("ruff")
INJECTION = 'x"); import os; os.system("touch owned"); ("'


def ruff(*paths):
    """ruff with the project's rules (pyproject.toml) plus import sorting and pyupgrade."""
    return subprocess.run(
        [str(RUFF), "check", "--no-cache", "--select", "E,F,W,I,B,UP", *map(str, paths)],
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def scripts(tmp_path_factory):
    """Every template's script (application bases offline: weights=None, no download)."""
    folder = tmp_path_factory.mktemp("scripts")
    out = {}
    for tid in templates.TEMPLATES:
        path = folder / f"{tid.replace('-', '_')}.py"
        path.write_text(codegen.generate(templates.get(tid), offline=True))
        out[tid] = path
    return out


def test_every_template_script_passes_ruff(scripts):
    result = ruff(*scripts.values())
    assert result.returncode == 0, result.stdout + result.stderr


def assert_same_model(model, reference) -> None:
    """Layer by layer, the class and the whole config (activation, rate, padding, strides,
    initializers, ...); then the whole model's config (which layer feeds which, inputs, outputs);
    then what compile() was given."""
    assert [type(x).__name__ for x in model.layers] == [type(x).__name__ for x in reference.layers]
    for got, want in zip(model.layers, reference.layers):
        assert layer_config(got) == layer_config(want), got.name
    assert config(model.get_config()) == config(reference.get_config())
    assert type(model.optimizer) is type(reference.optimizer)
    # Optimizers are named by the same kind of counter ("adam", "adam_1"): the name is left out.
    settings = [{**m.optimizer.get_config(), "name": None} for m in (model, reference)]
    assert settings[0] == settings[1]
    assert (model.loss, model.metrics_names) == (reference.loss, reference.metrics_names)


def _compiled(model, optimizer=None, loss="sparse_categorical_crossentropy"):
    model.compile(optimizer=optimizer or keras.optimizers.Adam(), loss=loss, metrics=["accuracy"])
    return model


# The same models written with Keras by hand, as in the tutorials the templates come from,
# naming each layer after its node.
def mnist_mlp_by_hand():
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1), name="input"),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense"),
            layers.Dropout(0.5, name="dropout"),
            layers.Dense(10, activation="softmax", name="output"),
        ],
        name="mnist-mlp",
    )
    return _compiled(model)


def lenet5_by_hand():
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1), name="input"),
            layers.Conv2D(6, 5, padding="same", activation="tanh", name="c1"),
            layers.AveragePooling2D(2, name="s2"),
            layers.Conv2D(16, 5, activation="tanh", name="c3"),
            layers.AveragePooling2D(2, name="s4"),
            layers.Flatten(name="flatten"),
            layers.Dense(120, activation="tanh", name="f5"),
            layers.Dense(84, activation="tanh", name="f6"),
            layers.Dense(10, activation="softmax", name="output"),
        ],
        name="lenet5",
    )
    return _compiled(model)


def strided_cnn_design():
    """The CIFAR-10 CNN with a strided, padded first convolution and an overlapping pooling
    (no template has strides of their own)."""
    design = templates.get("cifar10-cnn")
    design.node("conv1").params |= {"strides": 2, "padding": "same"}
    design.node("pool2").params |= {"pool_size": 3, "strides": 1, "padding": "same"}
    design.compile.optimizer_params["learning_rate"] = 0.0005
    return design


def strided_cnn_by_hand():
    augmentation = keras.Sequential(
        [layers.RandomFlip("horizontal", name="flip")], name="augmentation"
    )
    model = keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3), name="input"),
            augmentation,
            layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Dropout(0.25, name="drop1"),
            layers.Conv2D(64, 3, activation="relu", name="conv2"),
            layers.MaxPooling2D(3, strides=1, padding="same", name="pool2"),
            layers.Dropout(0.25, name="drop2"),
            layers.Flatten(name="flatten"),
            layers.Dense(512, activation="relu", name="dense"),
            layers.Dropout(0.5, name="drop3"),
            layers.Dense(10, activation="softmax", name="output"),
        ],
        name="cifar10-cnn",
    )
    return _compiled(model, keras.optimizers.Adam(learning_rate=0.0005))


def mini_resnet_by_hand():
    def conv(name, activation=None):
        return layers.Conv2D(32, 3, padding="same", activation=activation, name=name)

    inputs = keras.Input(shape=(32, 32, 3), name="input")
    stem = conv("stem", "relu")(inputs)
    x = conv("b1_conv2")(conv("b1_conv1", "relu")(stem))
    block1 = layers.Activation("relu", name="b1_relu")(layers.Add(name="b1_add")([x, stem]))
    x = conv("b2_conv2")(conv("b2_conv1", "relu")(block1))
    x = layers.Activation("relu", name="b2_relu")(layers.Add(name="b2_add")([x, block1]))
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(10, activation="softmax", name="output")(x)
    return _compiled(keras.Model(inputs, outputs, name="mini-resnet"))


def two_inputs_by_hand():
    image = keras.Input(shape=(8, 8, 1), name="image")
    features = keras.Input(shape=(4,), name="features")
    x = layers.Flatten(name="flatten")(layers.Conv2D(16, 3, activation="relu", name="conv")(image))
    tab = layers.Dense(16, activation="relu", name="tab_dense")(features)
    x = layers.Concatenate(name="concat")([x, tab])
    x = layers.Dense(32, activation="relu", name="dense")(x)
    outputs = layers.Dense(10, activation="softmax", name="output")(x)
    return _compiled(keras.Model([image, features], outputs, name="two-inputs"))


BY_HAND = {  # case: (the design, the same model written with Keras)
    "mlp-with-dropout": (lambda: templates.get("mnist-mlp"), mnist_mlp_by_hand),
    "cnn-with-padding": (lambda: templates.get("lenet5"), lenet5_by_hand),
    "cnn-with-strides": (strided_cnn_design, strided_cnn_by_hand),
    "functional-add": (lambda: templates.get("mini-resnet"), mini_resnet_by_hand),
    "functional-concatenate": (lambda: templates.get("two-inputs"), two_inputs_by_hand),
}


def script_model(design: Design, folder: Path):
    """The model of ``design``'s generated script, built by running the script."""
    path = folder / "script.py"
    path.write_text(codegen.generate(design))
    return runpy.run_path(str(path), run_name="generated")["build_model"]()


@pytest.mark.parametrize("case", list(BY_HAND))
def test_script_model_is_the_model_written_by_hand(case, tmp_path):
    design, by_hand = BY_HAND[case]
    assert_same_model(script_model(design(), tmp_path), by_hand())


@pytest.mark.parametrize(
    "case, node, change",
    [
        ("mlp-with-dropout", "dense", {"activation": "tanh"}),
        ("mlp-with-dropout", "dropout", {"rate": 0.4}),
        ("cnn-with-strides", "conv1", {"padding": "valid"}),
        ("cnn-with-strides", "pool2", {"strides": 2}),
    ],
)
def test_the_comparison_catches_a_wrong_activation_rate_padding_or_stride(
    case, node, change, tmp_path
):
    # Same parameter count, different model: what a count comparison let through.
    make_design, by_hand = BY_HAND[case]
    design = make_design()
    design.node(node).params |= change
    with pytest.raises(AssertionError, match=node):
        assert_same_model(script_model(design, tmp_path), by_hand())


@pytest.mark.parametrize("tid", list(templates.TEMPLATES))
def test_script_builds_the_same_model(scripts, tid):
    """Every template: the script's layers have the classes and configs of the layers of the
    model the app itself builds and exports."""
    ns = runpy.run_path(str(scripts[tid]), run_name="generated")
    model = ns["build_model"]()
    reference = exporting.build_export_model(templates.get(tid))
    assert model.input_shape == reference.input_shape
    assert model.output_shape == reference.output_shape
    assert_same_layers(model, reference)


def test_same_design_gives_byte_identical_script():
    design = templates.get("mini-resnet")
    assert codegen.generate(design) == codegen.generate(templates.get("mini-resnet"))


def test_sequential_for_a_chain_functional_otherwise(scripts):
    mlp = scripts["digits-mlp"].read_text()
    assert "keras.Sequential(" in mlp and "keras.Model(" not in mlp
    assert 'layers.Dense(64, activation="relu", name="dense")' in mlp
    resnet = scripts["mini-resnet"].read_text()
    assert "input_ = keras.Input(shape=(32, 32, 3)" in resnet
    assert "keras.Model(inputs=input_, outputs=output" in resnet
    assert "layers.Add(name=" in resnet
    two = scripts["two-inputs"].read_text()
    assert "inputs=[image, features]" in two


def test_script_reads_like_handwritten_code(scripts):
    text = scripts["transfer-mobilenetv2"].read_text()
    tree = ast.parse(text)
    first_code = [n for n in tree.body if not isinstance(n, ast.Expr)][0]
    assert isinstance(first_code, (ast.Import, ast.ImportFrom))  # imports at the top
    assert "keras.applications.MobileNetV2(" in text and ".trainable = False" in text
    assert "include_top=False" in text and "input_shape=(96, 96, 3)" in text
    online = codegen.generate(templates.get("transfer-mobilenetv2"))
    assert 'weights="imagenet"' in online  # the user's script asks for what the design says
    assert "1 / 127.5" in text  # not 0.00784313725490196
    lenet = scripts["lenet5"].read_text()
    assert "import numpy as np" in lenet and "read_idx" in lenet  # Debian's Fashion-MNIST
    assert "import numpy" not in scripts["digits-mlp"].read_text()  # only what is used
    cnn = scripts["cifar10-cnn"].read_text()
    assert 'layers.RandomFlip("horizontal", name="flip")' in cnn
    assert "shapes_split(42)" in cnn and "def make_shapes(" in cnn  # offline: generated images
    assert "keras.datasets" not in cnn
    cifar = templates.get("cifar10-cnn")
    cifar.data.dataset = "cifar10"  # one click away on the Data page
    assert "keras.datasets.cifar10.load_data()" in codegen.generate(cifar)


def test_callbacks_follow_the_training_settings():
    design = templates.get("digits-mlp")
    design.training.early_stopping = design.training.reduce_lr = design.training.tensorboard = True
    design.training.checkpoint = False
    text = codegen.generate(design)
    assert "EarlyStopping(" in text and "restore_best_weights=True" in text
    assert "ReduceLROnPlateau(" in text and "TensorBoard(" in text
    assert "ModelCheckpoint(" not in text and "from pathlib" not in text


def _injected_design() -> Design:
    nodes = [
        Node(INJECTION, "Input", {"shape": [4]}),
        Node("class", "Dense", {"units": 3, "activation": "relu"}),
        Node("1st layer", "Dense", {"units": 2, "activation": "softmax"}),
        Node("class_", "Dense", {"units": 2}),
    ]
    edges = [Edge(INJECTION, "class"), Edge("class", "1st layer"), Edge("class", "class_")]
    return Design(
        nodes=nodes,
        edges=edges,
        name=INJECTION,
        description='"""\nimport os; os.system("touch owned")\n"""\\',
        data=DataSpec(dataset=INJECTION),
    )


def test_user_strings_cannot_inject_code(tmp_path, monkeypatch):
    design = _injected_design()
    text = codegen.generate(design)
    path = tmp_path / "script.py"
    path.write_text(text)
    assert ruff(path).returncode == 0, ruff(path).stdout
    monkeypatch.chdir(tmp_path)  # where a successful injection would leave its file
    ns = runpy.run_path(str(path), run_name="generated")
    assert_same_layers(ns["build_model"](), build_model(design))
    with pytest.raises(NotImplementedError):
        ns["load_data"]()
    assert not (tmp_path / "owned").exists()
    assert "input_ = keras.Input(" not in text  # the id became a plain identifier
    assert "class_ = layers.Dense(" in text and "class__2 = layers.Dense(" in text


def test_a_long_name_and_description_still_give_clean_code(tmp_path):
    design = templates.get("digits-mlp")
    design.name = "n" * 100
    design.description = (
        "A description a person pasted in one line. " * 12 + "\n\nAnd a second paragraph."
    )
    text = codegen.generate(design)
    path = tmp_path / "script.py"
    path.write_text(text)
    assert ruff(path).returncode == 0, ruff(path).stdout
    doc = ast.get_docstring(ast.parse(text))
    assert " ".join(doc.split()).count("A description a person pasted in one line.") == 12


def test_invalid_design_is_refused_per_node():
    design = templates.get("digits-mlp")
    design.node("dense").params["units"] = 0
    with pytest.raises(DesignInvalid) as info:
        codegen.generate(design)
    assert info.value.analysis.lines() == ["dense: units: must be at least 1 (got 0)"]


def test_unknown_data_set_gives_a_stub_to_fill_in(tmp_path):
    design = templates.get("digits-mlp")
    design.data.dataset = "my_measurements"
    text = codegen.generate(design)
    assert "raise NotImplementedError(" in text and "'my_measurements'" in text
    ns = {}
    exec(compile(text, "script.py", "exec"), ns)
    with pytest.raises(NotImplementedError, match="my_measurements"):
        ns["load_data"]()


OFFLINE = [
    "moons",
    "circles",
    "blobs",
    "spirals",
    "xor",
    "iris",
    "wine",
    "breast_cancer",
    "diabetes",
    "digits",
    "shapes",
]


@pytest.mark.parametrize("dataset", OFFLINE)
def test_data_loading_code_runs_and_fits_the_model(dataset):
    entry = codegen_data.DATASETS[dataset]
    units = max(entry.num_classes, 1)
    head = {"units": units, "activation": "softmax"} if entry.num_classes else {"units": 1}
    design = Design(
        nodes=[
            Node("input", "Input", {"shape": list(entry.shape)}),
            Node("flat", "Flatten"),
            Node("out", "Dense", head),
        ],
        edges=[Edge("input", "flat"), Edge("flat", "out")],
        data=DataSpec(dataset=dataset),
    )
    ns = {}
    exec(compile(codegen.generate(design), "script.py", "exec"), ns)
    (x_train, y_train), (x_test, y_test) = ns["load_data"]()
    assert x_train.shape[1:] == entry.shape and x_train.dtype == "float32"
    assert len(x_train) == len(y_train) and len(x_test) == len(y_test) > 0
    if entry.kind != "points2d":
        assert abs(float(x_train.mean())) < 1.0  # scaled: pixels to [0, 1] or standardised
    # The script's own model fits what its load_data() returns (loss and labels agree): a few
    # updates on a small slice lower the training loss, and it predicts one row per test sample.
    keras.utils.set_random_seed(0)
    model = ns["build_model"]()
    x, y = x_train[:64], y_train[:64]
    before = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    after = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert len(history.history["loss"]) == 2 and np.isfinite(after)
    assert after < before, (before, after)
    assert model.predict(x_test, verbose=0).shape == (len(x_test), units)


def test_all_data_set_snippets_are_clean_code(tmp_path):
    paths = []
    for dataset, entry in codegen_data.DATASETS.items():
        design = templates.blank()
        design.node("input").params["shape"] = list(entry.shape)
        if entry.kind == "sequence":
            design.node("input").params["dtype"] = "int32"
        design.data.dataset = dataset
        path = tmp_path / f"{dataset}.py"
        path.write_text(codegen.generate(design))
        paths.append(path)
    result = ruff(*paths)
    assert result.returncode == 0, result.stdout


@pytest.fixture(scope="module")
def runs(scripts, tmp_path_factory):
    """``--help`` and a one-epoch training run of the digits script, started side by side
    (each pays for importing TensorFlow)."""
    folders = {k: tmp_path_factory.mktemp(k) for k in ("help", "train", "devices")}
    out = folders["train"] / "digits.keras"
    argv = {
        "help": ["--help"],
        "train": ["--epochs", "1", "--output", str(out)],
        "devices": ["--epochs", "1"],
    }
    two = templates.get("digits-mlp")
    two.training.devices = 2
    script = {
        "help": scripts["digits-mlp"],
        "train": scripts["digits-mlp"],
        "devices": folders["devices"] / "two_devices.py",
    }
    script["devices"].write_text(codegen.generate(two))
    procs = {
        k: subprocess.Popen(
            [sys.executable, str(script[k]), *argv[k]],
            cwd=folders[k],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in argv
    }
    results = {}
    for k, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        results[k] = (proc.returncode, stdout, stderr, folders[k])
    return results


def test_generated_script_help_exits_without_training(runs):
    code, stdout, stderr, folder = runs["help"]
    assert code == 0, stderr[-2000:]
    assert "--epochs" in stdout and "--output" in stdout
    assert list(folder.iterdir()) == []  # no data loaded, no model saved


def digits_mlp_by_hand():
    return keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1), name="input"),
            layers.Flatten(name="flatten"),
            layers.Dense(64, activation="relu", name="dense"),
            layers.Dropout(0.2, name="dropout"),
            layers.Dense(10, activation="softmax", name="output"),
        ],
        name="digits-mlp",
    )


def test_generated_script_trains_end_to_end(runs):
    code, stdout, stderr, folder = runs["train"]
    assert code == 0, stderr[-2000:]
    out = folder / "digits.keras"
    assert "Test:" in stdout and out.is_file()
    assert (folder / "digits.best.keras").is_file()  # the checkpoint callback
    model = keras.models.load_model(out)
    assert_same_layers(model, digits_mlp_by_hand())
    results = re.search(r"Test: (\{.*\})", stdout).group(1)
    # One epoch: well above chance (0.1), not yet good.
    assert float(re.search(r"'accuracy': ([\d.]+)", results).group(1)) > 0.25


def test_a_design_on_several_devices_exports_a_mirrored_strategy_script_that_runs(runs):
    code, stdout, stderr, folder = runs["devices"]
    assert code == 0, stderr[-2000:]
    text = (folder / "two_devices.py").read_text()
    assert "strategy = tf.distribute.MirroredStrategy()" in text
    assert "with strategy.scope():\n        model = build_model()" in text
    assert ruff(folder / "two_devices.py").returncode == 0
    assert "Test:" in stdout and (folder / "digits-mlp.keras").is_file()
