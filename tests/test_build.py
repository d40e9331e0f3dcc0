"""The builder against models written directly with Keras, and its messages for mistakes."""

import pytest

from designer.design import templates
from designer.design.spec import Design, Edge, Node
from designer.model.build import analyze, build_model


def keras_reference(template_id):
    """Each template written by hand with Keras, as the tutorials write it."""
    import keras
    from keras import layers

    if template_id == "digits-mlp":
        return keras.Sequential(
            [
                keras.Input((8, 8, 1)),
                layers.Flatten(),
                layers.Dense(64, activation="relu"),
                layers.Dropout(0.2),
                layers.Dense(10, activation="softmax"),
            ]
        )
    if template_id == "mnist-mlp":
        return keras.Sequential(
            [
                keras.Input((784,)),
                layers.Dense(128, activation="relu"),
                layers.Dropout(0.5),
                layers.Dense(10, activation="softmax"),
            ]
        )
    if template_id == "cifar10-cnn":
        return keras.Sequential(
            [
                keras.Input((32, 32, 3)),
                layers.Conv2D(32, 3, activation="relu"),
                layers.MaxPooling2D(2),
                layers.Dropout(0.25),
                layers.Conv2D(64, 3, activation="relu"),
                layers.MaxPooling2D(2),
                layers.Dropout(0.25),
                layers.Flatten(),
                layers.Dense(512, activation="relu"),
                layers.Dropout(0.5),
                layers.Dense(10, activation="softmax"),
            ]
        )
    if template_id == "lenet5":
        return keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                layers.Conv2D(6, 5, padding="same", activation="tanh"),
                layers.AveragePooling2D(2),
                layers.Conv2D(16, 5, activation="tanh"),
                layers.AveragePooling2D(2),
                layers.Flatten(),
                layers.Dense(120, activation="tanh"),
                layers.Dense(84, activation="tanh"),
                layers.Dense(10, activation="softmax"),
            ]
        )
    if template_id == "mini-resnet":
        inp = keras.Input((32, 32, 3))
        x = layers.Conv2D(32, 3, padding="same", activation="relu")(inp)
        for _ in range(2):
            y = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
            y = layers.Conv2D(32, 3, padding="same")(y)
            x = layers.Activation("relu")(layers.Add()([y, x]))
        out = layers.Dense(10, activation="softmax")(layers.GlobalAveragePooling2D()(x))
        return keras.Model(inp, out)
    if template_id == "text-lstm":
        return keras.Sequential(
            [
                keras.Input((200,), dtype="int32"),
                layers.Embedding(10000, 32),
                layers.LSTM(32),
                layers.Dense(1, activation="sigmoid"),
            ]
        )
    if template_id == "transfer-mobilenetv2":
        base = keras.applications.MobileNetV2(
            include_top=False, weights=None, input_shape=(96, 96, 3)
        )
        base.trainable = False
        inp = keras.Input((32, 32, 3))
        x = base(layers.Rescaling(1 / 127.5, offset=-1)(layers.Resizing(96, 96)(inp)))
        x = layers.Dropout(0.2)(layers.GlobalAveragePooling2D()(x))
        return keras.Model(inp, layers.Dense(10, activation="softmax")(x))
    if template_id == "two-inputs":
        img, tab = keras.Input((8, 8, 1)), keras.Input((4,))
        a = layers.Flatten()(layers.Conv2D(16, 3, activation="relu")(img))
        b = layers.Dense(16, activation="relu")(tab)
        x = layers.Dense(32, activation="relu")(layers.Concatenate()([a, b]))
        return keras.Model([img, tab], layers.Dense(10, activation="softmax")(x))
    if template_id == "moons-mlp":
        return keras.Sequential(
            [
                keras.Input((2,)),
                layers.Dense(8, activation="tanh"),
                layers.Dense(8, activation="tanh"),
                layers.Dense(2, activation="softmax"),
            ]
        )
    if template_id == "diabetes-mlp":
        return keras.Sequential(
            [
                keras.Input((10,)),
                layers.Dense(64, activation="relu"),
                layers.Dense(32, activation="relu"),
                layers.Dense(1),
            ]
        )
    raise KeyError(template_id)


@pytest.mark.parametrize("template_id", list(templates.TEMPLATES))
def test_template_counts_and_shapes_match_keras(template_id):
    design = templates.get(template_id)
    reference = keras_reference(template_id)
    analysis = analyze(design)
    assert analysis.ok, analysis.lines()
    assert analysis.total_params == reference.count_params()
    trainable = sum(int(w.numpy().size) for w in reference.trainable_weights)
    assert analysis.trainable_params == trainable
    model = build_model(design)
    assert model.count_params() == reference.count_params()
    assert [tuple(o.shape) for o in model.outputs] == [tuple(o.shape) for o in reference.outputs]


def _functional_mlp():
    return Design(
        nodes=[
            Node("inputs", "Input", {"shape": [100]}),
            Node("hidden", "Dense", {"units": 64, "activation": "relu"}),
            Node("drop", "Dropout", {"rate": 0.5}),
            Node("out", "Dense", {"units": 10, "activation": "softmax"}),
        ],
        edges=[Edge("inputs", "hidden"), Edge("hidden", "drop"), Edge("drop", "out")],
    )


def test_hand_written_functional_mlp():
    import keras

    inp = keras.Input((100,))
    x = keras.layers.Dropout(0.5)(keras.layers.Dense(64, activation="relu")(inp))
    reference = keras.Model(inp, keras.layers.Dense(10, activation="softmax")(x))
    analysis = analyze(_functional_mlp())
    assert analysis.ok
    assert analysis.total_params == reference.count_params() == 7114
    assert analysis.nodes["hidden"].output_shape == (None, 64)


def _chain(*nodes):
    return Design(nodes=list(nodes), edges=[Edge(a.id, b.id) for a, b in zip(nodes, nodes[1:])])


def test_conv2d_after_a_flat_input_is_reported_on_the_conv_node():
    d = _chain(Node("in", "Input", {"shape": [784]}), Node("conv", "Conv2D", {"filters": 8}))
    analysis = analyze(d)
    assert not analysis.ok
    assert analysis.lines()[0].startswith("conv: ")
    assert "Reshape" in analysis.lines()[0]
    assert analysis.nodes["conv"].fix == {"insert": "Reshape", "before": "conv"}


def test_a_cycle_is_reported():
    d = _chain(Node("in", "Input", {"shape": [4]}), Node("a", "Dense", {}), Node("b", "Dense", {}))
    d.edges.append(Edge("b", "a"))
    lines = analyze(d).lines()
    assert any("cycle" in line and line.startswith(("a:", "b:")) for line in lines), lines


@pytest.mark.parametrize(
    "mutate, node_id, words",
    [
        (lambda d: d.nodes.append(Node("lonely", "Dense", {})), "lonely", "not connected"),
        (lambda d: setattr(d.node("out"), "type", "Dence"), "out", "did you mean Dense"),
        (
            lambda d: d.node("hidden").params.update(units=-3),
            "hidden",
            "units: must be at least 1",
        ),
        (lambda d: d.node("hidden").params.update(activation="reluu"), "hidden", "activation"),
        (lambda d: d.node("hidden").params.update(unitz=3), "hidden", "unknown parameter"),
        (lambda d: d.edges.append(Edge("drop", "inputs")), "inputs", "cannot receive"),
        (lambda d: d.edges.append(Edge("ghost", "out")), "out", "does not exist"),
    ],
)
def test_mistakes_are_reported_on_their_node(mutate, node_id, words):
    d = _functional_mlp()
    mutate(d)
    lines = analyze(d).lines()
    assert any(line.startswith(f"{node_id}: ") and words in line for line in lines), lines


def test_merge_with_one_input_and_mismatched_shapes():
    d = _chain(Node("in", "Input", {"shape": [4]}), Node("add", "Add", {}))
    assert any(line.startswith("add: ") and "at least 2" in line for line in analyze(d).lines())
    d = Design(
        nodes=[
            Node("in", "Input", {"shape": [4]}),
            Node("a", "Dense", {"units": 3}),
            Node("b", "Dense", {"units": 5}),
            Node("add", "Add", {}),
        ],
        edges=[Edge("in", "a"), Edge("in", "b"), Edge("a", "add"), Edge("b", "add")],
    )
    lines = analyze(d).lines()
    assert lines and lines[0].startswith("add: ") and "same shape" in lines[0]


def test_dense_after_a_feature_map_suggests_flatten():
    d = _chain(
        Node("in", "Input", {"shape": [8, 8, 1]}),
        Node("conv", "Conv2D", {"filters": 4}),
        Node("dense", "Dense", {"units": 10}),
    )
    report = analyze(d).nodes["dense"]
    assert "insert Flatten" in report.warning
    assert report.fix == {"insert": "Flatten", "before": "dense"}


def test_errors_stay_on_the_node_that_caused_them():
    d = _chain(
        Node("in", "Input", {"shape": [4]}),
        Node("bad", "MaxPooling2D", {}),
        Node("after", "Dense", {"units": 2}),
    )
    analysis = analyze(d)
    assert [p[0] for p in analysis.problems] == ["bad"]
    assert analysis.nodes["after"].error is None


def test_several_inputs_and_outputs_build():
    d = Design(
        nodes=[
            Node("a", "Input", {"shape": [3]}),
            Node("b", "Input", {"shape": [5]}),
            Node("cat", "Concatenate", {}),
            Node("head1", "Dense", {"units": 2}),
            Node("head2", "Dense", {"units": 1}),
        ],
        edges=[Edge("a", "cat"), Edge("b", "cat"), Edge("cat", "head1"), Edge("cat", "head2")],
    )
    model = build_model(d)
    assert len(model.inputs) == 2 and len(model.outputs) == 2
    assert [layer.name for layer in model.layers if layer.name.startswith("head")] == [
        "head1",
        "head2",
    ]


def test_revalidation_after_one_edit_reuses_cached_nodes(monkeypatch):
    from designer.model import build

    nodes = [Node("in", "Input", {"shape": [16]})]
    nodes += [Node(f"d{i}", "Dense", {"units": 16}) for i in range(20)]
    d = _chain(*nodes)
    analyze(d)
    calls = []
    original = build._evaluate_uncached
    monkeypatch.setattr(build, "_evaluate_uncached", lambda *a: calls.append(a) or original(*a))
    d.node("d10").params["units"] = 24
    analysis = analyze(d)
    assert analysis.ok
    # Only the edited node and its direct successor (whose input shape changed) are rebuilt.
    assert sorted(node.id for node, _ in calls) == ["d10", "d11"]


def _pending_weights() -> list:
    from keras.src.backend.common import global_state

    return list(global_state.get_global_attribute("uninitialized_variables") or [])


def test_analysis_leaves_no_weights_to_draw():
    """Layers are built without values for their weights (the analysis needs shapes), and
    Keras is left with nothing to draw later, here or at the next scope that closes."""
    import keras

    from designer.model import build

    build._CACHE.clear()
    before = _pending_weights()
    drawn = []
    original = keras.initializers.GlorotUniform.__call__
    try:
        keras.initializers.GlorotUniform.__call__ = lambda *a, **k: (
            drawn.append(a) or original(*a, **k)
        )
        analysis = analyze(templates.get("lenet5"))
    finally:
        keras.initializers.GlorotUniform.__call__ = original
    assert analysis.ok and analysis.total_params == keras_reference("lenet5").count_params()
    assert drawn == [] and _pending_weights() == before


def test_a_layer_that_makes_a_weight_from_a_value_is_still_counted(monkeypatch):
    """A variable made from a value cannot wait for its value: that layer is built as usual."""
    import keras
    import numpy as np

    from designer.model import build

    class FromValue(keras.layers.Layer):
        def build(self, input_shape):
            self.scale = keras.Variable(np.ones(input_shape[-1:], "float32"))

        def call(self, x):
            return x * self.scale

    real = build.make_layer
    monkeypatch.setattr(
        build,
        "make_layer",
        lambda node, *a, **k: FromValue() if node.id == "d" else real(node, *a, **k),
    )
    build._CACHE.clear()
    analysis = analyze(
        _chain(Node("in", "Input", {"shape": [5]}), Node("d", "Dense", {"units": 3}))
    )
    build._CACHE.clear()
    assert analysis.ok, analysis.lines()
    assert analysis.nodes["d"].params == 5 and analysis.nodes["d"].output_shape == (None, 5)
    assert _pending_weights() == []
