"""Keras code -> design (designer/codeimport): tutorial code read without running it, compared
layer by layer with the model the same code builds in Keras; what is not read is said by line;
the file never runs; a generated script comes back as the design it came from."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import keras
import pytest

from designer.codegen import generate
from designer.codegen.data import dataset_task
from designer.codeimport import import_source
from designer.design import catalog, templates
from designer.design.compiling import resolve
from designer.design.params import resolved
from designer.design.spec import Node
from designer.model.build import analyze

from helpers.keras_examples import mnist_convnet

PY = sys.executable


def read(code: str):
    return import_source(textwrap.dedent(code), "snippet")


def same_layers(design, model):
    """Every layer of ``model`` (a hand-built Keras model) against the design's nodes, in
    order: output shapes and parameter counts from Keras on both sides."""
    analysis = analyze(design)
    assert analysis.ok, analysis.problems
    nodes = [analysis.nodes[i] for i in analysis.order if design.node(i).type != "Input"]
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    assert [n.type for n in nodes] == [type(layer).__name__ for layer in layers]
    for node, layer in zip(nodes, layers):
        assert tuple(node.output_shape) == tuple(layer.output.shape), node.id
        assert node.params == layer.count_params(), node.id
    assert analysis.total_params == model.count_params()


# ---- tutorials, Keras 2 style ------------------------------------------------------------------
KERAS2_MLP = """\
    '''Trains a simple deep NN on the MNIST dataset (keras/examples/mnist_mlp.py, Keras 2).'''
    from __future__ import print_function

    import keras
    from keras.datasets import mnist
    from keras.models import Sequential
    from keras.layers import Dropout
    from keras.optimizers import RMSprop

    batch_size = 128
    num_classes = 10
    epochs = 20

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = x_train.reshape(60000, 784).astype('float32') / 255
    y_train = keras.utils.to_categorical(y_train, num_classes)

    model = Sequential()
    model.add(Dense(512, activation='relu', input_shape=(784,)))
    model.add(Dropout(0.2))
    model.add(Dense(512, activation='relu'))
    model.add(Dropout(0.2))
    model.add(Dense(num_classes, activation='softmax'))
    model.summary()

    model.compile(loss='categorical_crossentropy', optimizer=RMSprop(lr=0.0005),
                  metrics=['accuracy'])
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                        verbose=1, validation_split=0.1)
"""


def test_keras2_mlp_with_a_missing_import():
    result = read(KERAS2_MLP)
    assert result.ok, result.problem_lines()
    d = result.design
    expected = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    same_layers(d, expected)
    notes = "\n".join(result.note_lines())
    assert "line 19: Dense is not imported: read as keras.layers.Dense" in notes
    assert "line 19: the input shape given to the first layer (Keras 2)" in notes
    assert "line 26: RMSprop(lr=) is learning_rate= in Keras 3" in notes
    assert "line 14: mnist is downloaded" in notes and "mnist_local" in notes
    assert d.compile.optimizer == "RMSprop"
    assert d.compile.optimizer_params == {"learning_rate": 0.0005}
    assert d.compile.loss == "categorical_crossentropy" and d.compile.metrics == ["accuracy"]
    assert (d.training.epochs, d.training.batch_size) == (20, 128)
    assert (d.data.dataset, d.data.validation_split) == ("mnist", 0.1)


KERAS2_CNN = """\
    from keras.models import Sequential
    from keras.layers.core import Dense, Flatten, Dropout, Activation
    from keras.layers.convolutional import Convolution2D, MaxPooling2D
    from keras.layers import LeakyReLU, BatchNormalization
    from keras.optimizers import SGD
    from keras import backend as K

    img_rows, img_cols = 28, 28
    model = Sequential()
    model.add(Convolution2D(32, (3, 3), padding='same', input_shape=(img_rows, img_cols, 1)))
    model.add(LeakyReLU(alpha=0.1))
    model.add(BatchNormalization())
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dense(128))
    model.add(Activation('relu'))
    model.add(Dense(10, activation='softmax'))
    sgd = SGD(lr=0.01, momentum=0.9, nesterov=True)
    model.compile(loss='sparse_categorical_crossentropy', optimizer=sgd, metrics=['acc'])
"""


def test_keras2_cnn_with_aliases_and_renamed_arguments():
    result = read(KERAS2_CNN)
    assert result.ok, result.problem_lines()
    expected = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, (3, 3), padding="same"),
            keras.layers.LeakyReLU(negative_slope=0.1),
            keras.layers.BatchNormalization(),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dense(128),
            keras.layers.Activation("relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    same_layers(result.design, expected)
    notes = "\n".join(result.note_lines())
    assert "line 10: Convolution2D is the Keras 2 name of Conv2D" in notes
    assert "line 11: LeakyReLU(alpha=) is negative_slope= in Keras 3" in notes
    c = result.design.compile
    assert c.optimizer == "SGD"
    # lr=0.01 is SGD's own default, which the design keeps without writing it.
    assert c.optimizer_params == {"momentum": 0.9, "nesterov": True}
    assert c.metrics == ["accuracy"]


# ---- tutorials, Keras 3 style ------------------------------------------------------------------
KERAS3_CONVNET = """\
    import keras
    from keras import layers

    num_classes = 10
    input_shape = (28, 28, 1)
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()

    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    batch_size = 128
    epochs = 15
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=2)]
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1,
              callbacks=callbacks)
"""


def test_keras3_convnet_with_fit_settings_and_callbacks():
    result = read(KERAS3_CONVNET)
    assert result.ok, result.problem_lines()
    same_layers(result.design, mnist_convnet())  # the code's model, written by hand
    t = result.design.training
    assert (t.epochs, t.batch_size, t.early_stopping, t.patience) == (15, 128, True, 2)
    assert not t.checkpoint  # the code saves no checkpoints
    assert result.design.data.dataset == "fashion_mnist"
    assert any("fashion_mnist_local" in n for n in result.note_lines())


FUNCTIONAL = """\
    import tensorflow as tf
    from tensorflow.keras import layers, Model, Input

    def conv_block(x, filters):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        return layers.MaxPooling2D()(x)

    image = Input(shape=(32, 32, 3), name="image")
    meta = Input(shape=(5,), name="meta")
    x = image
    for filters in [16, 32]:
        x = conv_block(x, filters)
    skip = layers.Conv2D(32, 1)(x)
    x = layers.Conv2D(32, 3, padding="same")(x)
    x = x + skip
    x = layers.GlobalAveragePooling2D()(x)
    m = layers.Dense(8, activation="relu")(meta)
    joined = layers.concatenate([x, m])
    label = layers.Dense(10, activation="softmax", name="label")(joined)
    score = layers.Dense(1, name="score")(joined)
    model = Model(inputs=[image, meta], outputs=[label, score])
    model.compile(optimizer=tf.keras.optimizers.Adam(3e-4), loss="mse")
"""


def test_functional_branches_merges_and_several_inputs_and_outputs():
    result = read(FUNCTIONAL)
    assert result.ok, result.problem_lines()
    d = result.design
    L = keras.layers
    image, meta = keras.Input((32, 32, 3)), keras.Input((5,))
    x = image
    for filters in [16, 32]:
        x = L.MaxPooling2D()(L.Conv2D(filters, 3, padding="same", activation="relu")(x))
    skip = L.Conv2D(32, 1)(x)
    x = L.Add()([L.Conv2D(32, 3, padding="same")(x), skip])
    x = L.GlobalAveragePooling2D()(x)
    joined = L.Concatenate()([x, L.Dense(8, activation="relu")(meta)])
    outs = [L.Dense(10, activation="softmax")(joined), L.Dense(1)(joined)]
    expected = keras.Model([image, meta], outs)
    analysis = analyze(d)
    assert analysis.ok, analysis.problems
    assert d.input_ids() == ["image", "meta"] and d.output_ids() == ["label", "score"]
    assert analysis.total_params == expected.count_params()
    for node_id, layer in (("label", expected.layers[-2]), ("score", expected.layers[-1])):
        assert analysis.nodes[node_id].params == layer.count_params()
    merges = [n for n in d.nodes if n.type in ("Add", "Concatenate")]
    assert len(merges) == 2 and all(len(d.predecessors(n.id)) == 2 for n in merges)
    assert any("`x + skip` read as a Add layer" in n for n in result.note_lines())
    assert d.compile.optimizer_params == {"learning_rate": 0.0003}
    assert d.compile.loss == "mean_squared_error"


TRANSFER = """\
    from tensorflow.keras.applications import MobileNetV2
    from tensorflow.keras.layers import Dense, GlobalAveragePooling2D, Dropout
    from tensorflow.keras.models import Model

    base = MobileNetV2(weights="imagenet", include_top=False, input_shape=(64, 64, 3))
    base.trainable = False
    x = base.output
    x = GlobalAveragePooling2D()(x)
    x = Dropout(0.2)(x)
    predictions = Dense(5, activation="softmax")(x)
    model = Model(inputs=base.input, outputs=predictions)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
"""


def test_transfer_learning_base_is_one_node():
    result = read(TRANSFER)
    assert result.ok, result.problem_lines()
    d = result.design
    base = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(64, 64, 3))
    x = keras.layers.GlobalAveragePooling2D()(base.output)
    x = keras.layers.Dropout(0.2)(x)
    expected = keras.Model(base.input, keras.layers.Dense(5, activation="softmax")(x))
    analysis = analyze(d)
    assert analysis.ok, analysis.problems
    assert [n.type for n in d.nodes] == [
        "Input",
        "MobileNetV2",
        "GlobalAveragePooling2D",
        "Dropout",
        "Dense",
    ]
    assert d.nodes[0].params["shape"] == [64, 64, 3]
    assert d.nodes[1].params == {"weights": "imagenet", "trainable": False}
    assert analysis.total_params == expected.count_params()
    assert analysis.nodes[d.nodes[1].id].params == base.count_params()


def test_a_base_without_input_shape_gets_a_default_and_says_so():
    code = TRANSFER.replace(", input_shape=(64, 64, 3)", "")
    result = read(code)
    assert result.ok, result.problem_lines()
    assert result.design.nodes[0].params["shape"] == [224, 224, 3]
    assert any(
        line.startswith("line 5: MobileNetV2 has no input_shape: (224, 224, 3) is used")
        for line in result.note_lines()
    )


# ---- what cannot be read ----------------------------------------------------------------------
SUBCLASSED = """\
    import keras
    from keras import layers

    class MyModel(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense1 = layers.Dense(64, activation="relu")
            self.dense2 = layers.Dense(10)

        def call(self, inputs):
            return self.dense2(self.dense1(inputs))

    model = MyModel()
    model.compile(optimizer="adam", loss="mse")
"""


def test_a_subclassed_model_gives_no_design_and_says_how_to_rewrite_it():
    result = read(SUBCLASSED)
    assert result.design is None and not result.ok
    [line] = result.problem_lines()
    assert line.startswith("line 4: MyModel subclasses keras.Model")
    assert "Rewrite it as a functional model" in line


LAMBDA_AND_USER_CODE = """\
    import keras
    from keras import layers
    from mylib import attention_block

    inputs = keras.Input(shape=(20,))
    x = layers.Dense(32, activation="relu")(inputs)
    x = layers.Lambda(lambda t: t * 2)(x)
    x = attention_block(x)
    outputs = layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
"""


def test_lambda_and_user_code_are_reported_by_line_and_left_out():
    result = read(LAMBDA_AND_USER_CODE)
    assert result.design is not None and not result.ok
    problems = "\n".join(result.problem_lines())
    assert "line 7: a Lambda layer runs Python code" in problems
    said = "line 8: `attention_block(...)` is code the reader does not follow (from mylib)"
    assert said in problems
    inputs = keras.Input(shape=(20,))
    x = keras.layers.Dense(32, activation="relu")(inputs)
    expected = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    same_layers(result.design, expected)


def test_a_shape_that_cannot_be_known_uses_the_data_sets_and_says_so():
    code = """\
        from tensorflow import keras
        (x_train, y_train), _ = keras.datasets.mnist.load_data()
        model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10)])
    """
    result = read(code)
    assert result.ok
    assert result.design.nodes[0].params["shape"] == [28, 28, 1]
    said = "line 3: the model does not say its input shape: (28, 28, 1), the data set's, is used"
    assert said in result.note_lines()


def test_an_argument_that_cannot_be_known_is_a_problem_with_its_line():
    code = """\
        import sys
        import keras
        units = int(sys.argv[1])
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units)])
    """
    result = read(code)
    assert result.design is not None
    assert any(line.startswith("line 4: Dense: units") for line in result.problem_lines())


# ---- the file never runs ------------------------------------------------------------------------
def test_code_that_would_create_files_is_read_without_running(tmp_path, capsys):
    from designer.cli import main

    marks = [tmp_path / f"ran_{i}" for i in range(7)]
    evil = tmp_path / "evil_helper.py"
    evil.write_text(f"open({str(marks[6])!r}, 'w').write('imported')\n")
    code = f"""\
import os, sys
sys.path.insert(0, {str(tmp_path)!r})
import evil_helper
from keras import layers
import keras
open({str(marks[0])!r}, "w").write("top level")
units = len(open({str(marks[1])!r}, "w").write("argument") * "x") or 8

class Init(keras.initializers.Initializer):
    def __init__(self):
        open({str(marks[2])!r}, "w").write("initializer")

def make_name():
    os.system("touch {marks[3]}")
    return "dense"

model = keras.Sequential([
    keras.Input(shape=(4,)),
    layers.Dense(units, name=make_name(), kernel_initializer=Init()),
    layers.Dense(__import__("os").system("touch {marks[4]}") or 2),
])
eval(compile("open({str(marks[5])!r}, 'w')", "x", "exec"))
exec("import os; os.system('touch {marks[5]}')")
model.compile(optimizer="adam", loss="mse")
"""
    script = tmp_path / "evil.py"
    script.write_text(code)
    result = import_source(code)
    code_main = main(["import", str(script), "-o", str(tmp_path / "evil.json")])
    assert code_main == 1  # written, with what it could not read said by line
    assert (tmp_path / "evil.json").is_file()
    assert result.design is not None
    assert not [m.name for m in marks if m.exists()]
    assert "evil_helper" not in sys.modules
    out = capsys.readouterr().out
    assert all(line.startswith("line ") for line in out.splitlines())


# ---- the command line ---------------------------------------------------------------------------
def run(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [PY, "-m", "designer.cli", *args], capture_output=True, text=True, timeout=300, env=env
    )


def test_cli_exit_codes_and_line_reports(tmp_path):
    good, lossy, subclass, broken, binary = (tmp_path / f"{n}.py" for n in "abcde")
    good.write_text(textwrap.dedent(KERAS2_MLP))
    lossy.write_text(textwrap.dedent(LAMBDA_AND_USER_CODE))
    subclass.write_text(textwrap.dedent(SUBCLASSED))
    broken.write_text("import keras\nmodel = keras.Sequential([\n")
    binary.write_bytes(b"\xff\xfe\x00\x01")

    r = run("import", str(good), "-o", str(tmp_path / "a.json"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ""
    assert "line 19: Dense is not imported: read as keras.layers.Dense" in r.stderr.splitlines()
    assert (tmp_path / "a.json").is_file()

    r = run("import", str(lossy), "-o", str(tmp_path / "b.json"))
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines and all(line.startswith("line ") for line in lines)
    assert lines[0].startswith("line 7: a Lambda layer")
    assert (tmp_path / "b.json").is_file()

    r = run("import", str(subclass), "-o", str(tmp_path / "c.json"))
    assert r.returncode == 1
    assert r.stdout.startswith("line 4: MyModel subclasses keras.Model")
    assert not (tmp_path / "c.json").exists()

    r = run("import", str(broken), "-o", str(tmp_path / "d.json"))
    assert r.returncode == 2
    assert r.stdout.startswith("line 2: syntax error")
    assert not (tmp_path / "d.json").exists()

    r = run("import", str(binary), "-o", str(tmp_path / "e.json"))
    assert r.returncode == 2 and "not a Python file" in r.stderr


# ---- round trip ----------------------------------------------------------------------------------
def _params(node):
    spec = catalog.LAYERS[node.type]
    return resolved(spec.params, node.params)


def _variants():
    """Settings the templates leave at their defaults: callbacks, seeds, splits, optimizer
    arguments, metrics, a kept regularizer, augmentation on a functional graph."""
    d = templates.get("mini-resnet")
    d.augmentation = [
        Node("flip", "RandomFlip", {"mode": "horizontal"}),
        Node("rot", "RandomRotation", {"factor": 0.05}),
    ]
    t = d.training
    t.early_stopping, t.patience, t.reduce_lr, t.tensorboard = True, 3, True, True
    t.checkpoint, t.seed = False, 7
    yield d
    d = templates.get("moons-mlp")
    d.compile.optimizer = "SGD"
    d.compile.optimizer_params = {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}
    d.compile.metrics = ["accuracy", "auc"]
    d.data.validation_split, d.data.test_split, d.data.seed = 0.1, 0.3, 3
    yield d
    d = templates.get("diabetes-mlp")
    d.compile.metrics, d.compile.loss = ["mae", "rmse"], "huber"
    l2 = {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.001}}
    d.node("hidden1").params["keras"] = {"kernel_regularizer": l2 | {"registered_name": None}}
    yield d
    d = templates.get("text-lstm")
    d.node("lstm").params["dropout"] = 0.1
    d.compile.optimizer, d.compile.optimizer_params = "RMSprop", {"rho": 0.8}
    yield d


DESIGNS = [templates.get(tid) for tid in templates.TEMPLATES] + list(_variants())


@pytest.mark.parametrize("design", DESIGNS, ids=lambda d: d.name)
def test_generated_script_imports_back_to_the_same_design(design):
    result = import_source(generate(design), design.name)
    assert result.ok, result.problem_lines()
    back = result.design
    assert {n.id: (n.type, _params(n)) for n in back.nodes} == {
        n.id: (n.type, _params(n)) for n in design.nodes
    }
    for node_id in design.node_ids():  # edges, in input order for merges
        assert back.predecessors(node_id) == design.predecessors(node_id)
    assert len(back.edges) == len(design.edges)
    assert back.input_ids() == design.input_ids() and back.output_ids() == design.output_ids()
    assert [(n.id, n.type, _params(n)) for n in back.augmentation] == [
        (n.id, n.type, _params(n)) for n in design.augmentation
    ]
    assert resolve(back, dataset_task(back)) == resolve(design, dataset_task(design))
    assert back.training == design.training
    assert back.data == design.data


TF_QUICKSTART = """\
    import tensorflow as tf
    mnist = tf.keras.datasets.mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    model = tf.keras.models.Sequential([
      tf.keras.layers.Flatten(input_shape=(28, 28)),
      tf.keras.layers.Dense(128, activation='relu'),
      tf.keras.layers.Dropout(0.2),
      tf.keras.layers.Dense(10)
    ])
    predictions = model(x_train[:1]).numpy()
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer='adam', loss=loss_fn, metrics=['accuracy'])
    model.fit(x_train, y_train, epochs=5)
"""


def test_tf_keras_quickstart_reports_the_logits_loss():
    result = read(TF_QUICKSTART)
    expected = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10),
        ]
    )
    same_layers(result.design, expected)
    [problem] = result.problem_lines()
    assert problem.startswith("line 11: compile: SparseCategoricalCrossentropy(from_logits=")
    assert result.design.training.epochs == 5 and result.design.data.dataset == "mnist"


@pytest.mark.parametrize("snippet", [KERAS2_MLP, FUNCTIONAL])
def test_code_with_any_one_line_missing_is_read_or_refused_in_one_line(snippet):
    """Half-written code (a line deleted anywhere) never trips the reader."""
    from designer.codeimport import SourceError

    lines = textwrap.dedent(snippet).splitlines()
    for i in range(len(lines)):
        code = "\n".join(lines[:i] + lines[i + 1 :])
        try:
            result = import_source(code)
        except SourceError as exc:
            assert str(exc).startswith("line ")
            continue
        assert all(line.startswith("line ") for line in result.problem_lines())


IMPORT_STYLES = """\
    import tensorflow as tf
    import tensorflow.keras as K
    import keras.layers as kl
    from tensorflow.keras import layers as L
    from keras.layers import *
    from tensorflow.keras.optimizers.legacy import Adam

    inp = K.Input(shape=(16,))
    x = tf.keras.layers.Dense(32, activation="relu")(inp)
    x = kl.Dense(32, activation="relu")(x)
    x = L.BatchNormalization()(x)
    frozen = Dense(8)
    x = frozen(x)
    frozen.trainable = False
    out = K.layers.Dense(1, activation="sigmoid")(x)
    model = K.models.Model(inp, out)
    for layer in model.layers[:2]:
        layer.trainable = False
    model.compile(optimizer=Adam(lr=0.01), loss="binary_crossentropy")
"""


def test_every_way_of_importing_keras_reads_the_same_layers():
    result = read(IMPORT_STYLES)
    inp = keras.Input(shape=(16,))
    x = keras.layers.Dense(32, activation="relu")(inp)
    x = keras.layers.Dense(32, activation="relu")(x)
    x = keras.layers.BatchNormalization()(x)
    frozen = keras.layers.Dense(8)
    x = frozen(x)
    frozen.trainable = False
    expected = keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(x))
    same_layers(result.design, expected)
    assert result.design.node("dense_2").params["keras"] == {"trainable": False}
    assert not any("not imported" in n for n in result.note_lines())  # the * import has Dense
    assert result.design.compile.optimizer_params == {"learning_rate": 0.01}
    [problem] = result.problem_lines()  # the loop over the model's layers is not followed
    assert problem.startswith("line 17: the loop over `model.layers[:2]` cannot be followed")


def test_outside_code_given_the_model_is_reported_and_harmless_calls_are_not():
    code = """\
        import keras
        import tensorflow as tf
        from helpers import add_blocks

        inputs = keras.Input(shape=(4,))
        x = keras.layers.Dense(8)(inputs)
        tf.print(x)
        model = keras.Model(inputs, keras.layers.Dense(1)(x))
        add_blocks(model)
        keras.utils.plot_model(model, "model.png")
        print(model.summary())
        other = keras.models.load_model("old.keras")
    """
    result = read(code)
    assert result.design is not None
    assert result.problem_lines() == [
        "line 9: `add_blocks(...)` is code the reader does not follow (from helpers): what it "
        "does to the model is not read",
        "line 12: load_model reads a saved model, not code: import that .keras file instead "
        "(keras-designer import MODEL.keras, or Open on the Home page)",
    ]


AUTOENCODER = """\
    import keras
    from keras import layers

    encoder_input = keras.Input(shape=(28, 28, 1), name="original_img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.MaxPooling2D(3)(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")

    decoder_input = keras.Input(shape=(16,), name="encoded_img")
    x = layers.Reshape((4, 4, 1))(decoder_input)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)
    decoder = keras.Model(decoder_input, decoder_output, name="decoder")

    autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
    encoded_img = encoder(autoencoder_input)
    decoded_img = decoder(encoded_img)
    autoencoder = keras.Model(autoencoder_input, decoded_img, name="autoencoder")
    autoencoder.compile(optimizer="adam", loss="mse")
"""


def test_models_called_as_layers_are_opened_up():  # keras.io guides/functional_api
    result = read(AUTOENCODER)
    assert result.ok, result.problem_lines()
    L = keras.layers
    inp = keras.Input(shape=(28, 28, 1))
    x = L.GlobalMaxPooling2D()(L.MaxPooling2D(3)(L.Conv2D(16, 3, activation="relu")(inp)))
    x = L.Conv2DTranspose(1, 3, activation="relu")(L.Reshape((4, 4, 1))(x))
    same_layers(result.design, keras.Model(inp, x))
    assert result.design.name == "autoencoder" and result.design.input_ids() == ["img"]
    assert "line 16: a functional model called as a layer is opened up into its layers" in (
        result.note_lines()
    )


SCRATCH = """\
    import keras
    from keras import layers

    image_size = (64, 64)
    data_augmentation_layers = [
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
    ]


    def data_augmentation(images):
        for layer in data_augmentation_layers:
            images = layer(images)
        return images


    def make_model(input_shape, num_classes):
        inputs = keras.Input(shape=input_shape)

        # Entry block
        x = layers.Rescaling(1.0 / 255)(inputs)
        x = layers.Conv2D(128, 3, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)

        previous_block_activation = x  # Set aside residual

        for size in [256, 512, 728]:
            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(size, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)

            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(size, 3, padding="same")(x)
            x = layers.BatchNormalization()(x)

            x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

            # Project residual
            residual = layers.Conv2D(size, 1, strides=2, padding="same")(
                previous_block_activation
            )
            x = layers.add([x, residual])  # Add back residual
            previous_block_activation = x  # Set aside next residual

        x = layers.SeparableConv2D(1024, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)

        x = layers.GlobalAveragePooling2D()(x)
        if num_classes == 2:
            units = 1
        else:
            units = num_classes

        x = layers.Dropout(0.25)(x)
        # We specify activation=None so as to return logits
        outputs = layers.Dense(units, activation=None)(x)
        return keras.Model(inputs, outputs)


    model = make_model(input_shape=image_size + (3,), num_classes=2)
    epochs = 25
    callbacks = [
        keras.callbacks.ModelCheckpoint("save_at_{epoch}.keras"),
    ]
    model.compile(
        optimizer=keras.optimizers.Adam(3e-4),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(name="acc")],
    )
    model.fit(
        train_ds,
        epochs=epochs,
        callbacks=callbacks,
        validation_data=val_ds,
    )
"""


def test_image_classification_from_scratch():  # keras.io examples/vision, as written there
    result = read(SCRATCH)
    assert [p.split(": ")[1] for p in result.problem_lines()] == ["compile"]
    L = keras.layers
    inputs = keras.Input(shape=(64, 64, 3))
    x = L.Rescaling(1.0 / 255)(inputs)
    x = L.Activation("relu")(L.BatchNormalization()(L.Conv2D(128, 3, strides=2, padding="same")(x)))
    previous = x
    for size in [256, 512, 728]:
        for _ in range(2):
            x = L.Activation("relu")(x)
            x = L.BatchNormalization()(L.SeparableConv2D(size, 3, padding="same")(x))
        x = L.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = L.Conv2D(size, 1, strides=2, padding="same")(previous)
        x = previous = L.Add()([x, residual])
    x = L.BatchNormalization()(L.SeparableConv2D(1024, 3, padding="same")(x))
    x = L.GlobalAveragePooling2D()(L.Activation("relu")(x))
    expected = keras.Model(inputs, L.Dense(1)(L.Dropout(0.25)(x)))
    analysis = analyze(result.design)
    assert analysis.ok and analysis.total_params == expected.count_params()
    # Layer by layer (Keras may order the branches of a residual block differently).
    got = sorted(
        (r.type, tuple(r.output_shape), r.params)
        for r in analysis.nodes.values()
        if r.type != "Input"
    )
    want = sorted(
        (type(layer).__name__, tuple(layer.output.shape), layer.count_params())
        for layer in expected.layers
        if type(layer).__name__ != "InputLayer"
    )
    assert got == want
    d = result.design
    assert d.compile.optimizer_params == {"learning_rate": 0.0003}
    assert (d.compile.loss, d.compile.metrics) == ("binary_crossentropy", ["accuracy"])
    assert d.training.epochs == 25 and d.training.checkpoint


KERAS2_MNIST_CNN = """\
    '''Trains a simple convnet on the MNIST dataset (keras/examples/mnist_cnn.py, Keras 2).'''
    from __future__ import print_function
    import keras
    from keras.datasets import mnist
    from keras.models import Sequential
    from keras.layers import Dense, Dropout, Flatten
    from keras.layers import Conv2D, MaxPooling2D
    from keras import backend as K

    batch_size = 128
    num_classes = 10
    epochs = 12

    # input image dimensions
    img_rows, img_cols = 28, 28

    # the data, split between train and test sets
    (x_train, y_train), (x_test, y_test) = mnist.load_data()

    if K.image_data_format() == 'channels_first':
        x_train = x_train.reshape(x_train.shape[0], 1, img_rows, img_cols)
        x_test = x_test.reshape(x_test.shape[0], 1, img_rows, img_cols)
        input_shape = (1, img_rows, img_cols)
    else:
        x_train = x_train.reshape(x_train.shape[0], img_rows, img_cols, 1)
        x_test = x_test.reshape(x_test.shape[0], img_rows, img_cols, 1)
        input_shape = (img_rows, img_cols, 1)

    x_train = x_train.astype('float32')
    x_train /= 255
    print('x_train shape:', x_train.shape)

    y_train = keras.utils.to_categorical(y_train, num_classes)

    model = Sequential()
    model.add(Conv2D(32, kernel_size=(3, 3),
                     activation='relu',
                     input_shape=input_shape))
    model.add(Conv2D(64, (3, 3), activation='relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(128, activation='relu'))
    model.add(Dropout(0.5))
    model.add(Dense(num_classes, activation='softmax'))

    model.compile(loss=keras.losses.categorical_crossentropy,
                  optimizer=keras.optimizers.Adadelta(),
                  metrics=['accuracy'])

    model.fit(x_train, y_train,
              batch_size=batch_size,
              epochs=epochs,
              verbose=1,
              validation_data=(x_test, y_test))
    score = model.evaluate(x_test, y_test, verbose=0)
"""


def test_keras2_mnist_cnn_with_its_channels_first_branch():  # keras/examples/mnist_cnn.py
    result = read(KERAS2_MNIST_CNN)
    assert result.ok, result.problem_lines()
    assert "line 20: image_data_format() is read as 'channels_last', Keras' default" in (
        result.note_lines()
    )
    L = keras.layers
    expected = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            L.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            L.Conv2D(64, (3, 3), activation="relu"),
            L.MaxPooling2D(pool_size=(2, 2)),
            L.Dropout(0.25),
            L.Flatten(),
            L.Dense(128, activation="relu"),
            L.Dropout(0.5),
            L.Dense(10, activation="softmax"),
        ]
    )
    same_layers(result.design, expected)
    assert result.design.compile.optimizer == "Adadelta"
    assert result.design.compile.loss == "categorical_crossentropy"


def test_a_value_set_under_a_condition_only_running_could_decide_is_reported():
    code = """\
        import sys
        import keras
        if len(sys.argv) > 1:
            shape = (1, 28, 28)
        else:
            shape = (28, 28, 1)
        model = keras.Sequential([keras.Input(shape), keras.layers.Flatten()])
    """
    result = read(code)
    assert result.problem_lines() == [
        "line 3: `if len(sys.argv) > 1` cannot be decided without running the code: its first "
        "branch was read"
    ]


KERAS2_IMDB_LSTM = """\
    '''Trains an LSTM model on the IMDB sentiment classification task (imdb_lstm.py).'''
    from __future__ import print_function

    from keras.preprocessing import sequence
    from keras.models import Sequential
    from keras.layers import Dense, Embedding
    from keras.layers import LSTM
    from keras.datasets import imdb

    max_features = 20000
    maxlen = 80  # cut texts after this number of words (among top max_features most common words)
    batch_size = 32

    print('Loading data...')
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=max_features)
    print(len(x_train), 'train sequences')

    print('Pad sequences (samples x time)')
    x_train = sequence.pad_sequences(x_train, maxlen=maxlen)
    x_test = sequence.pad_sequences(x_test, maxlen=maxlen)

    print('Build model...')
    model = Sequential()
    model.add(Embedding(max_features, 128))
    model.add(LSTM(128, dropout=0.2, recurrent_dropout=0.2))
    model.add(Dense(1, activation='sigmoid'))

    # try using different optimizers and different optimizer configs
    model.compile(loss='binary_crossentropy',
                  optimizer='adam',
                  metrics=['accuracy'])

    print('Train...')
    model.fit(x_train, y_train,
              batch_size=batch_size,
              epochs=15,
              validation_data=(x_test, y_test))
"""


def test_keras2_imdb_lstm_takes_its_input_length_from_pad_sequences():
    result = read(KERAS2_IMDB_LSTM)
    assert result.ok, result.problem_lines()
    expected = keras.Sequential(
        [
            keras.Input((80,), dtype="int32"),
            keras.layers.Embedding(20000, 128),
            keras.layers.LSTM(128, dropout=0.2, recurrent_dropout=0.2),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    same_layers(result.design, expected)
    assert result.design.nodes[0].params == {"shape": [80], "dtype": "int32"}
    notes = result.note_lines()
    assert (
        "line 23: the model does not say its input shape: (80,), the length pad_sequences "
        "gives, is used" in notes
    )
    # The app's IMDB is padded to 200 words: the note says how to make the two fit.
    assert any(n.startswith("line 23: input: Input shape is (80,)") for n in notes)
    assert result.design.data.dataset == "imdb" and result.design.training.epochs == 15


def test_state_from_data_or_files_is_said_not_dropped():
    code = """\
        import keras
        normalizer = keras.layers.Normalization()
        normalizer.adapt(x_train)
        model = keras.Sequential([keras.Input((3,)), normalizer, keras.layers.Dense(1)])
        model.load_weights("best.weights.h5")
    """
    result = read(code)
    assert result.problem_lines() == [
        "line 3: `normalizer.adapt(...)` computes the layer's statistics from data, which is "
        "not read: the layer starts without them"
    ]
    assert "line 5: load_weights: weights are not part of code (import a .keras file)" in (
        result.note_lines()
    )
