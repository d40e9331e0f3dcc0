"""The entry points: a `DataSpec` (or a data-set id) in, a split and scaled `Dataset` out."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from . import builtin, uploads
from .image_zip import read_image_zip
from .npz import read_npz
from .preprocess import make_dataset
from .types import DataError, Dataset, DatasetInfo, Raw

_DEFAULTS = {"validation_split": 0.2, "test_split": 0.2, "seed": 42, "scaling": "auto"}


def _settings(spec_or_id: Any) -> dict[str, Any]:
    """Read a DataSpec, a dict shaped like one, or a bare id, into plain settings."""
    if isinstance(spec_or_id, str):
        return {"dataset": spec_or_id, "path": None, "target": None, **_DEFAULTS}
    get = spec_or_id.get if isinstance(spec_or_id, dict) else lambda k, d: getattr(spec_or_id, k, d)
    out = {k: get(k, None) for k in ("dataset", "path", "target")}
    for key, default in _DEFAULTS.items():
        value = get(key, default)
        out[key] = default if value is None else value
    return out


def load_raw(spec_or_id: Any) -> Raw:
    """The unsplit data a spec points at (built-in set or uploaded file)."""
    s = _settings(spec_or_id)
    dataset, path = s["dataset"], s["path"]
    # A path counts when the spec says "upload" or names nothing else; a stale path left
    # behind next to a built-in id does not hijack the built-in set.
    if dataset in (None, "", "upload"):
        if not path:
            what = "choose a file to upload" if dataset == "upload" else "choose a data set"
            raise DataError(f"no data yet: {what}")
        return read_upload(path, s["target"])
    return builtin.load_raw(dataset, seed=int(s["seed"]))


def load_dataset(spec_or_id: Any, *, limit: int | None = None) -> Dataset:
    """Load, split (seeded, stratified for classes) and scale the data a spec describes."""
    s = _settings(spec_or_id)
    return make_dataset(
        load_raw(s),
        validation_split=float(s["validation_split"]),
        test_split=float(s["test_split"]),
        seed=int(s["seed"]),
        scaling=str(s["scaling"]),
        limit=limit,
    )


def _unpack(raw: Raw, warnings: list[str] | None):
    if warnings is not None:
        warnings.extend(raw.warnings)
    return raw.x, raw.y, raw.info, raw.feature_names


def load_csv(
    path: str | Path, target: str | None, *, warnings: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray, DatasetInfo, list[str]]:
    """(x, y, info, feature_names) of a CSV; repairs made are appended to ``warnings``."""
    return _unpack(uploads.read_csv(path, target), warnings)


def load_image_zip(
    path: str | Path, *, warnings: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray, DatasetInfo, None]:
    """(x uint8 images, y class ids, info, None) of a ZIP with one folder per class."""
    return _unpack(read_image_zip(path), warnings)


def load_npz(
    path: str | Path, *, warnings: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray, DatasetInfo, None]:
    """(x, y, info, None) of an NPZ with arrays x and y (an x_test/y_test pair is not returned)."""
    return _unpack(read_npz(path), warnings)


def csv_columns(path: str | Path) -> list[str]:
    """The header of a CSV, for the "which column is the target?" choice before loading."""
    path = Path(path)
    uploads.check_size(path)
    with path.open("rb") as f:
        head = f.read(1 << 16)
    try:
        text = uploads.decode_text(head, path.name)
    except DataError:
        # The 64 KB cut may split a UTF-8 character; decoding the whole file tells for sure.
        text = uploads.decode_text(path.read_bytes(), path.name)
    row = next(csv.reader(io.StringIO(text), delimiter=uploads.guess_delimiter(text)), [])
    return [c.strip() for c in row]


def read_upload(path: str | Path, target: str | None = None) -> Raw:
    """An uploaded file, read by the reader its suffix names."""
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return uploads.read_csv(path, target)
    if suffix == ".zip":
        return read_image_zip(path)
    if suffix == ".npz":
        return read_npz(path)
    raise DataError(f"cannot read '{Path(path).name}': upload a .csv, a .zip of images or a .npz")
