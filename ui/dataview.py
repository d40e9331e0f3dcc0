"""The Data page's helpers: cached previews, saving uploads, the augmentation preview."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from designer.spec import Node
from ui import state

PREVIEW_LIMIT = 2000


def spec_key(design) -> dict[str, Any]:
    """The part of the design's data section that decides what a preview shows."""
    d = design.data
    return {"dataset": d.dataset, "path": d.path, "target": d.target, "seed": d.seed,
            "validation_split": d.validation_split, "test_split": d.test_split,
            "scaling": d.scaling}  # fmt: skip


@st.cache_data(show_spinner=False, max_entries=8)
def _load(spec: dict[str, Any], limit: int):
    from designer.data import load_dataset

    return load_dataset(spec, limit=limit)


def load_preview(design) -> tuple[Any | None, str | None]:
    """(Dataset, None) or (None, the reason in plain words)."""
    from designer.data import DataError

    spec = spec_key(design)
    if spec["dataset"] == "upload" and not spec["path"]:
        return None, "Upload a file to see it here."
    try:
        return _load(spec, PREVIEW_LIMIT), None
    except DataError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - a broken file is a message, never a traceback
        return (
            None,
            f"could not read the data: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}",
        )


def full_sizes(design, ds) -> dict[str, int]:
    """Samples per split for the whole set (the preview holds at most PREVIEW_LIMIT)."""
    n = ds.info.n_samples
    sizes = {"train": len(ds.y_train), "validation": len(ds.y_val), "test": len(ds.y_test)}
    if not n or sum(sizes.values()) >= n:
        return sizes
    v, t = design.data.validation_split, design.data.test_split
    test = int(round(n * t))
    val = int(round(n * v))
    return {"train": n - val - test, "validation": val, "test": test}


def safe_name(name: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).name).strip("._") or "upload"
    return base[:120]


def save_upload(name: str, data: bytes) -> Path:
    """Keep an uploaded data file in this session's upload folder (training reads it there)."""
    from designer.data import MAX_UPLOAD_BYTES, DataError

    if len(data) > MAX_UPLOAD_BYTES:
        raise DataError(f"{name} is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    folder = state.uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe_name(name)
    path.write_bytes(data)
    return path.resolve()


def feature_table(ds, rows: int = 12):
    """The first rows as a pandas table, and one line per column with its type and range."""
    import pandas as pd

    x = ds.x_train.reshape(len(ds.x_train), -1)[:rows]
    names = ds.feature_names or [f"x{i + 1}" for i in range(x.shape[1])]
    names = names[: x.shape[1]]
    df = pd.DataFrame(x[:, : len(names)], columns=names)
    if ds.info.task == "regression":
        df["target"] = ds.y_train[:rows]
    else:
        classes = ds.info.class_names
        df["class"] = [
            classes[int(i)] if int(i) < len(classes) else int(i) for i in ds.y_train[:rows]
        ]
    full = ds.x_train.reshape(len(ds.x_train), -1)[:, : len(names)]
    types = pd.DataFrame({
        "column": names,
        "type": [str(full[:, i].dtype) for i in range(len(names))],
        "min": full.min(axis=0) if len(full) else 0,
        "max": full.max(axis=0) if len(full) else 0,
    })  # fmt: skip
    return df, types


def sample_images(ds, n: int = 24) -> tuple[np.ndarray, list[str]]:
    x, y = ds.x_train[:n], ds.y_train[:n]
    classes = ds.info.class_names
    return x, [classes[int(i)] if int(i) < len(classes) else str(i) for i in y]


def augment_preview(aug: list[Node], images: np.ndarray, seed: int = 0, variants: int = 6) -> np.ndarray:  # fmt: skip
    """``variants`` augmented copies of each image (n*variants, h, w, c), as training sees them.

    Imports Keras: only called when the person asks for the preview.
    """
    import keras

    from designer.build import make_layer

    x = np.asarray(images, dtype="float32")
    layers = [make_layer(node, (None, *x.shape[1:])) for node in aug]
    keras.utils.set_random_seed(seed)
    out = []
    for img in x:
        batch = np.repeat(img[None], variants, axis=0)
        for layer in layers:
            batch = layer(batch, training=True)
        out.append(np.asarray(batch))
    return np.concatenate(out, axis=0)
