"""Evaluate/Inspect helpers: cached models and evaluations of runs, and preparing new inputs.

Loading a model imports Keras in the app process; only the Evaluate and Inspect pages do it,
and each run's model is loaded once (cached on the file's modification time).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from designer.text import one_line
from designer.training import rundir
from ui import runs


def evaluated_runs() -> list[str]:
    """Runs with a saved model and test metrics, newest first."""
    return [
        r.id
        for r in runs.all_runs()
        if (runs.run_path(r.id) / "metrics.json").is_file()
        and (runs.run_path(r.id) / "model.keras").is_file()
    ]


def _mtime(run_id: str, name: str = "model.keras") -> float:
    try:
        return (runs.run_path(run_id) / name).stat().st_mtime
    except OSError:
        return 0.0


@st.cache_resource(show_spinner=False, max_entries=4)
def _model(run_dir: str, mtime: float) -> Any:
    from designer.report.evaluate import load_run_model

    return load_run_model(run_dir)


def stamp(run_id: str) -> float:
    """When the run's model file was last written (cache keys: a resumed run is new)."""
    return _mtime(run_id)


def model(run_id: str) -> Any:
    return _model(str(runs.run_path(run_id)), _mtime(run_id))


@st.cache_resource(show_spinner=False, max_entries=4)
def _evaluation(run_dir: str, mtime: float) -> Any:
    from designer.report.evaluate import evaluate_run

    return evaluate_run(run_dir, model=_model(run_dir, mtime))


def evaluation(run_id: str) -> tuple[Any | None, str | None]:
    """(Evaluation, None) or (None, why): the run's model on its test split."""
    try:
        return _evaluation(str(runs.run_path(run_id)), _mtime(run_id)), None
    except Exception as exc:  # noqa: BLE001 - a missing file or data set is a message
        return None, f"{type(exc).__name__}: {one_line(exc, 300)}"


def metrics(run_id: str) -> dict[str, Any]:
    data = rundir.read_json(runs.run_path(run_id) / rundir.METRICS_FILE)
    return data if isinstance(data, dict) else {}


def per_class_table(rows: list[dict[str, Any]], key: str) -> None:
    """Precision, recall and F1 per class as bars in their cells: black text, readable anywhere."""
    import pandas as pd

    df = pd.DataFrame(rows)
    score = {
        k: st.column_config.ProgressColumn(
            k.capitalize() if k != "f1" else "F1",
            min_value=0.0,
            max_value=1.0,
            format="%.2f",
            width="small",
        )
        for k in ("precision", "recall", "f1")
    }
    st.dataframe(
        df,
        hide_index=True,
        key=key,
        width="stretch",
        column_config=score
        | {
            "class": st.column_config.TextColumn("Class", width="small"),
            "support": st.column_config.NumberColumn("Samples", width="small"),
        },
    )


def boundary(model_: Any, x: np.ndarray, size: int = 80) -> tuple[list, list, np.ndarray]:
    """The model's prediction over a grid covering 2-D points: (xs, ys, z)."""
    from designer.report.evaluate import as_probabilities
    from designer.report.neurons import grid_axes, grid_points

    xs, ys = grid_axes(x, size)
    probs = as_probabilities(model_.predict(grid_points(xs, ys), batch_size=4096, verbose=0))
    z = probs[:, 1] if probs.shape[1] == 2 else probs.argmax(axis=1)
    return xs.tolist(), ys.tolist(), z.reshape(size, size)


@st.cache_data(show_spinner=False, max_entries=8)
def _unit_maps(run_id: str, stamp: float, x: np.ndarray) -> dict[str, Any]:
    from designer.report import neurons

    xs, ys = neurons.grid_axes(x, neurons.SIZE)
    layers = neurons.UnitProbe(model(run_id)).maps(xs, ys)
    return {"xs": xs.tolist(), "ys": ys.tolist(), "layers": layers}


def unit_maps(run_id: str, x: np.ndarray) -> dict[str, Any]:
    """Every hidden unit of the run's model over the plane of the 2-D points ``x`` (the same
    maps the Train page streamed while it trained)."""
    return _unit_maps(run_id, stamp(run_id), x)


def mistakes_gallery(ev: Any, k: int = 16) -> tuple[np.ndarray, list[str]]:
    names = ev.dataset.info.class_names
    items = ev.mistakes[:k]
    images = np.stack([ev.x[m["index"]] for m in items]) if items else np.zeros((0, 1, 1))
    titles = [f"{names[m['true']]}→{names[m['predicted']]} {m['confidence']:.0%}" for m in items]
    return images, titles


# ---- new inputs: in the data set's file units, so Dataset.transform scales them ---------------
def raw_units(ds: Any, x_scaled: np.ndarray) -> np.ndarray:
    """Undo the data set's scaling (to prefill a form with a real sample)."""
    s = ds.scaling or {"method": "none"}
    x = np.asarray(x_scaled, dtype=np.float64)
    if s.get("method") == "standard":
        return x * np.asarray(s["std"]) + np.asarray(s["mean"])
    if s.get("method") == "minmax":
        return x * np.asarray(s["range"]) + np.asarray(s["min"])
    if s.get("method") == "divide":
        return x * float(s["by"])
    return x


def paint(grid: np.ndarray, indices: list[int], value: float) -> np.ndarray:
    """``grid`` with the pixels at flat ``indices`` set to ``value`` (a new array)."""
    out = np.array(grid, dtype=np.float32)
    flat = out.reshape(-1)
    valid = [i for i in indices if 0 <= int(i) < flat.size]
    flat[valid] = value
    return out


def drawing_as_sample(grid: np.ndarray, ds: Any) -> np.ndarray:
    """A drawing (ink in [0, 1]) as one sample in the data set's file units (like a picture)."""
    return (np.asarray(grid, dtype=np.float32)[..., None] * _full_pixel(ds)).astype(np.float32)


def _full_pixel(ds: Any) -> float:
    """The largest pixel value in the data set's files (16 for scikit-learn's digits)."""
    s = ds.scaling or {}
    return float(s.get("by", 255.0)) if s.get("method") == "divide" else 255.0


def image_from_upload(data: bytes, ds: Any, invert: str = "auto") -> np.ndarray:
    """An uploaded picture as one sample of the data set: resized, grey or colour, scaled."""
    from PIL import Image, ImageOps

    shape = tuple(ds.info.input_shape)
    h, w, c = shape if len(shape) == 3 else (*shape, 1)
    img = Image.open(io.BytesIO(data))
    img = (
        ImageOps.exif_transpose(img).convert("L" if c == 1 else "RGB").resize((w, h), Image.LANCZOS)
    )
    a = np.asarray(img, dtype=np.float64) / 255.0
    if c == 1:
        a = a[..., None]
    # Digit sets are light strokes on black; a drawing on white paper is the other way round.
    if invert == "yes" or (invert == "auto" and a.mean() > 0.5 and _dark_background(ds)):
        a = 1.0 - a
    return (a * _full_pixel(ds)).astype(np.float32)


def _dark_background(ds: Any) -> bool:
    sample = np.asarray(ds.x_train[:200], dtype=np.float64)
    return bool(sample.size) and float(sample.mean()) < 0.5 * float(sample.max() or 1.0)


def run_dir(run_id: str) -> Path:
    return runs.run_path(run_id)
