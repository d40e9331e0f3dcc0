"""The data-set value types shared by every loader, plus the upload limits.

Kept free of heavy imports (no TensorFlow, no pandas) so that ``import designer.data`` stays
fast: the app's first paint and ``keras-designer --help`` import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from designer.errors import DesignerError

# One upload (CSV, ZIP, NPZ) may be at most this big on disk, and a ZIP or NPZ may not
# unpack to more than this either: the server holds everything in memory.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_ZIP_FILES = 20_000

TASKS = ("classification", "regression", "text")
KINDS = ("image", "tabular", "points2d", "sequence")
SCALINGS = ("auto", "none", "standard", "minmax")


class DataError(DesignerError):
    """A problem with the data the user can fix; the message is one line meant for them."""


@dataclass
class DatasetInfo:
    id: str
    name: str
    description: str
    task: str  # "classification" | "regression" | "text" (integer sequences with class labels)
    input_shape: tuple  # one sample, without the batch axis
    class_names: list[str]  # [] for regression
    source: str  # "offline" | "keras" (needs the network once) | "upload"
    n_samples: int | None
    kind: str  # "image" | "tabular" | "points2d" | "sequence"
    input_dtype: str = "float32"  # "int32" for token ids
    vocab_size: int | None = None  # token ids are < vocab_size (text only): Embedding input_dim
    n_test: int | None = None  # size of the set's own fixed test split, if it ships one

    @property
    def num_classes(self) -> int:
        return 0 if self.task == "regression" else len(self.class_names)

    @property
    def label(self) -> str:
        """How messages name the data set: its id, or the file name for uploads."""
        return self.name if self.source == "upload" else self.id


@dataclass
class Dataset:
    info: DatasetInfo
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: list[str] | None = None
    vocabulary: list[str] | None = None  # text: vocabulary[i] is the word with id i
    # Things the user should know about what was done to their data (filled values, dropped rows).
    warnings: list[str] = field(default_factory=list)
    # What scaling was applied, so new samples can be treated the same way:
    # {"method": "divide", "by": 255.0} | {"method": "standard", "mean": arr, "std": arr}
    # | {"method": "minmax", "min": arr, "range": arr} | {"method": "none"}
    scaling: dict[str, Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return self.info.num_classes

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Scale raw samples (same units as the files) the way the training data was scaled."""
        return apply_scaling(
            np.asarray(x), self.scaling or {"method": "none"}, self.info.input_dtype
        )


@dataclass
class Raw:
    """What a loader hands to the splitter: unsplit, unscaled arrays in their file units."""

    x: np.ndarray
    y: np.ndarray
    info: DatasetInfo
    feature_names: list[str] | None = None
    # Sets published with a fixed test split (MNIST, CIFAR...) keep it, so that scores
    # compare with the literature; the validation set is then carved from x/y.
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    # Largest possible pixel value of image data (255 for 8-bit, 16 for sklearn digits).
    pixel_max: float | None = None
    warnings: list[str] = field(default_factory=list)
    vocabulary: list[str] | None = None  # text: vocabulary[i] is the word with id i


def apply_scaling(x: np.ndarray, scaling: dict, dtype: str) -> np.ndarray:
    """``x`` scaled as ``scaling`` says (see :attr:`Dataset.scaling`): the one definition of
    each scaling, used when a data set is made and when new samples are scored."""
    if dtype != "float32":
        return x.astype(dtype)
    x = x.astype(np.float32)
    method = scaling["method"]
    if method == "divide":
        x /= np.float32(scaling["by"])
    elif method == "standard":
        x -= scaling["mean"]
        x /= scaling["std"]
    elif method == "minmax":
        x -= scaling["min"]
        x /= scaling["range"]
    return x
