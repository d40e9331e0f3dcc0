"""The Data page's helpers: cached previews, saving uploads, the augmentation preview."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from designer.design.spec import Node
from designer.model.build import make_layer
from designer.report import drawing
from designer.text import one_line
from ui import state

PREVIEW_LIMIT = 2000


def spec_key(design) -> dict[str, Any]:
    """The part of the design's data section that decides what a preview shows."""
    d = design.data
    return {
        "dataset": d.dataset,
        "path": d.path,
        "target": d.target,
        "seed": d.seed,
        "validation_split": d.validation_split,
        "test_split": d.test_split,
        "scaling": d.scaling,
    }


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
            f"could not read the data: {type(exc).__name__}: {one_line(exc, 200)}",
        )


def full_sizes(design, ds) -> dict[str, int]:
    """Samples per split for the whole set (the preview holds at most PREVIEW_LIMIT)."""
    n = ds.info.n_samples
    sizes = {"train": len(ds.y_train), "validation": len(ds.y_val), "test": len(ds.y_test)}
    if not n or sum(sizes.values()) >= n:
        return sizes
    v, t = design.data.validation_split, design.data.test_split
    if ds.info.n_test:  # a fixed test split: validation is a fraction of the training part
        val = int(round((n - ds.info.n_test) * v))
        return {"train": n - ds.info.n_test - val, "validation": val, "test": ds.info.n_test}
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
    types = pd.DataFrame(
        {
            "column": names,
            "type": [str(full[:, i].dtype) for i in range(len(names))],
            "min": full.min(axis=0) if len(full) else 0,
            "max": full.max(axis=0) if len(full) else 0,
        }
    )
    return df, types


def decoded_texts(ds, rows: int = 12):
    """The first texts of a word-id set as words again, with their class."""
    import pandas as pd

    vocab, classes = ds.vocabulary or [], ds.info.class_names
    texts = [
        " ".join(vocab[i] if i < len(vocab) else "<unknown>" for i in ids if i)
        for ids in ds.x_train[:rows]
    ]
    labels = [classes[int(i)] if int(i) < len(classes) else int(i) for i in ds.y_train[:rows]]
    return pd.DataFrame({"text": texts, "class": labels})


def sample_images(ds, n: int = 24) -> tuple[np.ndarray, list[str]]:
    x, y = ds.x_train[:n], ds.y_train[:n]
    classes = ds.info.class_names
    return x, [classes[int(i)] if int(i) < len(classes) else str(i) for i in y]


def augment_preview(
    aug: list[Node], images: np.ndarray, seed: int = 0, variants: int = 6
) -> np.ndarray:
    """``variants`` augmented copies of each image (n*variants, h, w, c), as training sees them.

    Imports Keras: only called when the person asks for the preview.
    """
    import keras

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


# ---- the data set cards --------------------------------------------------------------------------
KIND_TABS = {"image": "Images", "tabular": "Tables", "points2d": "2-D points", "sequence": "Text"}
UPLOAD_TAB = "Upload my own"


@st.cache_data(show_spinner=False)
def thumbnail(dataset_id: str) -> str | None:
    """A small SVG of a few samples (None for sets that need a download, or fail to load)."""
    from designer.data import is_available, load_dataset

    if not is_available(dataset_id):
        return None
    try:
        ds = load_dataset({"dataset": dataset_id}, limit=240)
    except Exception:  # noqa: BLE001 - a card without a picture is still a card
        return None
    return drawing.dataset_thumbnail_svg(ds.x_train, ds.y_train, ds.info.kind, ds.info.num_classes)


def card_facts(info) -> str:
    """``1,797 samples · 8×8×1 · 10 classes``."""
    shape = "×".join(str(s) for s in info.input_shape)
    target = f"{info.num_classes} classes" if info.num_classes else "regression"
    size = f"{info.n_samples:,} samples" if info.n_samples else "size unknown"
    return f"{size} · {shape} · {target}"


def dataset_cards(infos: list, current: str | None, choose, upload_tab) -> None:
    """Built-in sets as cards, one tab per kind; ``choose(id)`` runs when a card is picked.

    ``upload_tab()`` draws the last tab (the uploader). The tab of the set in use opens first.
    """
    from designer.data import is_available

    groups: dict[str, list] = {}
    for info in infos:
        groups.setdefault(KIND_TABS.get(info.kind, "Other"), []).append(info)
    labels = [*groups, UPLOAD_TAB]
    by_id = {i.id: i for i in infos}
    default = (
        UPLOAD_TAB
        if current == "upload"
        else (KIND_TABS.get(by_id[current].kind) if current in by_id else labels[0])
    )
    tabs = st.tabs(labels, default=default)
    columns = 4
    for tab, label in zip(tabs, labels):
        with tab:
            if label == UPLOAD_TAB:
                upload_tab()
                continue
            group = groups[label]
            for start in range(0, len(group), columns):
                cols = st.columns(columns)
                for col, info in zip(cols, group[start : start + columns]):
                    with col.container(border=True):
                        st.markdown(
                            f"<div style='min-height:3.2em'><b>{info.name}</b><br>"
                            "<span style='font-size:0.8rem;opacity:0.7'>"
                            f"{card_facts(info)}</span></div>",
                            unsafe_allow_html=True,
                        )
                        picture = thumbnail(info.id)
                        st.markdown(
                            "<div style='height:64px;display:flex;align-items:center;"
                            "justify-content:center;font-size:0.8rem;opacity:0.7'>"
                            f"{picture or 'downloads once from the internet'}</div>",
                            unsafe_allow_html=True,
                        )
                        in_use = info.id == current
                        st.button(
                            "✓ In use" if in_use else "Use",
                            key=f"ds_{info.id}",
                            width="stretch",
                            type="primary" if in_use else "secondary",
                            on_click=None if in_use else choose,
                            args=(info.id,),
                            help=None if is_available(info.id) else "Needs the internet once",
                        )
