"""Split a loaded set into train/validation/test and scale it: the same for every source.

The split is written with numpy rather than scikit-learn: importing scikit-learn costs
seconds, and a per-class shuffle with a seeded generator is all a stratified split needs.
Scaling statistics come from the training part only, so nothing leaks from validation/test.
"""

from __future__ import annotations

import numpy as np

from .types import SCALINGS, DataError, Dataset, Raw, apply_scaling


def check_splits(validation_split: float, test_split: float, has_test: bool) -> None:
    for name, value in (("validation_split", validation_split), ("test_split", test_split)):
        if not 0 <= value < 1:
            raise DataError(f"{name} must be between 0 and 1 (a fraction), got {value}")
    if not has_test and validation_split + test_split >= 1:
        raise DataError(
            f"validation_split + test_split must leave data to train on, got "
            f"{validation_split} + {test_split}"
        )


def split_indices(
    y: np.ndarray, fractions: tuple[float, ...], seed: int, stratify: bool
) -> list[np.ndarray]:
    """Index arrays for the rest + one part per fraction (of the whole), each shuffled.

    Stratified: every class is cut in the same proportions, so a rare class still shows up
    in validation. Each class keeps at least one training sample.
    """
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(len(y))]
    parts: list[list[np.ndarray]] = [[] for _ in range(len(fractions) + 1)]
    for idx in groups:
        idx = rng.permutation(idx)
        counts = [int(round(len(idx) * f)) for f in fractions]
        while sum(counts) > len(idx) - 1 and any(counts):
            counts[counts.index(max(counts))] -= 1  # give one back to training
        start = 0
        for i, c in enumerate(counts, start=1):
            parts[i].append(idx[start : start + c])
            start += c
        parts[0].append(idx[start:])
    return [rng.permutation(np.concatenate(p)) for p in parts]


def fit_scaling(x: np.ndarray, kind: str, method: str, pixel_max: float | None) -> dict:
    """Scaling parameters learned from training samples ``x`` (file units)."""
    if method not in SCALINGS:
        raise DataError(f"unknown scaling '{method}'; choose one of {', '.join(SCALINGS)}")
    if kind == "sequence" or not np.issubdtype(x.dtype, np.number):
        return {"method": "none"}  # token ids are labels, not quantities
    if method == "auto":
        if kind == "image":
            return {"method": "divide", "by": float(pixel_max or _guess_pixel_max(x))}
        # Playground points are already centred and small; keep the coordinates readable.
        method = "none" if kind == "points2d" else "standard"
    if method == "none" or len(x) == 0:
        return {"method": "none"}
    # Images: one statistic per channel; tables and points: one per column.
    axes = tuple(range(x.ndim - 1)) if kind == "image" else 0
    xf = x.astype(np.float64)
    if method == "standard":
        std = xf.std(axis=axes)
        std[std == 0] = 1.0  # a constant column stays 0 instead of becoming NaN
        return {
            "method": "standard",
            "mean": xf.mean(axis=axes).astype(np.float32),
            "std": std.astype(np.float32),
        }
    lo, hi = xf.min(axis=axes), xf.max(axis=axes)
    rng = hi - lo
    rng[rng == 0] = 1.0
    return {"method": "minmax", "min": lo.astype(np.float32), "range": rng.astype(np.float32)}


def _guess_pixel_max(x: np.ndarray) -> float:
    top = float(x.max()) if x.size else 1.0
    return 1.0 if top <= 1.0 else 255.0 if top <= 255.0 else top


def make_dataset(
    raw: Raw,
    *,
    validation_split: float = 0.2,
    test_split: float = 0.2,
    seed: int = 42,
    scaling: str = "auto",
    limit: int | None = None,
) -> Dataset:
    """Split, cap and scale ``raw``.

    Fractions are of the whole set (0.2/0.2 gives 60/20/20). Sets that ship an official
    test split keep it; then ``validation_split`` is a fraction of their training part and
    ``test_split`` is not used. ``limit`` caps the training samples, and the validation and
    test samples too, so that previews and tests stay fast.
    """
    info = raw.info
    has_test = raw.x_test is not None
    check_splits(validation_split, test_split, has_test)
    if limit is not None and limit < 1:
        raise DataError(f"limit must be at least 1, got {limit}")
    stratify = info.task != "regression"
    fractions = (validation_split,) if has_test else (validation_split, test_split)
    parts = split_indices(raw.y, fractions, seed, stratify)
    train, val = parts[0], parts[1]
    if limit is not None:
        train, val = train[:limit], val[:limit]
    x_tr, y_tr, x_va, y_va = raw.x[train], raw.y[train], raw.x[val], raw.y[val]
    if has_test:
        x_te, y_te = raw.x_test, raw.y_test
        if limit is not None and len(y_te) > limit:
            pick = np.random.default_rng(seed).permutation(len(y_te))[:limit]
            x_te, y_te = x_te[pick], y_te[pick]
    else:
        test = parts[2][:limit] if limit is not None else parts[2]
        x_te, y_te = raw.x[test], raw.y[test]
    for name, frac, part in (("validation", validation_split, y_va), ("test", test_split, y_te)):
        if frac > 0 and len(part) == 0:
            raise DataError(f"'{info.label}' has too few samples for a {name} set; add data")

    params = fit_scaling(x_tr, info.kind, scaling, raw.pixel_max)
    y_dtype = np.float32 if info.task == "regression" else np.int64
    return Dataset(
        info=info,
        x_train=apply_scaling(x_tr, params, info.input_dtype),
        y_train=y_tr.astype(y_dtype),
        x_val=apply_scaling(x_va, params, info.input_dtype),
        y_val=y_va.astype(y_dtype),
        x_test=apply_scaling(x_te, params, info.input_dtype),
        y_test=y_te.astype(y_dtype),
        feature_names=raw.feature_names,
        vocabulary=raw.vocabulary,
        warnings=list(raw.warnings),
        scaling=params,
    )
