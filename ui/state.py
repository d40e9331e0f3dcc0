"""Everything the app keeps per browser session, and the file that makes it survive a refresh.

This module owns every ``st.session_state`` key the pages share (widget keys stay next to their
widgets). The current design is written to ``<workspace>/sessions/<id>.json`` after every
change; the id sits in the URL (``?session=<id>``), so a refresh, or the same URL in a second
tab, reloads the design and re-attaches to the run it was training.

The workspace is ``$KERAS_DESIGNER_HOME`` (default ``./workspace``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

import streamlit as st

from designer import templates
from designer.history import History
from designer.spec import Design, DesignFileError

# ---- the session_state keys -------------------------------------------------------------------
SESSION_ID = "session_id"
DESIGN = "design"
HISTORY = "history"
SELECTED = "selected_node"  # the layer the inspector shows (not a widget key: it outlives pages)
RUN_ID = "run_id"  # the run this session started last (Train re-attaches to it)
SUMMARY = (
    "design_summary"  # {"params": int, "ok": bool} from the last analysis, for the status line
)
FIELD_ERRORS = "field_errors"  # widget key -> message shown under that widget
FLASH = "flash"  # [(kind, message)] shown once at the top of the next run
CANVAS_CLICK = "canvas_last_click"  # the canvas's last reported click (it repeats it every run)
MIRRORS_STALE = "mirrors_stale"  # the design changed: mirrored widgets re-read it next run

# Widgets that mirror a value of the design use these key prefixes. When the design changes
# from elsewhere (undo, a template, a file) their stored values are dropped so they re-read it.
MIRROR_PREFIXES = ("p:", "c:", "t:", "a:", "d:", "n:")

_ID_RE = re.compile(r"^[0-9a-f]{8,32}$")
QUERY_KEY = "session"


def workspace() -> Path:
    return Path(os.environ.get("KERAS_DESIGNER_HOME", "./workspace")).expanduser()


def sessions_dir() -> Path:
    return workspace() / "sessions"


def uploads_dir() -> Path:
    return workspace() / "uploads" / session_id()


def _session_file(sid: str) -> Path:
    return sessions_dir() / f"{sid}.json"


# ---- start of every run -------------------------------------------------------------------------
def ensure() -> None:
    """Load or create this browser session's state; call first thing on every run."""
    ss = st.session_state
    if SESSION_ID not in ss:
        sid = st.query_params.get(QUERY_KEY, "")
        if not _ID_RE.match(sid or ""):
            sid = secrets.token_hex(6)
        ss[SESSION_ID] = sid
        saved = _read(sid)
        ss[DESIGN] = saved.get("design") or templates.blank()
        ss[RUN_ID] = saved.get("run_id")
        ss[SUMMARY] = saved.get("summary") or {}
        ss[SELECTED] = saved.get("selected")
        ss[HISTORY] = History()
        ss[FIELD_ERRORS] = {}
        ss[FLASH] = []
        if not saved:
            save()
    if ss.pop(MIRRORS_STALE, False):
        reset_mirrors()
    # Page switches drop the query string: put the id back so a refresh finds this session.
    if st.query_params.get(QUERY_KEY) != ss[SESSION_ID]:
        st.query_params[QUERY_KEY] = ss[SESSION_ID]
    if ss.get(SELECTED) not in ss[DESIGN].node_ids():
        ss[SELECTED] = _default_selection(ss[DESIGN])


def _default_selection(design: Design) -> str | None:
    outs = [o for o in design.output_ids() if o in design.node_ids()]
    return outs[0] if outs else (design.nodes[0].id if design.nodes else None)


def _read(sid: str) -> dict[str, Any]:
    path = _session_file(sid)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        out = dict(raw)
        out["design"] = Design.from_dict(raw["design"])
        return out
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, DesignFileError):
        # A damaged session file must not lock the person out: start fresh, keep the file.
        return {}


def save() -> None:
    """Write this session's file (atomically: a crash never leaves half a design)."""
    ss = st.session_state
    payload = {
        "saved": time.time(),
        "design": ss[DESIGN].to_dict(),
        "run_id": ss.get(RUN_ID),
        "summary": ss.get(SUMMARY) or {},
        "selected": ss.get(SELECTED),
    }
    path = _session_file(ss[SESSION_ID])
    try:
        Design.from_dict(payload["design"])  # never replace a good file with one that won't load
    except DesignFileError as exc:
        flash("error", f"This change was not saved: {exc}")
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        flash("warning", f"Could not save this session to {path.parent}: {exc.strerror or exc}")


# ---- the design ------------------------------------------------------------------------------------
def session_id() -> str:
    return st.session_state[SESSION_ID]


def design() -> Design:
    return st.session_state[DESIGN]


def history() -> History:
    return st.session_state[HISTORY]


def commit(new: Design, *, select: str | None = None, record: bool = True) -> None:
    """Make ``new`` the current design: remember the old one for undo, save, refresh widgets."""
    ss = st.session_state
    old = ss[DESIGN]
    if record:
        ss[HISTORY].record(old)
    ss[DESIGN] = new
    if (old.nodes, old.edges) != (new.nodes, new.edges):
        ss[SUMMARY] = {}  # the parameter count is recomputed where shapes are shown
    if select is not None:
        ss[SELECTED] = select
    if ss.get(SELECTED) not in new.node_ids():
        ss[SELECTED] = _default_selection(new)
    # The mirrored widgets re-read the design at the start of the next run, not now: several
    # widgets can change in one run, and their callbacks run one after another before the page.
    # Dropping their keys here would hand the next callback an empty value (and lose the edit).
    ss[MIRRORS_STALE] = True
    ss[FIELD_ERRORS] = {}
    save()


def weights_path() -> Path:
    """Trained weights that came with an opened .keras file (a sidecar, see designer.sidecar)."""
    return sessions_dir() / f"{session_id()}.weights.h5"


def replace(new: Design, *, keep_weights: bool = False) -> None:
    """A whole new design (template, opened file): undo can still go back to the old one."""
    if not keep_weights:
        weights_path().unlink(missing_ok=True)
    commit(new, select=_default_selection(new))


def undo() -> None:
    old = history().undo(design())
    if old is not None:
        commit(old, record=False)


def redo() -> None:
    new = history().redo(design())
    if new is not None:
        commit(new, record=False)


def reset_mirrors() -> None:
    ss = st.session_state
    for key in list(ss.keys()):
        if isinstance(key, str) and key.startswith(MIRROR_PREFIXES):
            del ss[key]
    ss[FIELD_ERRORS] = {}  # the fields now show the design's values again


def selected() -> str | None:
    return st.session_state.get(SELECTED)


def select(node_id: str | None) -> None:
    st.session_state[SELECTED] = node_id


# ---- runs and summaries ----------------------------------------------------------------------------
def run_id() -> str | None:
    return st.session_state.get(RUN_ID)


def set_run_id(rid: str | None) -> None:
    st.session_state[RUN_ID] = rid
    save()


def summary() -> dict[str, Any]:
    return st.session_state.get(SUMMARY) or {}


def set_summary(params: int, ok: bool) -> None:
    new = {"params": int(params), "ok": bool(ok)}
    if st.session_state.get(SUMMARY) != new:
        st.session_state[SUMMARY] = new
        save()


# ---- messages -----------------------------------------------------------------------------------
def field_error(key: str) -> str | None:
    return st.session_state.setdefault(FIELD_ERRORS, {}).get(key)


def set_field_error(key: str, message: str | None) -> None:
    errors = st.session_state.setdefault(FIELD_ERRORS, {})
    if message:
        errors[key] = message
    else:
        errors.pop(key, None)


def flash(kind: str, message: str) -> None:
    """A message for the next run (callbacks cannot draw: they run before the page)."""
    st.session_state.setdefault(FLASH, []).append((kind, message))


def show_flash() -> None:
    messages = st.session_state.get(FLASH) or []
    st.session_state[FLASH] = []
    for kind, message in messages:
        if kind in ("error", "warning"):
            (st.error if kind == "error" else st.warning)(message, icon="⚠️")
        elif "\n" in message:
            st.info(message)
        else:
            st.toast(message, icon="✔")  # passing news: no layout shift when it goes
