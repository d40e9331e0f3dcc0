"""Data sets Keras downloads on first use (``keras.datasets``) and caches in ~/.keras/datasets.

Keras (hence TensorFlow) is imported inside `load` only: listing these sets must stay instant.
A failed download becomes a one-line `DataError` that says what to do instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from designer.text import one_line

from .types import DataError, DatasetInfo, Raw

TEXT_VOCAB = 10_000  # most frequent words kept; ids >= this become the out-of-vocabulary id
TEXT_LENGTH = 200  # reviews/newswires padded or cut to this many tokens

CIFAR10_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
CIFAR100_CLASSES = """apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy
bridge bus butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach
couch crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo
keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse
mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy
porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail
snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger
tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm""".split()
# Same order as keras.datasets.reuters.get_label_names(), copied so listing needs no Keras.
REUTERS_CLASSES = """cocoa grain veg-oil earn acq wheat copper housing money-supply coffee sugar
trade reserves ship cotton carcass crude nat-gas cpi money-fx interest gnp meal-feed alum oilseed
gold tin strategic-metal livestock retail ipi iron-steel rubber heat jobs lei bop zinc orange
pet-chem dlr gas silver wpi hog lead""".split()
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
DIGITS = [str(i) for i in range(10)]


def _info(id_, name, description, task, shape, classes, n, kind, **kw) -> DatasetInfo:
    return DatasetInfo(id_, name, description, task, shape, classes, "keras", n, kind, **kw)


_TEXT = {"input_dtype": "int32", "vocab_size": TEXT_VOCAB}
INFOS: dict[str, DatasetInfo] = {
    i.id: i
    for i in [
        _info(
            "mnist",
            "MNIST",
            "70,000 handwritten digits, 28x28 (download ~11 MB).",
            "classification",
            (28, 28, 1),
            DIGITS,
            70000,
            "image",
        ),
        _info(
            "fashion_mnist",
            "Fashion-MNIST (Keras)",
            "70,000 clothing images, 28x28 (download ~30 MB).",
            "classification",
            (28, 28, 1),
            FASHION_CLASSES,
            70000,
            "image",
        ),
        _info(
            "cifar10",
            "CIFAR-10",
            "60,000 colour photos, 32x32, 10 classes (download ~170 MB).",
            "classification",
            (32, 32, 3),
            CIFAR10_CLASSES,
            60000,
            "image",
        ),
        _info(
            "cifar100",
            "CIFAR-100",
            "60,000 colour photos, 32x32, 100 classes (download ~170 MB).",
            "classification",
            (32, 32, 3),
            CIFAR100_CLASSES,
            60000,
            "image",
        ),
        _info(
            "imdb",
            "IMDB reviews",
            f"50,000 movie reviews as word ids ({TEXT_VOCAB} words, "
            f"{TEXT_LENGTH} tokens), positive or negative (download ~17 MB).",
            "text",
            (TEXT_LENGTH,),
            ["negative", "positive"],
            50000,
            "sequence",
            **_TEXT,
        ),
        _info(
            "reuters",
            "Reuters newswires",
            f"11,228 newswires as word ids ({TEXT_VOCAB} words, "
            f"{TEXT_LENGTH} tokens), 46 topics (download ~2 MB).",
            "text",
            (TEXT_LENGTH,),
            REUTERS_CLASSES,
            11228,
            "sequence",
            **_TEXT,
        ),
    ]
}

# What keras.datasets leaves in its cache once a set has been downloaded.
_CACHE_NAMES = {
    "mnist": "mnist.npz",
    "fashion_mnist": "fashion-mnist/t10k-images-idx3-ubyte.gz",
    "cifar10": "cifar-10-batches-py-target",
    "cifar100": "cifar-100-python-target",
    "imdb": "imdb.npz",
    "reuters": "reuters.npz",
}


def is_cached(dataset_id: str) -> bool:
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()
    # Keras falls back to /tmp/.keras when the home cache is not writable.
    roots = [home / "datasets", Path("/tmp/.keras/datasets")]
    return any((root / _CACHE_NAMES[dataset_id]).exists() for root in roots)


def load(info: DatasetInfo) -> Raw:
    try:
        import keras
    except ImportError as e:  # pragma: no cover - keras is a dependency
        raise DataError(f"'{info.id}' needs Keras: pip install keras tensorflow") from e

    module = getattr(keras.datasets, info.id)
    try:
        if info.task == "text":
            (x, y), (x_test, y_test) = module.load_data(num_words=TEXT_VOCAB)
        elif info.id == "cifar100":
            (x, y), (x_test, y_test) = module.load_data(label_mode="fine")
        else:
            (x, y), (x_test, y_test) = module.load_data()
    except Exception as e:  # Keras raises a bare Exception("URL fetch failure ...") offline
        reason = one_line(e, 160)
        raise DataError(
            f"could not download '{info.id}' (no network?): connect to the internet once so "
            "Keras can cache it in ~/.keras/datasets, or pick an offline data set such as "
            f"digits or fashion_mnist_local [{type(e).__name__}: {reason}]"
        ) from e

    y, y_test = np.asarray(y).reshape(-1), np.asarray(y_test).reshape(-1)  # CIFAR gives (n, 1)
    if info.task == "text":
        pad = keras.utils.pad_sequences
        x = pad(x, maxlen=TEXT_LENGTH, dtype="int32")
        x_test = pad(x_test, maxlen=TEXT_LENGTH, dtype="int32")
        return Raw(x, y.astype(np.int64), info, x_test=x_test, y_test=y_test.astype(np.int64))
    if x.ndim == 3:  # grey images come without a channel axis
        x, x_test = x[..., None], x_test[..., None]
    return Raw(
        x, y.astype(np.int64), info, x_test=x_test, y_test=y_test.astype(np.int64), pixel_max=255.0
    )
