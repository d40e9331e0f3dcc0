"""What the Train page shows about a run: the progress line, the live charts, the problems."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import streamlit as st

from designer.report import distributions as dist
from designer.report import viz
from designer.training import rundir
from designer.training.snapshot import RunSnapshot
from ui.status import status_badge

PHASES = {
    "queued": "waiting for a free training slot",
    "starting": "starting the training process",
    "loading data": "loading the data",
    "checking": "checking the design against the data",
    "building": "building the model",
    "saving": "saving the model",
    "evaluating": "measuring the model on the test set",
}


# How often a live fragment polls a job, by what the job is doing. A running job's progress
# moves every second; a queued one changes only its place in the queue. On a class server
# most watching sessions wait in the queue, and each poll costs the server 6-8 ms
# (BENCHMARKS.md, viewer_cpu_ms_per_s). A paused job is polled as a running one: Continue
# and Step go on in the job's process, and the page that sent them must show it at once.
def poll_seconds(snap: RunSnapshot | None, running: float, queued: float | None) -> float | None:
    """The interval for a fragment that polls the job of ``snap`` every ``running`` seconds
    while it trains or is paused and every ``queued`` seconds (None: not at all) while it
    waits for a slot; None once it has ended."""
    if snap is None or not snap.active:
        return None
    return queued if snap.status == "queued" else running


def progress_text(snap: RunSnapshot) -> str:
    """``epoch 3/20 · batch 41/57 · 12 s left`` (or what the job is doing before and after)."""
    status, epochs = snap.status, snap.epochs or 0
    done = snap.epoch or 0
    if status == "queued":
        pos = snap.queue_position
        return "waiting for a free training slot" + (f" (number {pos} in the queue)" if pos else "")
    if snap.done or status not in ("running", "paused"):
        elapsed = snap.elapsed
        took = f" in {elapsed:.0f} s" if isinstance(elapsed, (int, float)) and elapsed else ""
        return f"{status} · {done}/{epochs} epochs{took}"
    phase = snap.phase
    if phase in PHASES and phase != "training" and not snap.batch:
        return PHASES[phase] + "…"
    batch, batches = snap.batch or 0, snap.batches
    if status == "paused" and (not batch or (batches and batch >= batches)):
        return f"paused after epoch {done}/{epochs} · ▸ Step trains one more, ▶ Continue the rest"
    current = min(done + 1, epochs) or 1  # the epoch in progress
    parts = [f"epoch {current}/{epochs}"]
    if batches:
        parts.append(f"batch {batch}/{batches}")
    eta = snap.eta_s
    if isinstance(eta, (int, float)):
        parts.append(f"{eta:.0f} s left")
    if status == "paused":
        parts.append("paused")
    return " · ".join(parts)


def progress_fraction(snap: RunSnapshot) -> float:
    epochs = snap.epochs or 0
    if not epochs:
        return 0.0
    if snap.done and snap.status == "finished":
        return 1.0
    done = snap.epoch or 0
    batch, batches = snap.batch or 0, snap.batches or 0
    part = batch / batches if batches and batch < batches else 0.0
    return max(0.0, min(1.0, (done + part) / epochs))


def metric_names(history: list[dict[str, Any]]) -> list[str]:
    """Metrics to chart besides the loss, in the order Keras reports them."""
    keys: list[str] = []
    for row in history:
        for k in row:
            base = k[4:] if k.startswith("val_") else k
            if base not in ("loss", "epoch", "learning_rate", "lr") and base not in keys:
                keys.append(base)
    return keys


# A watched run's panel is redrawn every second while its history grows once per epoch, and
# a class server draws the same charts for many sessions: a figure is built once per
# (run, history, metric) and shared (Streamlit only reads it, to send it as JSON). The
# history itself is not hashed (Streamlit's hasher walking every row was 40 % of a watched
# run's server time, BENCHMARKS.md): a run's history only grows, one row per epoch (a resume
# after a crash cuts it back, then trains the cut epochs again with other values), so its
# length and last row name it.
@st.cache_resource(show_spinner=False, max_entries=256)
def _curves_figure(run: str, version: tuple, metric: str, _history: list[dict[str, Any]]):
    return viz.curves_figure([("run", _clean(_history))], metric)


@st.cache_resource(show_spinner=False, max_entries=128)
def _distribution_figures(run_dir: str, stamp: float, layer: str) -> tuple:
    """(activations, gradients or None, gradient norms or None) of ``layer``."""
    epochs = _distributions(run_dir, stamp)
    last = epochs[-1]["layers"]
    grads = (
        viz.distribution_figure(epochs, layer, "gradients")
        if last[layer].get("grad_counts")
        else None
    )
    norms = (
        viz.gradient_norms_figure(epochs)
        if any(v.get("grad_norm") for v in last.values())
        else None
    )
    return viz.distribution_figure(epochs, layer, "activations"), grads, norms


def curves(history: list[dict[str, Any]], key_prefix: str, run: str) -> None:
    """Loss and the first metric, train vs validation, side by side (``run``: whose history,
    a run id or folder)."""
    c1, c2 = st.columns(2)
    version = (len(history), tuple(history[-1].items()) if history else ())
    c1.plotly_chart(_curves_figure(run, version, "loss", history), key=f"{key_prefix}_loss")
    metrics = metric_names(history)
    if metrics:
        figure = _curves_figure(run, version, metrics[0], history)
        c2.plotly_chart(figure, key=f"{key_prefix}_metric")


def _clean(history: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Rows -> columns; NaN (a blank CSV cell) stays NaN so the line shows the gap."""
    out: dict[str, list[float]] = {}
    for row in history:
        for k, v in row.items():
            out.setdefault(k, []).append(float(v) if isinstance(v, (int, float)) else math.nan)
    return out


def compare(run_histories: list[tuple[str, list[dict[str, Any]]]]) -> None:
    runs = [(label, _clean(h)) for label, h in run_histories]
    metrics = metric_names([row for _, h in run_histories for row in h])
    c1, c2 = st.columns(2)
    c1.plotly_chart(viz.curves_figure(runs, "loss"), key="compare_loss")
    if metrics:
        c2.plotly_chart(viz.curves_figure(runs, metrics[0]), key="compare_metric")


def problems(snap: RunSnapshot) -> None:
    status = snap.status
    error = snap.last_error
    if status in ("failed", "nan", "interrupted") and error:
        kind = snap.error_kind
        where = {
            "design": "The design does not fit:",
            "data": "The data could not be used:",
            "nan": "Training diverged:",
        }.get(kind or "", "Training stopped:")
        lines = [f"- **{n}**: {m}" for n, m in snap.problems or []]
        st.error(f"**{where}** {error if not lines else ''}\n" + "\n".join(lines), icon="⚠️")
    for w in snap.warnings or []:
        st.warning(w, icon="⚠️")


def headline(snap: RunSnapshot) -> None:
    metrics = snap.metrics or {}
    place = {"local": "this machine"}.get(snap.where or "", snap.where)
    where = f" · on {place}" if place else ""
    st.markdown(f"**{snap.run_id}** · {status_badge(snap.status)}{where}")
    if not metrics or not metrics.get("n"):
        return
    split = metrics.get("split") or "test"
    cols = st.columns(3)
    if metrics.get("task") == "regression":
        cols[0].metric(f"MAE ({split})", f"{metrics['mae']:.4g}")
        cols[1].metric("RMSE", f"{metrics['rmse']:.4g}")
        cols[2].metric("R²", f"{metrics['r2']:.3f}")
    else:
        cols[0].metric(f"Accuracy ({split})", f"{metrics['accuracy']:.1%}")
        cols[1].metric("Macro F1", f"{metrics.get('macro_f1', 0):.3f}")
        cols[2].metric("Samples", f"{metrics['n']:,}")


def neurons(units: dict[str, Any] | None, key: str) -> None:
    """Every hidden unit's map over the plane (2-D sets), 8 per layer unless asked for all."""
    layers = (units or {}).get("layers") or []
    if not layers:
        return
    most = max(len(e["maps"]) for e in layers)
    shown = 8
    if most > shown and st.toggle(f"All units (up to {most} per layer)", key=f"{key}_all"):
        shown = most
    st.plotly_chart(
        viz.unit_maps_figure(layers, units["xs"], units["ys"], shown),
        key=key,
        config={"displayModeBar": False},
    )
    st.caption(
        "Each map is one hidden unit: how strongly it fires at each point of the plane "
        "(orange positive, blue negative). Hover a map for its incoming weights."
    )


@st.cache_resource(show_spinner=False, max_entries=16)  # shared and only read: no copy per call
def _distributions(run_dir: str, stamp: float) -> list[dict[str, Any]]:
    return rundir.read_distributions(run_dir)


def distributions(run_dir: str | None, key: str) -> None:
    """What the layers' outputs and gradients did, epoch by epoch, and the hints they give."""
    if not run_dir:
        return
    path = Path(run_dir) / rundir.DISTRIBUTIONS_FILE
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return
    epochs = _distributions(run_dir, stamp)
    if not epochs:
        return
    for hint in dist.hints(epochs[-1]["layers"]):
        st.warning(hint, icon="⚠️")
    with st.expander(f"Activations and gradients, layer by layer (epoch {epochs[-1]['epoch']})"):
        names = list(epochs[-1]["layers"])
        if not names:
            st.caption("No layer to show.")
            return
        with_weights = [n for n in names if epochs[-1]["layers"][n].get("grad_norm")]
        layer = st.selectbox(
            "Layer",
            names,
            index=names.index(with_weights[0]) if with_weights else 0,
            key=f"{key}_layer",
        )
        a, g = st.columns(2)
        activations, gradients, norms = _distribution_figures(run_dir, stamp, layer)
        a.plotly_chart(activations, key=f"{key}_act")
        if gradients is not None:
            g.plotly_chart(gradients, key=f"{key}_grad")
        else:
            g.caption(f"{layer} has no weights to learn: no gradients to show.")
        if norms is not None:
            st.plotly_chart(norms, key=f"{key}_norms")
        st.caption(
            "Measured after each epoch on the same 256 training samples; paler lines are "
            "older epochs. A layer whose outputs pile up at zero has dead units; one whose "
            "gradients are far below the others' learns little."
        )
