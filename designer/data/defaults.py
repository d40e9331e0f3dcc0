"""What a data set implies for compiling: the default loss and metrics, and label encodings.

`CompileSpec.loss = None` in a design means "whatever fits the data": this module decides it,
and reshapes the integer labels when a person picks a loss that wants another encoding.
"""

from __future__ import annotations

import numpy as np

from designer.design.compiling import DEFAULTS

from .types import DataError, DatasetInfo

# Losses compared after lower-casing and dropping "_", so "CategoricalCrossentropy" (the
# class name) and "categorical_crossentropy" (the function name) are the same loss.
# kl_divergence compares distributions, so class ids become one-hot distributions too.
ONE_HOT_LOSSES = {
    "categoricalcrossentropy",
    "categoricalfocalcrossentropy",
    "categoricalhinge",
    "kldivergence",
}
BINARY_LOSSES = {"binarycrossentropy", "binaryfocalcrossentropy", "hinge", "squaredhinge"}


def _key(loss: str) -> str:
    return loss.lower().replace("_", "")


def default_compile(
    info: DatasetInfo, output_units: int | None = None, output_activation: str | None = None
) -> dict:
    """{"loss": ..., "metrics": [...]} that fits ``info`` and the model's last layer.

    Class labels are kept as integer ids, hence the *sparse* categorical cross-entropy; a
    two-class set with a single (sigmoid) output unit gets the binary cross-entropy instead.
    ``output_activation`` is accepted for callers that know it; the unit count decides.
    """

    if info.task == "regression":
        task = "regression"
    elif info.num_classes == 2 and output_units == 1:
        task = "binary"
    else:
        task = "classification"
    loss, metrics = DEFAULTS[task]
    return {"loss": loss, "metrics": list(metrics)}


def encode_labels_for_loss(y: np.ndarray, loss: str | None, num_classes: int) -> np.ndarray:
    """Labels in the encoding ``loss`` expects; integer ids are what the loaders produce.

    One-hot for categorical losses, a float column (n, 1) for binary losses on two classes
    (one-hot floats for more classes: one sigmoid per class), unchanged otherwise.
    """
    if not loss or not isinstance(loss, str):
        return y
    key = _key(loss)
    y = np.asarray(y)
    wants_one_hot = key in ONE_HOT_LOSSES or (key in BINARY_LOSSES and num_classes > 2)
    if wants_one_hot:
        if y.ndim == 2 and y.shape[1] == num_classes:
            return y.astype(np.float32)  # already one-hot
        ids = y.reshape(-1).astype(np.int64)
        if num_classes < 1 or (ids.size and (ids.min() < 0 or ids.max() >= num_classes)):
            raise DataError(f"loss '{loss}' needs class ids between 0 and {num_classes - 1}")
        return np.eye(num_classes, dtype=np.float32)[ids]
    if key in BINARY_LOSSES:
        return y.reshape(-1, 1).astype(np.float32)
    return y
