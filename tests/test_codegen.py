"""Generated scripts: clean (ruff), deterministic, safe, and they build the design's model."""

import ast
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from designer import codegen, codegen_data, templates
from designer.build import DesignInvalid, build_model
from designer.spec import DataSpec, Design, Edge, Node

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


@pytest.mark.parametrize("tid", list(templates.TEMPLATES))
def test_script_builds_the_same_model(scripts, tid):
    ns = runpy.run_path(str(scripts[tid]), run_name="generated")
    model = ns["build_model"]()
    reference = build_model(templates.get(tid))
    assert model.count_params() == reference.count_params()
    assert model.input_shape == reference.input_shape
    assert model.output_shape == reference.output_shape

    def names(m):  # Sequential models do not list their InputLayer
        return {layer.name for layer in m.layers if type(layer).__name__ != "InputLayer"}

    assert names(reference) <= names(model)  # layers named after node ids


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
    assert "keras.datasets.cifar10.load_data()" in cnn


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
    assert ns["build_model"]().count_params() == build_model(design).count_params()
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


OFFLINE = ["moons", "circles", "blobs", "spirals", "xor", "iris", "wine", "breast_cancer",
           "diabetes", "digits"]  # fmt: skip


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
        ],  # fmt: skip
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
    argv = {"help": ["--help"], "train": ["--epochs", "1", "--output", str(out)],
            "devices": ["--epochs", "1"]}  # fmt: skip
    two = templates.get("digits-mlp")
    two.training.devices = 2
    script = {"help": scripts["digits-mlp"], "train": scripts["digits-mlp"],
              "devices": folders["devices"] / "two_devices.py"}  # fmt: skip
    script["devices"].write_text(codegen.generate(two))
    procs = {
        k: subprocess.Popen(
            [sys.executable, str(script[k]), *argv[k]],
            cwd=folders[k],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
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


def test_generated_script_trains_end_to_end(runs):
    import keras

    code, stdout, stderr, folder = runs["train"]
    assert code == 0, stderr[-2000:]
    out = folder / "digits.keras"
    assert "Test:" in stdout and out.is_file()
    assert (folder / "digits.best.keras").is_file()  # the checkpoint callback
    model = keras.models.load_model(out)
    assert model.count_params() == build_model(templates.get("digits-mlp")).count_params()


def test_a_design_on_several_devices_exports_a_mirrored_strategy_script_that_runs(runs):
    code, stdout, stderr, folder = runs["devices"]
    assert code == 0, stderr[-2000:]
    text = (folder / "two_devices.py").read_text()
    assert "strategy = tf.distribute.MirroredStrategy()" in text
    assert "with strategy.scope():\n        model = build_model()" in text
    assert ruff(folder / "two_devices.py").returncode == 0
    assert "Test:" in stdout and (folder / "digits-mlp.keras").is_file()
