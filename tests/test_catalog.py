import inspect

import pytest

from designer.design import catalog
from designer.design.spec import Design, Edge, Node
from designer.model.build import analyze, build_model


def test_catalog_covers_the_tutorial_layers():
    required = """Input Dense Conv1D Conv2D MaxPooling1D MaxPooling2D AveragePooling2D
    GlobalAveragePooling1D GlobalAveragePooling2D GlobalMaxPooling2D Dropout SpatialDropout2D
    Flatten Reshape BatchNormalization LayerNormalization Activation Concatenate Add Multiply
    Average Embedding LSTM GRU SimpleRNN Bidirectional Conv2DTranspose SeparableConv2D
    DepthwiseConv2D UpSampling2D ZeroPadding2D Rescaling Normalization RandomFlip RandomRotation
    RandomZoom RandomTranslation RandomContrast RandomCrop Resizing VGG16 MobileNetV2 ResNet50
    EfficientNetB0""".split()
    missing = [t for t in required if t not in catalog.LAYERS]
    assert not missing
    assert len(catalog.LAYERS) >= 40
    assert all(catalog.by_category()[c] for c in catalog.CATEGORIES)


def test_every_parameter_has_help_and_a_valid_default():
    for spec in catalog.LAYERS.values():
        assert spec.help
        for p in spec.params:
            assert p.help, (spec.type, p.name)
            assert p.check(p.default) is None, (spec.type, p.name, p.default)


def _keras_class(spec):
    import keras

    if spec.module == "applications":
        return getattr(keras.applications, spec.type)
    return getattr(keras.layers, spec.type) if spec.module != "input" else None


@pytest.mark.parametrize("layer_type", list(catalog.LAYERS))
def test_defaults_are_the_keras_constructor_defaults(layer_type):
    spec = catalog.LAYERS[layer_type]
    cls = _keras_class(spec)
    if cls is None:
        return
    signature = inspect.signature(cls)
    for p in spec.params:
        if not p.keras_default:
            continue
        assert p.name in signature.parameters, f"{layer_type}.{p.name} is not a Keras argument"
        keras_default = signature.parameters[p.name].default
        if keras_default is inspect.Parameter.empty:
            continue
        ours = p.default
        if isinstance(keras_default, tuple) and not isinstance(ours, (list, tuple)):
            ours = (ours,) * len(keras_default)
        if isinstance(ours, list):
            ours = tuple(ours)
        assert ours == keras_default, f"{layer_type}.{p.name}: {ours!r} != Keras {keras_default!r}"


def _context(layer_type: str):
    """A small input that ``layer_type`` accepts: (shape, dtype, number of inputs)."""
    spec = catalog.LAYERS[layer_type]
    if layer_type == "Embedding":
        return (10,), "int32", 1
    if spec.category == "merge":
        return (8,), "float32", 2
    if layer_type == "Permute":
        return (4, 6), "float32", 1
    if "3D" in layer_type:
        return (8, 8, 8, 2), "float32", 1
    if "2D" in layer_type or spec.category in ("augmentation", "pretrained"):
        return (32, 32, 3), "float32", 1
    if "1D" in layer_type or spec.category == "recurrent":
        return (10, 8), "float32", 1
    return (8,), "float32", 1


def _design(layer_type):
    shape, dtype, n_inputs = _context(layer_type)
    nodes = [
        Node(f"in{i}", "Input", {"shape": list(shape), "dtype": dtype}) for i in range(n_inputs)
    ]
    nodes.append(Node("layer", layer_type, {}))
    edges = [Edge(f"in{i}", "layer") for i in range(n_inputs)]
    return Design(nodes=nodes, edges=edges)


@pytest.mark.parametrize("layer_type", [t for t in catalog.LAYERS if t != "Input"])
def test_every_layer_type_builds_with_its_defaults(layer_type):
    import keras

    design = _design(layer_type)
    analysis = analyze(design)
    assert analysis.ok, analysis.lines()
    model = build_model(design)
    # The same layer made directly with Keras gives the same shape and parameter count.
    shape, dtype, n_inputs = _context(layer_type)
    inputs = [keras.Input(shape=shape, dtype=dtype) for _ in range(n_inputs)]
    spec = catalog.LAYERS[layer_type]
    kwargs = {p.name: p.to_keras(p.default) for p in spec.params}
    if spec.module == "applications":
        trainable = kwargs.pop("trainable")
        layer = getattr(keras.applications, layer_type)(
            include_top=False, input_shape=shape, **(kwargs | {"weights": None})
        )
        layer.trainable = trainable
    elif spec.module == "wrapper":
        inner = getattr(keras.layers, kwargs.pop("layer"))(
            kwargs.pop("units"), return_sequences=kwargs.pop("return_sequences")
        )
        layer = keras.layers.Bidirectional(inner, **kwargs)
    else:
        layer = getattr(keras.layers, layer_type)(**kwargs)
    out = layer(inputs if n_inputs > 1 else inputs[0])
    reference = keras.Model(inputs, out)
    assert model.count_params() == reference.count_params()
    assert analysis.total_params == reference.count_params()
    assert analysis.nodes["layer"].output_shape == tuple(out.shape)


def test_search_finds_layers_by_name_and_help():
    assert "Conv2D" in [s.type for s in catalog.search("conv")]
    assert "Dropout" in [s.type for s in catalog.search("overfitting")]
    assert len(catalog.search("")) == len(catalog.LAYERS)
