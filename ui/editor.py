"""Widget callbacks that apply :mod:`designer.design.editing` operations to the session's design.

Each callback runs before the page is drawn and goes through :func:`ui.state.write`; a refused
edit becomes a message at the top of the page (or under the field that caused it), never a
traceback. Callbacks that act on a node get its id from the button that was drawn for it (the
key holds the id too), never from "whatever is selected now".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from designer.design import catalog, editing
from designer.design.editing import EditError
from designer.design.spec import Design
from designer.errors import DesignerError
from designer.model.build import analyze as _analyze
from ui import canvas, classroom, state


def apply(
    op: Callable[..., Any],
    *args: Any,
    select: str | None = None,
    expect: Callable[[Design], bool] | None = None,
) -> bool:
    """Run ``op(design, *args)`` through the one write path; select the node it returns.
    ``expect``: the compare-and-set check of :func:`ui.state.write`."""
    try:
        return state.write(lambda d: op(d, *args), select=select, expect=expect)
    except (EditError, KeyError) as exc:
        state.flash("error", str(exc).strip("'\""))
        return False


# ---- palette and inspector buttons -------------------------------------------------------------
def add_layer(
    layer_type: str, after: str | None, expect: Callable[[Design], bool] | None = None
) -> bool:
    """Add ``layer_type`` after the node ``after`` (the selection the palette was drawn for);
    True when it was added."""
    spec = catalog.LAYERS[layer_type]
    if spec.max_inputs == 0:  # an Input starts a branch, shaped like the data when known
        params = editing.default_params(layer_type)
        shape = _dataset_shape(state.design())
        if shape and layer_type == "Input":
            params["shape"] = shape
        return apply(editing.insert_after, None, layer_type, params, expect=expect)
    if after is not None and after not in state.design().node_ids():
        return False  # drawn for a node that is gone: a stale click
    tail = after or editing.tail(state.design())
    return apply(editing.insert_after, tail, layer_type, expect=expect)


def _dataset_shape(design: Design) -> list | None:
    try:
        from designer.data import get_info

        return list(get_info(design.data.dataset).input_shape) if design.data.dataset else None
    except DesignerError:
        return None


def add_from_palette(key: str, after: str | None, branch: bool, drawn_at: int) -> None:
    """A palette chip was clicked: add that layer after ``after`` (or, when the palette was
    drawn for the canvas's Branch, as a new branch from ``after``), un-highlight the chip.

    The chips edit the design by value, so their key carries the revision they were drawn at
    (``pal_core:dense:r7``) and the add applies only at that revision: a stale browser that
    sends a picked chip again (or a second tab's) cannot repeat the add."""
    layer_type = st.session_state.get(key)
    st.session_state[key] = None
    if not layer_type:
        return

    def unchanged(_design: Design) -> bool:
        return state.revision() == drawn_at

    if branch and after is not None and catalog.LAYERS[layer_type].max_inputs != 0:
        added = after in state.design().node_ids() and apply(
            editing.add_branch, after, layer_type, expect=unchanged
        )
    else:
        added = add_layer(layer_type, after, expect=unchanged)
    if branch and added:
        canvas.set_mode(canvas.SELECT)  # one branch per Branch press


def delete(node_id: str) -> None:
    if node_id in classroom.locked_nodes():  # a stale button drawn before the class started
        state.flash("error", f"{node_id} is locked by the assignment: it stays.")
        return
    apply(editing.delete_node, node_id)


def duplicate(node_id: str) -> None:
    apply(editing.duplicate_node, node_id)


def move(node_id: str, direction: str) -> None:
    apply(editing.move_up if direction == "up" else editing.move_down, node_id, select=node_id)


def drop_kept(node_id: str) -> None:
    apply(editing.drop_kept, node_id, select=node_id)


def apply_fix(fix: dict[str, str]) -> None:
    apply(editing.apply_fix, fix)


def connect(source: str, key: str) -> None:
    target = st.session_state.get(key)
    if target:
        apply(editing.connect, source, target, select=source)


def disconnect(node_id: str, key: str) -> None:
    pair = st.session_state.get(key)
    if pair:
        source, target = pair
        apply(editing.disconnect, source, target, select=node_id)


def on_select_widget(key: str, drawn: str | None) -> None:
    """The "Selected layer" box changed: select that layer (never an edit of the design)."""
    if state.selected() == drawn:  # compare-and-set, as for fields: a stale box does nothing
        state.select(st.session_state.get(key))


def undo() -> None:
    state.undo()


def redo() -> None:
    state.redo()


# ---- analysis (imports Keras: only the pages that show shapes call this) -----------------------
def analyze(design: Design) -> Any:
    return _analyze(design)


def data_problems(design: Design, analysis: Any) -> list[tuple[str, str]]:
    """Where the design does not fit its data set (input shape, output units), per node."""
    dataset = design.data.dataset
    if not dataset or dataset == "upload":
        return []
    try:
        from designer.data import DataError, check_fit, get_info

        info = get_info(dataset)
    except DesignerError:
        return []
    reports = analysis.nodes
    ins = {
        i: tuple(reports[i].output_shape[1:])
        for i in design.input_ids()
        if i in reports and reports[i].output_shape
    }
    outs = {
        o: tuple(reports[o].output_shape[1:])
        for o in design.output_ids()
        if o in reports and reports[o].output_shape
    }
    try:
        return check_fit(info, ins, outs)
    except DataError:
        return []
