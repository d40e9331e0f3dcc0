"""Files people bring: a CSV table (here), a ZIP of images (image_zip) or arrays (npz).

Whatever is wrong with a file becomes a one-line `DataError` naming the column, line or
entry to fix. Things we repair silently (missing values, junk cells) are reported in
`Raw.warnings` so the Data page can show them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from designer.text import one_line, over_limit

from .types import MAX_UPLOAD_BYTES, DataError, DatasetInfo, Raw

MIN_ROWS = 10  # fewer cannot be split into train/validation/test
MAX_CATEGORIES = 50  # a text column with more distinct values is free text or an id
MAX_INT_CLASSES = 20  # an integer target with at most this many values is a class label
MAX_CLASSES = 200  # beyond this a text target is almost surely an id, not a class
JUNK_TOLERANCE = 0.05  # share of non-numbers ('?', 'n/a') a numeric column may contain


def check_size(path: Path) -> None:
    if not path.is_file():
        raise DataError(f"file not found: {path}")
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        shown, limit = over_limit(size, MAX_UPLOAD_BYTES)
        raise DataError(f"'{path.name}' is {shown}; uploads are limited to {limit}")


def encode_target(values: np.ndarray, what: str, integer_dtype_is_label: bool = False):
    """(y, task, class_names): class ids for labels, float32 for a quantity.

    A column is a label when it is text/bool, or whole numbers with few distinct values
    (NPZ integer arrays are labels up to MAX_CLASSES values: image sets have 100 classes).
    """
    values = np.asarray(values)
    numeric = values.dtype.kind in "iuf"
    distinct = np.unique(values)
    if numeric:
        whole = bool(np.all(np.mod(values, 1) == 0))
        limit = (
            MAX_CLASSES if integer_dtype_is_label and values.dtype.kind in "iu" else MAX_INT_CLASSES
        )
        if not (whole and len(distinct) <= limit):
            return values.astype(np.float32), "regression", []
    if len(distinct) < 2:
        raise DataError(f"{what} has only one value ({distinct[0]}): nothing to learn")
    if len(distinct) > MAX_CLASSES:
        raise DataError(f"{what} has {len(distinct)} different values: too many classes")
    names = [str(int(v)) if numeric else str(v) for v in distinct]
    return np.searchsorted(distinct, values).astype(np.int64), "classification", names


# ---- CSV --------------------------------------------------------------------------------


def decode_text(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        raise DataError(f"'{name}' is not a text file; save the table as CSV (UTF-8)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(
            f"'{name}' is not UTF-8 text (byte {e.start}); save it again as 'CSV UTF-8'"
        ) from e


def guess_delimiter(text: str) -> str:
    # European spreadsheets write ';'; pick the separator the header line uses most.
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in ",;\t|"}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _check_ragged(text: str, delimiter: str, name: str) -> None:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    width = None
    try:
        for row in reader:
            if not row:
                continue
            if width is None:
                width = len(row)
            elif len(row) != width:
                raise DataError(
                    f"line {reader.line_num} of '{name}' has {len(row)} fields but the header "
                    f"has {width}: fix or delete that line"
                )
    except csv.Error as e:
        raise DataError(f"line {reader.line_num} of '{name}' is not valid CSV: {e}") from e


def _feature_columns(df, target: str, warnings: list[str]):
    import pandas as pd

    parts, names = [], []
    for col in [c for c in df.columns if c != target]:
        s = df[col]
        if s.isna().all():
            warnings.append(f"column '{col}' is empty and was left out")
            continue
        if not pd.api.types.is_numeric_dtype(s):
            num = pd.to_numeric(s, errors="coerce")
            junk = s.notna() & num.isna()
            if num.notna().any() and junk.sum() <= JUNK_TOLERANCE * s.notna().sum():
                if junk.any():
                    warnings.append(
                        f"column '{col}': {junk.sum()} values that are not numbers "
                        f"(e.g. '{s[junk].iloc[0]}') treated as missing"
                    )
                s = num
        if pd.api.types.is_numeric_dtype(s):
            s = s.astype(np.float64)
            missing = int(s.isna().sum())
            if missing:
                median = s.median()
                s = s.fillna(median)
                warnings.append(
                    f"column '{col}': {missing} missing values filled with the median {median:g}"
                )
            parts.append(s.to_numpy(np.float32)[:, None])
            names.append(str(col))
            continue
        distinct = s.nunique(dropna=True)
        if distinct > MAX_CATEGORIES:
            raise DataError(
                f"column '{col}' has {distinct} different text values (free text or an id?): "
                f"remove it or choose it as the target; categories are limited to {MAX_CATEGORIES}"
            )
        missing = int(s.isna().sum())
        if missing:
            warnings.append(f"column '{col}': {missing} missing values get no category")
        dummies = pd.get_dummies(
            s.astype(object), prefix=str(col), prefix_sep="=", dtype=np.float32
        )
        parts.append(dummies.to_numpy())
        names.extend(str(c) for c in dummies.columns)
    return parts, names


def read_csv(path: str | Path, target: str | None) -> Raw:
    import pandas as pd

    path = Path(path)
    check_size(path)
    name = path.name
    text = decode_text(path.read_bytes(), name)
    if not text.strip():
        raise DataError(f"'{name}' is empty")
    delimiter = guess_delimiter(text)
    _check_ragged(text, delimiter, name)
    try:
        df = pd.read_csv(io.StringIO(text), sep=delimiter, skipinitialspace=True, low_memory=False)
    except (pd.errors.ParserError, ValueError) as e:
        raise DataError(f"'{name}' is not valid CSV: {one_line(e, 160)}") from e
    df.columns = [str(c).strip() for c in df.columns]
    columns = ", ".join(df.columns)
    if target is None or target == "":
        raise DataError(f"choose the target column of '{name}': one of {columns}")
    if target not in df.columns:
        raise DataError(f"column '{target}' not found in '{name}'; the columns are: {columns}")

    warnings: list[str] = []
    missing_target = int(df[target].isna().sum())
    if missing_target:
        df = df[df[target].notna()].reset_index(drop=True)
        warnings.append(f"{missing_target} rows without a value in '{target}' were left out")
    if len(df) < MIN_ROWS:
        raise DataError(
            f"'{name}' has {len(df)} data rows with a '{target}' value; at least {MIN_ROWS} are "
            "needed to train and check a model"
        )
    parts, feature_names = _feature_columns(df, target, warnings)
    if not parts:
        raise DataError(f"'{name}' has no usable column besides the target '{target}'")
    x = np.concatenate(parts, axis=1)
    t = df[target]
    if pd.api.types.is_bool_dtype(t) or not pd.api.types.is_numeric_dtype(t):
        t = t.astype(str).str.strip()
    y, task, classes = encode_target(t.to_numpy(), f"the target '{target}'")
    info = DatasetInfo(
        id="upload",
        name=name,
        description=f"{len(df)} rows, {x.shape[1]} features, target '{target}' ({task})",
        task=task,
        input_shape=(x.shape[1],),
        class_names=classes,
        source="upload",
        n_samples=len(df),
        kind="tabular",
    )
    return Raw(x, y, info, feature_names=feature_names, warnings=warnings)
