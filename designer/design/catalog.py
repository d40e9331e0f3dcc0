"""The layer catalog: every supported layer type, declared once.

Forms, validation, the builder, the code generator and the importer all read these entries;
adding a layer type is one entry here. Parameter names are the Keras constructor's; defaults
match Keras' own (``tests/test_catalog.py`` checks them against the constructor signatures)
except where an entry says ``keras_default=False`` because Keras has no default to offer.

Importing this module does not import Keras: the CLI's ``layers`` and ``--help`` stay instant.
"""

from __future__ import annotations

from dataclasses import dataclass

from designer.design.params import ParamSpec as P

CATEGORIES = (
    "core",
    "convolution",
    "pooling",
    "recurrent",
    "merge",
    "normalization",
    "regularization",
    "augmentation",
    "pretrained",
)

ACTIVATIONS = (
    None,
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "gelu",
    "elu",
    "selu",
    "leaky_relu",
    "silu",
    "swish",
    "softplus",
    "softsign",
    "relu6",
    "hard_sigmoid",
    "mish",
    "linear",
    "exponential",
)
INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "zeros",
    "ones",
    "orthogonal",
)
PADDINGS = ("valid", "same")


@dataclass(frozen=True)
class LayerSpec:
    type: str  # the Keras class name, which is also the design file's node "type"
    category: str
    help: str
    params: tuple[P, ...] = ()
    min_inputs: int = 1
    max_inputs: int | None = 1  # None: any number (merge layers)
    # "layers": keras.layers.<type>; "applications": keras.applications.<type> as a nested
    # model; "input": keras.Input; "wrapper": a layer that wraps an inner RNN (Bidirectional).
    module: str = "layers"
    min_size: int = 0  # applications: smallest height/width the base accepts

    def param(self, name: str) -> P:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}


# ---- shared parameter declarations --------------------------------------------------------
def _activation(default=None):
    return P(
        "activation",
        "choice",
        default,
        "Function applied to the output",
        choices=ACTIVATIONS,
        optional=True,
    )


USE_BIAS = P("use_bias", "bool", True, "Add a learned bias to each output")
KERNEL_INIT = P(
    "kernel_initializer", "choice", "glorot_uniform", "How the weights start", choices=INITIALIZERS
)
PADDING = P(
    "padding", "choice", "valid", "'same' keeps the size; 'valid' shrinks it", choices=PADDINGS
)
RATE = P(
    "rate",
    "float",
    0.5,
    "Fraction of inputs dropped during training",
    min=0.0,
    max=0.99,
    keras_default=False,
)
KEEPDIMS = P("keepdims", "bool", False, "Keep the pooled axes with size 1")


def _ints(name, default, help, length, minimum=1, optional=False, keras_default=True):
    return P(
        name,
        "ints",
        default,
        help,
        min=minimum,
        max=1024,
        length=length,
        optional=optional,
        keras_default=keras_default,
    )


def _conv(n: int, *, filters=True, depthwise=False, separable=False) -> tuple[P, ...]:
    ps = []
    if filters:
        ps.append(
            P(
                "filters",
                "int",
                32,
                "Number of filters (output channels)",
                min=1,
                max=4096,
                keras_default=False,
            )
        )
    ps += [
        _ints("kernel_size", 3, "Size of the sliding window", n, keras_default=False),
        _ints("strides", 1, "Step between windows", n),
        PADDING,
    ]
    if depthwise or separable:
        ps.append(P("depth_multiplier", "int", 1, "Filters per input channel", min=1, max=64))
    ps += [_activation(), USE_BIAS]
    if not depthwise and not separable:
        ps.append(KERNEL_INIT)
    return tuple(ps)


def _pool(n: int) -> tuple[P, ...]:
    return (
        _ints("pool_size", 2, "Size of the pooling window", n),
        _ints("strides", None, "Step between windows (empty: the pool size)", n, optional=True),
        PADDING,
    )


def _rnn(activation="tanh") -> tuple[P, ...]:
    return (
        P("units", "int", 32, "Size of the hidden state", min=1, max=4096, keras_default=False),
        _activation(activation),
        P("return_sequences", "bool", False, "Output every time step (needed to stack RNNs)"),
        P("dropout", "float", 0.0, "Dropout on the inputs", min=0.0, max=0.99),
        P("recurrent_dropout", "float", 0.0, "Dropout on the recurrent state", min=0.0, max=0.99),
    )


def _factor(name, default, help, optional=False):
    return P(name, "float", default, help, min=0.0, max=1.0, optional=optional, keras_default=False)


def _size(name, default, help):
    return P(name, "int", default, help, min=1, max=4096, keras_default=False)


def _application(name: str, help: str, min_size: int) -> LayerSpec:
    return LayerSpec(
        name,
        "pretrained",
        help,
        (
            P(
                "weights",
                "choice",
                "imagenet",
                "Start from ImageNet weights, or random ones (None)",
                choices=(None, "imagenet"),
                optional=True,
            ),
            P(
                "trainable",
                "bool",
                False,
                "Train the base too (fine-tuning); off = frozen",
                keras_default=False,
            ),
            P(
                "pooling",
                "choice",
                None,
                "Pool the base's feature maps to a vector",
                choices=(None, "avg", "max"),
                optional=True,
            ),
        ),
        module="applications",
        min_size=min_size,
    )


_ENTRIES: tuple[LayerSpec, ...] = (
    # ---- core ---------------------------------------------------------------------------------
    LayerSpec(
        "Input",
        "core",
        "Where data enters the model",
        (
            P(
                "shape",
                "shape",
                [28, 28, 1],
                "Size of one sample, without the batch",
                keras_default=False,
            ),
            P(
                "dtype",
                "choice",
                "float32",
                "float32 for numbers, int32 for word indices",
                choices=("float32", "int32"),
                keras_default=False,
            ),
        ),
        min_inputs=0,
        max_inputs=0,
        module="input",
    ),
    LayerSpec(
        "Dense",
        "core",
        "Fully connected layer: every input to every unit",
        (
            P("units", "int", 32, "Number of neurons", min=1, max=65536, keras_default=False),
            _activation(),
            USE_BIAS,
            KERNEL_INIT,
        ),
    ),
    LayerSpec("Activation", "core", "Applies an activation function", (_activation("relu"),)),
    LayerSpec(
        "ReLU",
        "core",
        "ReLU as a layer; max_value caps it (ReLU6 in MobileNet)",
        (
            P(
                "max_value",
                "float",
                None,
                "Largest output (empty = no cap)",
                min=0.0,
                optional=True,
            ),
            P(
                "negative_slope",
                "float",
                0.0,
                "Slope below the threshold (0 = plain ReLU)",
                min=0.0,
                max=1.0,
            ),
            P("threshold", "float", 0.0, "Inputs below this are cut (or scaled by the slope)"),
        ),
    ),
    LayerSpec(
        "LeakyReLU",
        "core",
        "ReLU that lets a little of the negative side through",
        (P("negative_slope", "float", 0.3, "Slope for negative inputs", min=0.0, max=1.0),),
    ),
    LayerSpec(
        "ELU",
        "core",
        "Exponential linear unit: smooth below zero",
        (P("alpha", "float", 1.0, "How far below zero the output can go", min=0.0, max=100.0),),
    ),
    LayerSpec(
        "Softmax",
        "core",
        "Turns scores into probabilities that sum to 1",
        (P("axis", "int", -1, "The axis whose values sum to 1", min=-8, max=8),),
    ),
    LayerSpec("Flatten", "core", "Turns a feature map into one long vector"),
    LayerSpec(
        "Reshape",
        "core",
        "Gives the data a new shape with the same number of values",
        (
            P(
                "target_shape",
                "shape",
                [-1],
                "New shape without the batch; -1 means 'the rest'",
                keras_default=False,
            ),
        ),
    ),
    LayerSpec(
        "Permute",
        "core",
        "Reorders the axes",
        (
            P(
                "dims",
                "shape",
                [2, 1],
                "New order of the axes, counting from 1",
                keras_default=False,
            ),
        ),
    ),
    LayerSpec(
        "RepeatVector",
        "core",
        "Repeats a vector n times (n, features)",
        (P("n", "int", 3, "How many repetitions", min=1, max=10000, keras_default=False),),
    ),
    LayerSpec(
        "Embedding",
        "core",
        "Turns word indices into learned vectors",
        (
            P(
                "input_dim",
                "int",
                10000,
                "Vocabulary size (largest index + 1)",
                min=1,
                max=10_000_000,
                keras_default=False,
            ),
            P(
                "output_dim",
                "int",
                32,
                "Length of each word vector",
                min=1,
                max=4096,
                keras_default=False,
            ),
            P("mask_zero", "bool", False, "Treat index 0 as padding"),
        ),
    ),
    LayerSpec(
        "UpSampling1D",
        "core",
        "Repeats each time step",
        (P("size", "int", 2, "Repeat factor", min=1, max=1024),),
    ),
    LayerSpec(
        "UpSampling2D",
        "core",
        "Enlarges a feature map",
        (
            _ints("size", 2, "Enlargement factor", 2),
            P(
                "interpolation",
                "choice",
                "nearest",
                "How new pixels are filled",
                choices=("nearest", "bilinear"),
            ),
        ),
    ),
    LayerSpec(
        "ZeroPadding2D",
        "core",
        "Adds a border of zeros",
        (_ints("padding", 1, "Border width", 2, minimum=0),),
    ),
    LayerSpec(
        "Cropping2D",
        "core",
        "Cuts a border off",
        (_ints("cropping", 0, "Border width to cut", 2, minimum=0, keras_default=False),),
    ),
    # ---- convolution ---------------------------------------------------------------------------
    LayerSpec("Conv1D", "convolution", "Slides filters along a sequence", _conv(1)),
    LayerSpec("Conv2D", "convolution", "Slides filters over an image", _conv(2)),
    LayerSpec("Conv3D", "convolution", "Slides filters over a volume", _conv(3)),
    LayerSpec(
        "Conv2DTranspose", "convolution", "Learned upsampling (transposed convolution)", _conv(2)
    ),
    LayerSpec(
        "SeparableConv2D",
        "convolution",
        "Depthwise then pointwise convolution: fewer weights",
        _conv(2, separable=True),
    ),
    LayerSpec(
        "DepthwiseConv2D",
        "convolution",
        "One filter per input channel",
        _conv(2, filters=False, depthwise=True),
    ),
    # ---- pooling --------------------------------------------------------------------------------
    LayerSpec("MaxPooling1D", "pooling", "Keeps the largest value of each window", _pool(1)),
    LayerSpec("MaxPooling2D", "pooling", "Keeps the largest value of each window", _pool(2)),
    LayerSpec("AveragePooling1D", "pooling", "Averages each window", _pool(1)),
    LayerSpec("AveragePooling2D", "pooling", "Averages each window", _pool(2)),
    LayerSpec("GlobalAveragePooling1D", "pooling", "Averages over all time steps", (KEEPDIMS,)),
    LayerSpec(
        "GlobalAveragePooling2D", "pooling", "Averages each channel to one number", (KEEPDIMS,)
    ),
    LayerSpec("GlobalMaxPooling1D", "pooling", "Maximum over all time steps", (KEEPDIMS,)),
    LayerSpec("GlobalMaxPooling2D", "pooling", "Maximum of each channel", (KEEPDIMS,)),
    # ---- recurrent ------------------------------------------------------------------------------
    LayerSpec("SimpleRNN", "recurrent", "The simplest recurrent layer", _rnn()),
    LayerSpec("LSTM", "recurrent", "Long short-term memory: remembers over long sequences", _rnn()),
    LayerSpec("GRU", "recurrent", "Gated recurrent unit: a lighter LSTM", _rnn()),
    LayerSpec(
        "Bidirectional",
        "recurrent",
        "Runs an RNN forwards and backwards",
        (
            P(
                "layer",
                "choice",
                "LSTM",
                "The recurrent layer to wrap",
                choices=("LSTM", "GRU", "SimpleRNN"),
                keras_default=False,
            ),
            P(
                "units",
                "int",
                32,
                "Size of each direction's hidden state",
                min=1,
                max=4096,
                keras_default=False,
            ),
            P("return_sequences", "bool", False, "Output every time step", keras_default=False),
            P(
                "merge_mode",
                "choice",
                "concat",
                "How the two directions combine",
                choices=("concat", "sum", "mul", "ave", None),
                optional=True,
            ),
        ),
        module="wrapper",
    ),
    # ---- merge ----------------------------------------------------------------------------------
    LayerSpec(
        "Concatenate",
        "merge",
        "Joins inputs side by side",
        (P("axis", "int", -1, "Axis to join along", min=-8, max=8),),
        min_inputs=2,
        max_inputs=None,
    ),
    LayerSpec(
        "Add",
        "merge",
        "Adds inputs of the same shape (skip connections)",
        min_inputs=2,
        max_inputs=None,
    ),
    LayerSpec("Subtract", "merge", "First input minus the second", min_inputs=2, max_inputs=2),
    LayerSpec(
        "Multiply", "merge", "Multiplies inputs element by element", min_inputs=2, max_inputs=None
    ),
    LayerSpec(
        "Average", "merge", "Averages inputs of the same shape", min_inputs=2, max_inputs=None
    ),
    LayerSpec(
        "Maximum", "merge", "Element-wise maximum of the inputs", min_inputs=2, max_inputs=None
    ),
    LayerSpec(
        "Minimum", "merge", "Element-wise minimum of the inputs", min_inputs=2, max_inputs=None
    ),
    # ---- normalization --------------------------------------------------------------------------
    LayerSpec(
        "BatchNormalization",
        "normalization",
        "Normalizes each batch: faster, steadier training",
        (
            P("momentum", "float", 0.99, "How fast the running averages move", min=0.0, max=1.0),
            P(
                "epsilon",
                "float",
                0.001,
                "Small number that avoids division by zero",
                min=0.0,
                max=1.0,
            ),
            P("center", "bool", True, "Learn an offset (beta)"),
            P("scale", "bool", True, "Learn a scale (gamma)"),
        ),
    ),
    LayerSpec(
        "LayerNormalization",
        "normalization",
        "Normalizes each sample across its features",
        (
            P(
                "epsilon",
                "float",
                0.001,
                "Small number that avoids division by zero",
                min=0.0,
                max=1.0,
            ),
        ),
    ),
    LayerSpec("UnitNormalization", "normalization", "Scales each sample to length 1"),
    LayerSpec(
        "Rescaling",
        "normalization",
        "Multiplies inputs, e.g. by 1/255 for pixels",
        (
            P(
                "scale",
                "float",
                1 / 255,
                "Factor to multiply by",
                min=-1e6,
                max=1e6,
                keras_default=False,
            ),
            P("offset", "float", 0.0, "Number added after scaling", min=-1e6, max=1e6),
        ),
    ),
    LayerSpec(
        "Normalization",
        "normalization",
        "Shifts and scales features to mean 0, variance 1",
        (P("axis", "int", -1, "Feature axis", min=-8, max=8),),
    ),
    # ---- regularization -------------------------------------------------------------------------
    LayerSpec(
        "Dropout",
        "regularization",
        "Randomly drops inputs in training to fight overfitting",
        (RATE,),
    ),
    LayerSpec("SpatialDropout1D", "regularization", "Drops whole channels of a sequence", (RATE,)),
    LayerSpec("SpatialDropout2D", "regularization", "Drops whole feature maps", (RATE,)),
    LayerSpec(
        "GaussianNoise",
        "regularization",
        "Adds random noise in training",
        (
            P(
                "stddev",
                "float",
                0.1,
                "Standard deviation of the noise",
                min=0.0,
                max=100.0,
                keras_default=False,
            ),
        ),
    ),
    LayerSpec(
        "GaussianDropout",
        "regularization",
        "Multiplies by random noise around 1 in training",
        (RATE,),
    ),
    LayerSpec(
        "ActivityRegularization",
        "regularization",
        "Penalizes large outputs",
        (
            P("l1", "float", 0.0, "L1 penalty", min=0.0, max=100.0),
            P("l2", "float", 0.0, "L2 penalty", min=0.0, max=100.0),
        ),
    ),
    # ---- augmentation (active only while training) ----------------------------------------------
    LayerSpec(
        "RandomFlip",
        "augmentation",
        "Mirrors images at random",
        (
            P(
                "mode",
                "choice",
                "horizontal_and_vertical",
                "Which flips",
                choices=("horizontal", "vertical", "horizontal_and_vertical"),
            ),
        ),
    ),
    LayerSpec(
        "RandomRotation",
        "augmentation",
        "Rotates images at random",
        (
            _factor("factor", 0.1, "Largest turn, as a fraction of a full circle"),
            P(
                "fill_mode",
                "choice",
                "reflect",
                "How new corners are filled",
                choices=("reflect", "wrap", "constant", "nearest"),
            ),
        ),
    ),
    LayerSpec(
        "RandomZoom",
        "augmentation",
        "Zooms in or out at random",
        (
            _factor("height_factor", 0.1, "Largest zoom, as a fraction of the height"),
            _factor(
                "width_factor",
                None,
                "Largest zoom of the width (empty: same as height)",
                optional=True,
            ),
            P(
                "fill_mode",
                "choice",
                "reflect",
                "How new pixels are filled",
                choices=("reflect", "wrap", "constant", "nearest"),
            ),
        ),
    ),
    LayerSpec(
        "RandomTranslation",
        "augmentation",
        "Shifts images at random",
        (
            _factor("height_factor", 0.1, "Largest vertical shift, as a fraction"),
            _factor("width_factor", 0.1, "Largest horizontal shift, as a fraction"),
            P(
                "fill_mode",
                "choice",
                "reflect",
                "How new pixels are filled",
                choices=("reflect", "wrap", "constant", "nearest"),
            ),
        ),
    ),
    LayerSpec(
        "RandomContrast",
        "augmentation",
        "Changes contrast at random",
        (_factor("factor", 0.2, "Largest change of contrast"),),
    ),
    LayerSpec(
        "RandomBrightness",
        "augmentation",
        "Changes brightness at random",
        (
            _factor("factor", 0.2, "Largest change of brightness"),
            _ints(
                "value_range",
                [0, 255],
                "Range of the pixel values (0 1 for scaled images)",
                2,
                minimum=0,
            ),
        ),
    ),
    LayerSpec(
        "RandomCrop",
        "augmentation",
        "Cuts a random patch of the given size",
        (_size("height", 24, "Patch height"), _size("width", 24, "Patch width")),
    ),
    LayerSpec(
        "Resizing",
        "augmentation",
        "Resizes images to a fixed size",
        (
            _size("height", 32, "New height"),
            _size("width", 32, "New width"),
            P(
                "interpolation",
                "choice",
                "bilinear",
                "How pixels are resampled",
                choices=("bilinear", "nearest", "bicubic", "area"),
            ),
        ),
    ),
    LayerSpec(
        "CenterCrop",
        "augmentation",
        "Cuts the central patch of the given size",
        (_size("height", 24, "Patch height"), _size("width", 24, "Patch width")),
    ),
    # ---- pretrained bases (keras.applications, include_top=False) --------------------------------
    _application("VGG16", "VGG16 convolutional base (2014, 14.7M parameters)", 32),
    _application("ResNet50", "ResNet50 base with skip connections (23.6M parameters)", 32),
    _application("MobileNetV2", "Small, fast base for phones (2.3M parameters)", 32),
    _application("EfficientNetB0", "Accurate, efficient base (4.0M parameters)", 32),
    _application("DenseNet121", "Densely connected base (7.0M parameters)", 32),
)

LAYERS: dict[str, LayerSpec] = {e.type: e for e in _ENTRIES}


def get(layer_type: str) -> LayerSpec | None:
    return LAYERS.get(layer_type)


def by_category() -> dict[str, list[LayerSpec]]:
    return {c: [e for e in _ENTRIES if e.category == c] for c in CATEGORIES}


def search(text: str) -> list[LayerSpec]:
    """Palette search: matches the type name, category or help text, case-insensitively."""
    t = text.strip().lower()
    return [e for e in _ENTRIES if not t or t in f"{e.type} {e.category} {e.help}".lower()]


def is_merge(layer_type: str) -> bool:
    spec = LAYERS.get(layer_type)
    return bool(spec and spec.category == "merge")
