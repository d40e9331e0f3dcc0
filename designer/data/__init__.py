"""Data sets for Keras Designer: built-in offline sets, keras.datasets on demand, uploads.

    >>> from designer.data import load_dataset
    >>> ds = load_dataset("digits")
    >>> ds.x_train.shape[1:], ds.num_classes
    ((8, 8, 1), 10)

Importing this package is cheap: TensorFlow, pandas, scikit-learn and Pillow are imported
only by the loaders that need them.
"""

from .builtin import builtin_task, get_info, is_available, list_datasets
from .defaults import default_compile, encode_labels_for_loss
from .fit import check_fit
from .load import csv_columns, load_csv, load_dataset, load_image_zip, load_npz, load_raw
from .types import (
    MAX_UNPACKED_BYTES,
    MAX_UPLOAD_BYTES,
    MAX_ZIP_FILES,
    DataError,
    Dataset,
    DatasetInfo,
)

__all__ = [
    "builtin_task",
    "MAX_UNPACKED_BYTES",
    "MAX_UPLOAD_BYTES",
    "MAX_ZIP_FILES",
    "DataError",
    "Dataset",
    "DatasetInfo",
    "check_fit",
    "csv_columns",
    "default_compile",
    "encode_labels_for_loss",
    "get_info",
    "is_available",
    "list_datasets",
    "load_csv",
    "load_dataset",
    "load_image_zip",
    "load_npz",
    "load_raw",
]
