"""An NPZ upload: arrays ``x`` and ``y`` (or Keras-style ``x_train``/``y_train``, with an
optional ``x_test``/``y_test`` pair kept as the test set).

Loaded with ``allow_pickle=False``: an NPZ from a stranger must not run code when opened.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from designer.text import over_limit

from .types import MAX_UNPACKED_BYTES, DataError, DatasetInfo, Raw
from .uploads import MIN_ROWS, check_size, encode_target


def _pick(npz, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in npz.files), None)


def _array(npz, key: str, name: str) -> np.ndarray:
    try:
        return npz[key]
    except ValueError as e:  # object arrays refuse to load without pickle, on purpose
        raise DataError(f"array '{key}' in '{name}' holds Python objects; save numbers only") from e


def _image_or_table(x: np.ndarray, what: str) -> tuple[np.ndarray, str]:
    if x.dtype.kind not in "biuf":
        raise DataError(f"{what} must hold numbers, not {x.dtype}")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise DataError(f"{what} contains NaN or infinite values")
    if x.ndim == 1:
        return x[:, None], "tabular"
    if x.ndim == 2:
        return x, "tabular"
    if x.ndim == 3:  # (n, height, width): grey images without a channel axis
        return x[..., None], "image"
    if x.ndim == 4:
        return x, "image"
    raise DataError(f"{what} has shape {x.shape}; expected (samples, features) or images")


def _labels(y: np.ndarray, n: int, what: str, warnings: list[str]) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2 and np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all():
        warnings.append(f"{what} is one-hot; it was turned into class ids")
        y = y.argmax(axis=1)
    if y.ndim != 1:
        raise DataError(f"{what} has shape {y.shape}; expected one label per sample")
    if len(y) != n:
        raise DataError(f"x has {n} samples but {what} has {len(y)}: they must match")
    return y


def read_npz(path: str | Path) -> Raw:
    path = Path(path)
    check_size(path)
    name = path.name
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise DataError(f"'{name}' is not a readable .npz file") from e
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise DataError(f"'{name}' is a single array; save x and y with numpy.savez")
    with npz:
        # Compressed NPZ members can unpack to far more than the file size: check first.
        unpacked = sum(i.file_size for i in npz.zip.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            size, limit = over_limit(unpacked, MAX_UNPACKED_BYTES)
            raise DataError(f"'{name}' unpacks to {size}; the limit is {limit}")
        kx, ky = _pick(npz, ("x", "X", "x_train")), _pick(npz, ("y", "Y", "y_train"))
        if kx is None or ky is None:
            raise DataError(f"'{name}' needs arrays named x and y; it has {', '.join(npz.files)}")
        x, y = _array(npz, kx, name), _array(npz, ky, name)
        kxt, kyt = _pick(npz, ("x_test",)), _pick(npz, ("y_test",))
        has_test = kxt is not None and kyt is not None and kx == "x_train"
        x_test = _array(npz, kxt, name) if has_test else None
        y_test = _array(npz, kyt, name) if has_test else None

    warnings: list[str] = []
    x, kind = _image_or_table(x, f"x in '{name}'")
    y = _labels(y, len(x), "y", warnings)
    if len(x) < MIN_ROWS:
        raise DataError(f"'{name}' has {len(x)} samples; at least {MIN_ROWS} are needed")
    if has_test:
        x_test, _ = _image_or_table(x_test, f"x_test in '{name}'")
        y_test = _labels(y_test, len(x_test), "y_test", warnings)
        if x_test.shape[1:] != x.shape[1:]:
            raise DataError(
                f"x_test samples are {x_test.shape[1:]} but x_train's are {x.shape[1:]}"
            )
    both = np.concatenate([y, y_test]) if has_test else y
    y_all, task, classes = encode_target(both, "y", integer_dtype_is_label=True)
    y, y_test = (y_all[: len(y)], y_all[len(y) :]) if has_test else (y_all, None)
    info = DatasetInfo(
        id="upload",
        name=name,
        description=f"{len(x)} samples of shape {x.shape[1:]} ({task})",
        task=task,
        input_shape=tuple(int(d) for d in x.shape[1:]),
        class_names=classes,
        source="upload",
        n_samples=len(x) + (len(x_test) if has_test else 0),
        kind=kind,
    )
    return Raw(x, y, info, x_test=x_test, y_test=y_test, warnings=warnings)
