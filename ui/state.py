"""Everything the app keeps per browser session, and the file that makes it survive a refresh.

This module owns every ``st.session_state`` key the pages share (widget keys stay next to their
widgets). The current design is written to ``<workspace>/sessions/<id>.json`` after every
change; the id sits in the URL (``?session=<id>``), so a refresh, or the same URL in a second
tab, reloads the design and re-attaches to the run it was training.

How widgets and the design meet (the rule that keeps a design from changing by itself)
--------------------------------------------------------------------------------------
1. **One write path.** The design changes only in :func:`write`: it applies one change, refuses
   a value the catalog refuses (:func:`designer.design.editing.edit_problems`), records the
   old design for undo, moves the design's *revision* on and saves the session file.
   Selection, navigation, page runs and fragment ticks never call it.
2. **No mirrored widgets.** A widget that edits the design is drawn with the design's current
   value as its default (``value=``/``index=``) under a key that carries a revision
   (:func:`field_key`, e.g. ``p:dense:units:r12``). No code ever assigns such a key. The key
   moves on whenever what the widget shows would change (its value, options, labels, range),
   when this field is written and when the design jumps (rule 3), so the field becomes a new
   widget that shows the new value: a value typed for an old look can neither be shown nor
   sent back under the new one, and the value a widget reports without being touched is the
   design's own. A field the change left as it was keeps its widget, and the browser keeps it
   in place instead of building it again (every field rebuilt at every edit cost the Design
   page's edits about 35 ms in the browser: BENCHMARKS.md).
3. **Compare-and-set.** A widget's value is read only in its own ``on_change`` callback
   (:func:`ui.fields.on_change`), which passes :func:`write` the value the widget was drawn
   from. The change applies only if that part of the design still holds it: a callback of a
   stale widget (a run cut short by a page switch, another tab) changes nothing, while two
   fields changed in one rerun both land. A value alone can come back (an undo restores it),
   so a field's callback also passes the revision it was drawn at: it is refused when that
   field was written since, or when the design jumped since (undo/redo, a whole new design,
   another tab's change). Streamlit keeps a stale widget's callback after its widget is gone,
   and a browser that sends the old widget's value again makes it fire once more.
4. **The session file is shared by the tabs of one session**: before each change, and at the
   start of each run, a newer file (another tab's edit) is adopted, under a per-session lock.

Buttons that act on a node (delete, duplicate, palette "add after") carry the node's id in
their key and arguments, so a click on a button drawn for one node never acts on another.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from designer import settings
from designer.design import templates
from designer.design.editing import EditError, edit_problems
from designer.design.history import History
from designer.design.spec import Design, DesignFileError

# ---- the session_state keys -------------------------------------------------------------------
SESSION_ID = "session_id"
DESIGN = "design"
REVISION = "design_revision"  # moves on with every change of the design (see the rules above)
FILE_STAMP = "session_file_stamp"  # mtime of the session file as this tab last read or wrote it
HISTORY = "history"
# The revision of the last jump (undo/redo, a whole new design, another tab's change) and, per
# field name, the revision its last write made: a field drawn before either is stale (rule 3).
JUMPED = "design_jump_revision"
FIELD_WRITES = "field_write_revisions"
SELECTED = "selected_node"  # the layer the inspector shows (not a widget key: it outlives pages)
SELECTION_REVISION = "selection_revision"  # moves on with every change of the selection
RUN_ID = "run_id"  # the run this session started last (Train re-attaches to it)
SEARCH = "search_dir"  # the search this session started last (the Search tab re-attaches to it)
SUMMARY = "design_summary"  # {"params", "ok", "revision"} from the last analysis
FIELD_KEYS = "field_keys"  # field name -> (digest of its look, revision of its key)
FIELD_ERRORS = "field_errors"  # field name -> message shown under that field
FLASH = "flash"  # [(kind, message)] shown once at the top of the next run
CANVAS_CLICK = "canvas_last_click"  # the canvas's last reported click (it repeats it every run)
# What a canvas click means now (select | connect | branch | merge): the editor's mode, not the
# design's; the layers picked for a merge, in order; the hint line's news about the last click.
CANVAS_MODE = "canvas_mode"
CANVAS_PICKS = "canvas_picks"
CANVAS_NOTE = "canvas_note"
SHARED_OFFER = "shared_design_offer"  # a design a link brought, until the person answers

_ID_RE = re.compile(r"^[0-9a-f]{8,32}$")
QUERY_KEY = "session"

# Two tabs of one session run their scripts in two threads of this process: one lock per
# session id makes "read the file, change, write the file" one step.
_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock(sid: str) -> threading.RLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(sid, threading.RLock())


def workspace() -> Path:
    return settings.workspace()


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
        ss[REVISION] = int(saved.get("revision") or 0)
        ss[JUMPED] = ss[REVISION]
        ss[FIELD_WRITES] = {}
        ss[FILE_STAMP] = saved.get("stamp")
        ss[RUN_ID] = saved.get("run_id")
        ss[SEARCH] = saved.get("search_dir")
        ss[SUMMARY] = saved.get("summary") or {}
        ss[SELECTED] = saved.get("selected")
        ss[SELECTION_REVISION] = 0
        ss[HISTORY] = History()
        ss[FIELD_ERRORS] = {}
        ss[FLASH] = []
        if not saved:
            _save()
    else:
        with _lock(ss[SESSION_ID]):
            _adopt_newer_file()
    # Page switches drop the query string: put the id back so a refresh finds this session.
    if st.query_params.get(QUERY_KEY) != ss[SESSION_ID]:
        st.query_params[QUERY_KEY] = ss[SESSION_ID]
    if ss.get(SELECTED) not in ss[DESIGN].node_ids():
        _set_selected(_default_selection(ss[DESIGN]))


def _default_selection(design: Design) -> str | None:
    outs = [o for o in design.output_ids() if o in design.node_ids()]
    return outs[0] if outs else (design.nodes[0].id if design.nodes else None)


def _stamp(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _read(sid: str) -> dict[str, Any]:
    path = _session_file(sid)
    try:
        stamp = _stamp(path)
        raw = json.loads(path.read_text(encoding="utf-8"))
        out = dict(raw)
        out["design"] = Design.from_dict(raw["design"])
        out["stamp"] = stamp
        return out
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, DesignFileError):
        # A damaged session file must not lock the person out: start fresh, keep the file.
        return {}


def _adopt_newer_file() -> None:
    """Take the design another tab of this session saved since this tab last looked."""
    ss = st.session_state
    path = _session_file(ss[SESSION_ID])
    stamp = _stamp(path)
    if stamp is None or stamp == ss.get(FILE_STAMP):
        return
    saved = _read(ss[SESSION_ID])
    if not saved:
        return
    ss[FILE_STAMP] = saved["stamp"]
    if int(saved.get("revision") or 0) > ss[REVISION]:
        ss[DESIGN] = saved["design"]
        ss[REVISION] = int(saved["revision"])
        ss[JUMPED] = ss[REVISION]
        ss[SUMMARY] = saved.get("summary") or {}
        ss[FIELD_ERRORS] = {}
    if saved.get("run_id") and saved.get("run_id") != ss.get(RUN_ID):
        ss[RUN_ID] = saved["run_id"]
    if saved.get("search_dir") and saved.get("search_dir") != ss.get(SEARCH):
        ss[SEARCH] = saved["search_dir"]


def _save() -> None:
    """Write this session's file (atomically: a crash never leaves half a design)."""
    ss = st.session_state
    payload = {
        "saved": time.time(),
        "revision": ss[REVISION],
        "design": ss[DESIGN].to_dict(),
        "run_id": ss.get(RUN_ID),
        "search_dir": ss.get(SEARCH),
        "summary": ss.get(SUMMARY) or {},
        "selected": ss.get(SELECTED),
    }
    path = _session_file(ss[SESSION_ID])
    try:
        settings.atomic_write_text(path, json.dumps(payload, indent=1))
    except OSError as exc:
        flash("warning", f"Could not save this session to {path.parent}: {exc.strerror or exc}")
        return
    ss[FILE_STAMP] = _stamp(path)


# ---- the design ----------------------------------------------------------------------------------
def session_id() -> str:
    return st.session_state[SESSION_ID]


def design() -> Design:
    return st.session_state[DESIGN]


def revision() -> int:
    return st.session_state[REVISION]


def history() -> History:
    return st.session_state[HISTORY]


Change = Callable[[Design], "Design | tuple[Design, str]"]


def write(
    change: Change,
    *,
    expect: Callable[[Design], bool] | None = None,
    select: str | None = None,
    kind: str = "edit",
    field: str | None = None,
    drawn_at: int | None = None,
) -> bool:
    """The one way the design changes. Returns True when it did.

    ``change(design)`` returns the new design (or ``(design, id of a node to select)``) and
    raises :class:`EditError` when the request makes no sense. ``expect(design)`` must hold
    for the change to apply (compare-and-set: see the rules at the top); when it does not, the
    widget that asked was stale and nothing happens. A field's widget also names its ``field``
    and the revision it was ``drawn_at``: the change is refused when that field was written,
    or the design jumped, after it was drawn. ``kind``:

    * ``"edit"``: a person's change; every new or changed value must pass the catalog's check
      (EditError with the first reason otherwise).
    * ``"replace"``: a whole design (template, opened file, link): it loaded as a design file,
      and the Design page reports each node's problems where they are.
    * ``"history"``: undo/redo: a design this session had before; not recorded again.
    """
    ss = st.session_state
    with _lock(session_id()):
        _adopt_newer_file()
        old = ss[DESIGN]
        if drawn_at is not None and drawn_at < _stale_before(field):
            return False
        if expect is not None:
            try:
                if not expect(old):
                    return False
            except (KeyError, IndexError):  # the node the widget was drawn for is gone
                return False
        result = change(old)
        new, chosen = result if isinstance(result, tuple) else (result, None)
        if kind == "edit":
            problems = edit_problems(old, new)
            if problems:
                raise EditError(problems[0])
        elif kind == "replace":
            try:
                Design.from_dict(json.loads(new.to_json()))
            except DesignFileError as exc:
                raise EditError(str(exc)) from None
        if new == old:
            return False
        if kind != "history":
            ss[HISTORY].record(old)
        ss[DESIGN] = new
        ss[REVISION] += 1
        if kind != "edit":
            ss[JUMPED] = ss[REVISION]
        if field is not None:
            ss.setdefault(FIELD_WRITES, {})[field] = ss[REVISION]
        ss[SUMMARY] = {}  # recounted where shapes are shown
        target = chosen or select
        if kind == "replace":
            target = _default_selection(new)
        if target is not None:
            _set_selected(target)
        if ss.get(SELECTED) not in new.node_ids():
            _set_selected(_default_selection(new))
        _save()
    return True


def _stale_before(field: str | None) -> int:
    """Widgets of ``field`` drawn at a lower revision than this are stale (rule 3)."""
    ss = st.session_state
    written = ss.get(FIELD_WRITES, {}).get(field, 0) if field is not None else 0
    return max(ss.get(JUMPED, 0), written)


def weights_path() -> Path:
    """Trained weights that came with an opened .keras file (see designer.model.sidecar)."""
    return sessions_dir() / f"{session_id()}.weights.h5"


def replace(new: Design, *, keep_weights: bool = False) -> None:
    """A whole new design (template, opened file): undo can still go back to the old one."""
    if not keep_weights:
        weights_path().unlink(missing_ok=True)
    write(lambda _old: new, kind="replace")


def undo() -> None:
    write(lambda d: history().undo(d) or d, kind="history")


def redo() -> None:
    write(lambda d: history().redo(d) or d, kind="history")


def field_key(name: str, look: str) -> str:
    """The key of a widget that edits the design (rule 2): its field name and the revision at
    which ``look`` (a digest of everything the widget is drawn with) last changed, this field
    was last written or the design last jumped. A refused value's message goes with the old
    key: the new widget shows the design's value."""
    ss = st.session_state
    keys = ss.setdefault(FIELD_KEYS, {})
    known = keys.get(name)
    if known is None or known[0] != look or known[1] < _stale_before(name):
        known = keys[name] = (look, revision())
        ss.setdefault(FIELD_ERRORS, {}).pop(name, None)
    return f"{name}:r{known[1]}"


def revision_key(name: str) -> str:
    """A key that moves on with every change of the design: a widget that acts by value (a
    palette chip) is new after any change, so a pick drawn for an older design adds nothing."""
    return f"{name}:r{revision()}"


# ---- selection (not an edit: it never touches the design) ---------------------------------------
def selected() -> str | None:
    return st.session_state.get(SELECTED)


def _set_selected(node_id: str | None) -> None:
    ss = st.session_state
    if ss.get(SELECTED) != node_id:
        ss[SELECTED] = node_id
        ss[SELECTION_REVISION] = ss.get(SELECTION_REVISION, 0) + 1


def select(node_id: str | None) -> None:
    if node_id is None or node_id in design().node_ids():
        _set_selected(node_id)


def selection_key(name: str) -> str:
    """The key of a widget that shows the selection (the same idea as :func:`field_key`)."""
    return f"{name}:r{st.session_state.get(SELECTION_REVISION, 0)}"


# ---- runs and summaries --------------------------------------------------------------------------
def run_id() -> str | None:
    return st.session_state.get(RUN_ID)


def set_run_id(rid: str | None) -> None:
    with _lock(session_id()):
        _adopt_newer_file()
        st.session_state[RUN_ID] = rid
        _save()


def search_dir() -> str | None:
    return st.session_state.get(SEARCH)


def set_search_dir(path: str | None) -> None:
    with _lock(session_id()):
        _adopt_newer_file()
        st.session_state[SEARCH] = path
        _save()


def summary() -> dict[str, Any]:
    """The last analysis of the current design (empty when the design changed since)."""
    found = st.session_state.get(SUMMARY) or {}
    return found if found.get("revision") == revision() else {}


def set_summary(params: int, ok: bool) -> None:
    new = {"params": int(params), "ok": bool(ok), "revision": revision()}
    if st.session_state.get(SUMMARY) != new:
        with _lock(session_id()):
            _adopt_newer_file()
            if new["revision"] == revision():
                st.session_state[SUMMARY] = new
                _save()


# ---- messages -----------------------------------------------------------------------------------
def field_error(name: str) -> str | None:
    return st.session_state.setdefault(FIELD_ERRORS, {}).get(name)


def set_field_error(name: str, message: str | None) -> None:
    errors = st.session_state.setdefault(FIELD_ERRORS, {})
    if message:
        errors[name] = message
    else:
        errors.pop(name, None)


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
