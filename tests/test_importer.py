"""Importing .keras files and models: round trips, what cannot be kept, and safety."""

import collections
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from designer import codegen
from designer.design import templates
from designer.model import exporting, importer, modelfile
from designer.model.build import analyze, build_model
from designer.model.sidecar import save_model_weights, sidecar_path

from helpers.keras_examples import mnist_convnet
from helpers.same_model import assert_same_layers

RUFF = Path(sys.executable).with_name("ruff")


def classes(model, *, flat=False):
    """Multiset of layer classes; InputLayers left out (Sequential models do not list theirs)."""
    out = collections.Counter()
    for layer in model.layers:
        if flat and isinstance(layer, keras.Model):
            out += classes(layer, flat=True)
        elif type(layer).__name__ != "InputLayer":
            out[type(layer).__name__] += 1
    return out


def script_model(design):
    """The model built by the generated script's build_model() (after ruff)."""
    text = codegen.generate(design, offline=True)
    lint = subprocess.run(
        [str(RUFF), "check", "--no-cache", "--select", "E,F,W,I,B,UP", "-"],
        input=text,
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout
    ns = {}
    exec(compile(text, "model.py", "exec"), ns)
    return ns["build_model"]()


def round_trip(model, tmp_path, *, via_file=True, flat=False):
    """model -> (.keras ->) design + weights -> .keras -> plain load_model; checks the lot."""
    if via_file:
        model.save(tmp_path / "original.keras")
        result = importer.import_keras(tmp_path / "original.keras")
    else:
        result = importer.import_model(model)
    assert result.ok, result.lines()
    design_path = tmp_path / "design.json"
    result.write(design_path)
    report = exporting.export_keras(
        result.design, tmp_path / "exported.keras", weights_path=sidecar_path(design_path)
    )
    assert not report.fresh
    again = keras.models.load_model(tmp_path / "exported.keras")  # default: safe mode
    assert again.count_params() == model.count_params()
    assert again.input_shape == model.input_shape
    assert again.output_shape == model.output_shape
    assert classes(again, flat=flat) == classes(model, flat=flat)
    return result, again


def same_predictions(a, b, inputs):
    pa, pb = a.predict(inputs, verbose=0), b.predict(inputs, verbose=0)
    pa, pb = (pa if isinstance(pa, list) else [pa]), (pb if isinstance(pb, list) else [pb])
    return all(np.allclose(x, y, atol=1e-5) for x, y in zip(pa, pb))


def random_inputs(model, n=4, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for t in model.inputs:
        shape = (n, *[d or 7 for d in t.shape[1:]])
        out.append(rng.integers(0, 50, shape) if "int" in t.dtype else rng.random(shape))
    return out if len(out) > 1 else out[0]


# ---- templates -------------------------------------------------------------------------------
@pytest.mark.parametrize("tid", list(templates.TEMPLATES))
def test_template_round_trip(tid, tmp_path):
    design = templates.get(tid)
    original = exporting.build_export_model(design)
    result, again = round_trip(original, tmp_path)
    assert sorted(n.id for n in result.design.nodes) == sorted(n.id for n in design.nodes)
    assert [(n.type, n.params) for n in result.design.augmentation] == [
        (n.type, n.params) for n in design.augmentation
    ]
    assert analyze(result.design).total_params == analyze(design).total_params
    # Unchanged design + its weights: the same function, not just the same shape.
    x = random_inputs(original)
    assert same_predictions(original, again, x)
    if tid != "transfer-mobilenetv2":  # its script is built in test_codegen; a base costs seconds
        assert_same_layers(script_model(result.design), original)


# ---- models from the Keras documentation ---------------------------------------------------
# keras.io/examples/vision/image_classification_from_scratch (smaller)
def image_classification_from_scratch():
    augmentation = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)])
    inputs = keras.Input(shape=(64, 64, 3))
    x = augmentation(inputs)
    x = layers.Rescaling(1.0 / 255)(x)
    x = layers.Conv2D(32, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    previous = x
    for size in [64, 128]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous)
        x = layers.add([x, residual])
        previous = x
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.25)(x)
    return keras.Model(inputs, layers.Dense(1, activation=None)(x))


def multi_input_multi_output():  # keras.io/guides/functional_api: the ticket classifier
    title = keras.Input(shape=(None,), name="title")
    body = keras.Input(shape=(None,), name="body")
    tags = keras.Input(shape=(12,), name="tags")
    title_features = layers.LSTM(128)(layers.Embedding(10000, 64)(title))
    body_features = layers.LSTM(32)(layers.Embedding(10000, 64)(body))
    x = layers.concatenate([title_features, body_features, tags])
    priority = layers.Dense(1, name="priority")(x)
    department = layers.Dense(4, name="department")(x)
    return keras.Model(inputs=[title, body, tags], outputs=[priority, department])


def bidirectional_lstm():  # keras.io/examples/nlp/bidirectional_lstm_imdb
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(20000, 128)(inputs)
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    return keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))


def toy_resnet():  # keras.io/guides/functional_api: a toy ResNet model
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])
    x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return keras.Model(inputs, layers.Dense(10)(x), name="toy_resnet")


TUTORIALS = [
    mnist_convnet,
    image_classification_from_scratch,
    multi_input_multi_output,
    bidirectional_lstm,
    toy_resnet,
]


@pytest.mark.parametrize("make", TUTORIALS, ids=lambda f: f.__name__)
def test_keras_tutorial_models_round_trip(make, tmp_path):
    model = make()
    result, again = round_trip(model, tmp_path)
    assert same_predictions(model, again, random_inputs(model))
    assert_same_layers(script_model(result.design), model)  # the tutorial's own layers
    if make is image_classification_from_scratch:  # the nested Sequential is the augmentation
        assert [n.type for n in result.design.augmentation] == ["RandomFlip", "RandomRotation"]
        assert result.design.augmentation[1].params["factor"] == 0.1
    if make is multi_input_multi_output:
        assert result.design.input_ids() == ["title", "body", "tags"]
        assert result.design.output_ids() == ["priority", "department"]


# ---- keras.applications --------------------------------------------------------------------
APPS = ["MobileNetV2", "ResNet50", "DenseNet121", "EfficientNetB0"]


@pytest.mark.parametrize(
    "app", [a if a != "DenseNet121" else pytest.param(a, marks=pytest.mark.slow) for a in APPS]
)
def test_nested_application_becomes_one_base_node(app, tmp_path):
    base = getattr(keras.applications, app)(
        include_top=False, weights=None, input_shape=(32, 32, 3)
    )
    base.trainable = False
    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.GlobalAveragePooling2D()(base(inputs))
    model = keras.Model(inputs, layers.Dense(5, activation="softmax")(x))
    result, again = round_trip(model, tmp_path, via_file=False, flat=True)
    types = [n.type for n in result.design.nodes]
    assert types == ["Input", app, "GlobalAveragePooling2D", "Dense"]
    assert result.design.nodes[1].params == {"weights": None, "trainable": False}
    assert not again.layers[1].trainable
    if app == "MobileNetV2":  # once: each base costs seconds to build and run
        assert same_predictions(model, again, random_inputs(model))
        assert_same_layers(script_model(result.design), model)


@pytest.mark.slow
def test_top_level_application_is_expanded_into_catalog_layers(tmp_path):
    # With its classifier on top this is no catalog base: it comes in layer by layer.
    model = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
    result, _ = round_trip(model, tmp_path, via_file=False)
    assert len(result.design.nodes) == len(model.layers)
    assert sum(len(result.design.predecessors(n)) > 1 for n in result.design.node_ids()) == 16


def test_bare_application_at_top_level_is_one_base_node(tmp_path):
    # VGG16: a catalog base that builds in a blink (19 layers), so the check stays cheap.
    model = keras.applications.VGG16(
        include_top=False, weights=None, input_shape=(32, 32, 3), pooling="max"
    )
    result, _ = round_trip(model, tmp_path, via_file=False, flat=True)
    assert [(n.type, n.params.get("pooling")) for n in result.design.nodes] == [
        ("Input", None),
        ("VGG16", "max"),
    ]


def test_layers_outside_the_catalog_are_reported_by_name():
    inputs = keras.Input((8,))
    outputs = keras.layers.PReLU(name="prelu")(keras.layers.Dense(4, name="dense")(inputs))
    lines = importer.import_model(keras.Model(inputs, outputs)).lines()
    assert (
        "prelu: cannot be represented: prelu: layer type PReLU is not in the catalog "
        "(replace this node)" in lines
    )


@pytest.mark.parametrize("app", ["MobileNetV2", "EfficientNetB0"])
def test_a_whole_application_with_its_classifier_imports_without_loss(app, tmp_path):
    # Asymmetric ZeroPadding2D (both), configured VarianceScaling initializers and Dropout
    # noise_shape (EfficientNet): catalog layers with arguments the form does not offer.
    model = getattr(keras.applications, app)(weights=None, input_shape=(32, 32, 3), classes=10)
    result, again = round_trip(model, tmp_path)  # asserts: nothing reported
    assert len(result.design.nodes) == len(model.layers)
    assert same_predictions(model, again, random_inputs(model))
    assert_same_layers(again, model)
    assert_same_layers(script_model(result.design), model)  # the script keeps them too
    kept = {n.id: n.params["keras"] for n in result.design.nodes if "keras" in n.params}
    pads = {
        la.name: json.loads(json.dumps(la.get_config()["padding"]))
        for la in model.layers
        if type(la).__name__ == "ZeroPadding2D"
    }
    asymmetric = {name: pad for name, pad in pads.items() if pad[0][0] != pad[0][1]}
    assert asymmetric and all(kept[name]["padding"] == pad for name, pad in asymmetric.items())
    if app == "EfficientNetB0":
        shaped = [la for la in model.layers if la.get_config().get("noise_shape") is not None]
        assert shaped and all(
            kept[la.name]["noise_shape"] == list(la.get_config()["noise_shape"]) for la in shaped
        )
        init = kept["stem_conv"]["kernel_initializer"]
        assert (init["class_name"], init["config"]["mode"]) == ("VarianceScaling", "fan_out")


# ---- what a design cannot hold ---------------------------------------------------------------
def test_arguments_the_form_lacks_are_kept_as_keras_serialized_them(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((4,)),
            layers.Dense(
                3,
                kernel_regularizer=keras.regularizers.L1L2(l1=0.01, l2=0.02),
                kernel_constraint=keras.constraints.MaxNorm(2.0),
                bias_initializer=keras.initializers.Constant(0.5),
                name="reg",
            ),
            layers.Dense(2, trainable=False, name="frozen"),
            layers.Dense(2, name="plain"),
        ]
    )
    result, again = round_trip(model, tmp_path)
    assert result.design.node("reg").params["units"] == 3
    kept = result.design.node("reg").params["keras"]
    assert sorted(kept) == ["bias_initializer", "kernel_constraint", "kernel_regularizer"]
    assert kept["kernel_regularizer"]["config"] == {"l1": 0.01, "l2": 0.02}
    assert result.design.node("frozen").params["keras"] == {"trainable": False}
    assert "keras" not in result.design.node("plain").params
    assert_same_layers(again, model)
    assert not again.get_layer("frozen").trainable
    assert_same_layers(script_model(result.design), model)


def test_shared_layer_becomes_two_nodes_and_is_reported():
    a, b = keras.Input((10,), dtype="int32"), keras.Input((10,), dtype="int32")
    shared = layers.Embedding(1000, 16, name="shared_embedding")
    pooled = [layers.GlobalAveragePooling1D()(shared(t)) for t in (a, b)]
    model = keras.Model([a, b], layers.Dense(1)(layers.concatenate(pooled)))
    result = importer.import_model(model)
    assert [n.id for n in result.design.nodes if n.type == "Embedding"] == [
        "shared_embedding",
        "shared_embedding_2",
    ]
    assert len(result.problems) == 1 and "shared layer used 2 times" in result.lines()[0]
    assert result.lines()[0].startswith("shared_embedding: cannot be represented: shared_embedding")
    w = result.weights
    assert np.array_equal(w["shared_embedding"][0], w["shared_embedding_2"][0])


def test_compile_settings_and_layout_are_imported():
    model = toy_resnet()
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    design = importer.import_model(model).design
    assert design.compile.optimizer == "SGD"
    assert design.compile.optimizer_params == {"learning_rate": 0.05, "momentum": 0.9}
    assert design.compile.loss == "sparse_categorical_crossentropy"
    positions = design.layout
    assert set(positions) == set(design.node_ids())
    assert len({(p["x"], p["y"]) for p in positions.values()}) == len(positions)
    for e in design.edges:  # every connection points downwards: rows by depth
        assert positions[e.target]["y"] > positions[e.source]["y"]


# ---- weights -----------------------------------------------------------------------------------
def trained_model():
    inputs = keras.Input((8, 8, 1), name="pixels")
    x = layers.Conv2D(8, 3, activation="relu", name="conv")(inputs)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Flatten(name="flat")(x)
    x = layers.Dropout(0.3, name="drop")(x)
    model = keras.Model(inputs, layers.Dense(10, activation="softmax", name="head")(x))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(1)
    model.fit(rng.random((64, 8, 8, 1)), rng.integers(0, 10, 64), epochs=1, verbose=0)
    return model


def test_trained_model_keeps_its_weights_and_edited_layers_start_fresh(tmp_path):
    model = trained_model()
    model.save(tmp_path / "trained.keras")
    result = importer.import_keras(tmp_path / "trained.keras")
    result.write(tmp_path / "d.json")
    weights = tmp_path / "d.weights.h5"
    exporting.export_keras(result.design, tmp_path / "same.keras", weights_path=weights)
    same = keras.models.load_model(tmp_path / "same.keras")
    x = np.random.default_rng(2).random((16, 8, 8, 1))
    assert np.allclose(model.predict(x, verbose=0), same.predict(x, verbose=0), atol=1e-6)
    # A new head (3 classes): the rest keeps its trained weights, the head starts fresh.
    result.design.node("head").params["units"] = 3
    report = exporting.export_keras(result.design, tmp_path / "edited.keras", weights_path=weights)
    assert sorted(report.restored) == ["bn", "conv"] and list(report.fresh) == ["head"]
    edited = keras.models.load_model(tmp_path / "edited.keras")
    for name in ("conv", "bn"):
        for a, b in zip(model.get_layer(name).get_weights(), edited.get_layer(name).get_weights()):
            assert np.array_equal(a, b)


def test_weights_saved_after_training_come_back_on_export(tmp_path):
    design = templates.get("digits-mlp")
    model = build_model(design)  # stands in for the trainer's model: layers named by node ids
    model.get_layer("output").set_weights(
        [w + 0.5 for w in model.get_layer("output").get_weights()]
    )
    assert save_model_weights(tmp_path / "d.weights.h5", design, model) == 2
    exporting.export_keras(design, tmp_path / "d.keras", weights_path=tmp_path / "d.weights.h5")
    again = keras.models.load_model(tmp_path / "d.keras")
    x = np.random.default_rng(3).random((5, 8, 8, 1))
    assert np.allclose(model.predict(x, verbose=0), again.predict(x, verbose=0), atol=1e-6)


# ---- how a file is loaded ------------------------------------------------------------------------
def _same_weights(result, model):
    kept = {layer.name: layer.get_weights() for layer in model.layers if layer.weights}
    assert sorted(result.weights) == sorted(kept)
    return all(
        len(result.weights[name]) == len(arrays)
        and all(np.array_equal(a, b) for a, b in zip(result.weights[name], arrays))
        for name, arrays in kept.items()
    )


def test_weights_are_the_files_even_if_the_session_is_cleared_meanwhile(tmp_path, monkeypatch):
    # The file is loaded without drawing random weights (a stateless scope); Streamlit calls
    # keras.backend.clear_session() after every script run, in any session, which drops that
    # scope: the weights must still be the file's, never fresh random ones.
    model = toy_resnet()
    model.save(tmp_path / "m.keras")
    calls = []
    call = importer._Walker._call

    def clearing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            keras.backend.clear_session(free_memory=False)
        return call(self, *args, **kwargs)

    monkeypatch.setattr(importer._Walker, "_call", clearing)
    assert _same_weights(importer.import_keras(tmp_path / "m.keras"), model)


def test_a_model_the_stateless_load_refuses_is_loaded_as_keras_does(tmp_path):
    # A stateful RNN makes its state variables from values, which a stateless scope refuses.
    inputs = keras.Input(batch_shape=(2, 5, 3))
    model = keras.Model(inputs, layers.LSTM(4, stateful=True, name="lstm")(inputs))
    model.save(tmp_path / "stateful.keras")
    assert _same_weights(importer.import_keras(tmp_path / "stateful.keras"), model)


# ---- safety ------------------------------------------------------------------------------------
def test_lambda_model_is_refused_and_nothing_in_it_runs(tmp_path):
    marker = tmp_path / "marker"
    touch = eval(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]")
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Lambda(touch, name="sneaky")(layers.Dense(2)(inputs)))
    marker.unlink()  # building the model ran it once; from here on it must not run
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(modelfile.ModelFileError, match="'sneaky'.*Lambda"):
        importer.import_keras(tmp_path / "lambda.keras")
    assert not marker.exists()
    with pytest.raises(modelfile.ModelFileError, match="sneaky"):
        importer.import_model(model)
    # The control: Keras itself, with safe mode off, does run the code in the file.
    keras.saving.load_model(tmp_path / "lambda.keras", safe_mode=False)
    assert marker.exists()


def _rewrite_config(src, dst, change):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                change(config)
                data = json.dumps(config).encode()
            zout.writestr(item, data)


def test_custom_classes_are_refused_by_layer_name(tmp_path):
    build_model(templates.get("digits-mlp")).save(tmp_path / "ok.keras")

    def custom(config):
        layer = config["config"]["layers"][2]
        layer.update(module="evil.layers", registered_name="evil>Dense")

    _rewrite_config(tmp_path / "ok.keras", tmp_path / "custom.keras", custom)
    with pytest.raises(modelfile.ModelFileError, match="layer 'dense' is refused.*'evil.layers'"):
        importer.import_keras(tmp_path / "custom.keras")

    def subclassed(config):
        config.update(class_name="MyModel", module="mine", registered_name="mine>MyModel")

    _rewrite_config(tmp_path / "ok.keras", tmp_path / "sub.keras", subclassed)
    with pytest.raises(modelfile.ModelFileError, match="only Sequential and Functional"):
        importer.import_keras(tmp_path / "sub.keras")


def test_files_that_are_not_keras_models_are_refused(tmp_path, monkeypatch):
    (tmp_path / "text.keras").write_text("hello")
    with pytest.raises(modelfile.ModelFileError, match="not a .keras file"):
        importer.import_keras(tmp_path / "text.keras")
    with zipfile.ZipFile(tmp_path / "empty.keras", "w") as z:
        z.writestr("metadata.json", "{}")
    with pytest.raises(modelfile.ModelFileError, match="no config.json"):
        importer.import_keras(tmp_path / "empty.keras")
    (tmp_path / "old.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(modelfile.ModelFileError, match="HDF5"):
        importer.import_keras(tmp_path / "old.h5")
    build_model(templates.get("moons-mlp")).save(tmp_path / "big.keras")
    monkeypatch.setattr(modelfile, "MAX_MODEL_BYTES", 1000)
    with pytest.raises(modelfile.ModelFileError, match="larger than"):
        importer.import_keras(tmp_path / "big.keras")
    with pytest.raises(modelfile.ModelFileError, match="cannot read"):
        importer.import_keras(tmp_path / "missing.keras")
