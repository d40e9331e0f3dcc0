"""The slim status line every page shows: design, data set, parameters, last run and status."""

from __future__ import annotations

import html
import sys

import streamlit as st

from designer.model import build
from ui import runs, state

STATUS_ICONS = {
    "queued": "…",
    "running": "▶",
    "paused": "‖",
    "finished": "✔",
    "stopped": "■",
    "failed": "✖",
    "nan": "✖",
    "interrupted": "⚠",
}


def status_badge(status: str | None) -> str:
    return f"{STATUS_ICONS.get(status or '', '•')} {status or 'no run'}"


def dataset_label(dataset: str | None) -> str:
    if not dataset:
        return "no data set"
    if dataset == "upload":
        path = state.design().data.path
        return f"upload: {path.rsplit('/', 1)[-1]}" if path else "upload"
    return dataset


def _count_if_keras_is_loaded() -> None:
    """Count the parameters for the status line when Keras is already imported (by the
    background warm-up or an earlier page); never import it here: Home must paint at once."""
    keras = sys.modules.get("keras")
    if keras is None or getattr(getattr(keras, "__spec__", None), "_initializing", False):
        return
    try:
        analysis = build.analyze(state.design())
    except Exception:  # noqa: BLE001 - the Design page shows what is wrong
        return
    state.set_summary(analysis.total_params, analysis.ok)


def status_parts() -> list[tuple[str, str]]:
    """(label, value) pairs of the status line; pure enough to test through AppTest."""
    d = state.design()
    if not state.summary():
        _count_if_keras_is_loaded()
    summary = state.summary()
    if summary:
        params = f"{summary['params']:,}" + ("" if summary.get("ok", True) else " · ⚠ problems")
    else:
        params = "— (see Design)"
    parts = [("Design", d.name), ("Data", dataset_label(d.data.dataset)), ("Params", params)]
    rid = state.run_id()
    if rid:
        info = runs.brief(rid)
        if info:
            parts.append(("Run", f"{rid} · {status_badge(info.get('status'))}"))
        else:
            parts.append(("Run", f"{rid} · not found"))
    else:
        parts.append(("Run", "none yet"))
    return parts


def status_line() -> None:
    parts = status_parts()
    cells = " &nbsp;·&nbsp; ".join(
        f"<span style='opacity:.65'>{html.escape(k)}</span> <b>{html.escape(v)}</b>"
        for k, v in parts
    )
    st.markdown(
        "<div class='kd-status' style='font-size:0.9rem;padding:0.35rem 0.8rem;"
        "border-radius:0.5rem;"
        f"background:#F3F5F8;border-left:4px solid #E4572E;margin-bottom:0.2rem'>{cells}</div>",
        unsafe_allow_html=True,
    )


def best_text(best: tuple[str, float] | None) -> str:
    """``("val_accuracy", 0.95312)`` → ``val accuracy 0.953``: what a person reads in a table."""
    if not best:
        return "—"
    name, value = best
    digits = ".3g" if "acc" in name else ".4g"  # accuracies as 0.903, losses with one more digit
    return f"{name.replace('_', ' ')} {value:{digits}}"


def when_text(iso: str | None) -> str:
    """An ISO time stamp as ``today 14:05`` / ``Nov 28 14:05``."""
    import datetime as dt

    try:
        t = dt.datetime.fromisoformat(iso or "")
    except ValueError:
        return iso or "—"
    return t.strftime("today %H:%M" if t.date() == dt.date.today() else "%b %d %H:%M")


def runs_table(infos: list, key: str) -> None:
    """The list of runs (Train, Home): one look, one set of columns."""
    st.dataframe(
        [
            {
                "run": r.id,
                "design": r.name,
                "status": status_badge(r.status),
                "epochs": r.epochs,
                "best": best_text(r.best),
                "started": when_text(r.started),
                "where": r.where,
            }
            for r in infos
        ],
        hide_index=True,
        width="stretch",
        key=key,
        column_config={
            "run": "Run",
            "design": "Design",
            "status": "Status",
            "epochs": st.column_config.NumberColumn("Epochs", format="%d"),
            "best": "Best",
            "started": "Started",
            "where": st.column_config.TextColumn(
                "Ran on", help="this machine (local) or a Ray node"
            ),
        },
    )
