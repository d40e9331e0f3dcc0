"""Widget callbacks that apply :mod:`designer.editing` operations to the session's design.

Each callback runs before the page is drawn; a refused edit becomes a message at the top of
the page (or under the field that caused it), never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from designer import catalog, editing, sections
from designer.editing import EditError
from designer.spec import Design
from ui import state


def apply(op: Callable[..., Any], *args: Any, select: str | None = None) -> bool:
    """Run ``op(design, *args)``; commit its result and select the new node it returns."""
    try:
        result = op(state.design(), *args)
    except (EditError, KeyError) as exc:
        state.flash("error", str(exc).strip("'\""))
        return False
    if isinstance(result, tuple):
        new, new_id = result
        state.commit(new, select=new_id)
    else:
        state.commit(result, select=select)
    return True


# ---- palette and inspector buttons -------------------------------------------------------------
def add_layer(layer_type: str) -> None:
    d = state.design()
    spec = catalog.LAYERS[layer_type]
    if spec.max_inputs == 0:  # an Input starts a branch, shaped like the data when known
        params = editing.default_params(layer_type)
        shape = _dataset_shape(d)
        if shape and layer_type == "Input":
            params["shape"] = shape
        apply(editing.insert_after, None, layer_type, params)
        return
    apply(editing.insert_after, state.selected() or editing.tail(d), layer_type)


def _dataset_shape(design: Design) -> list | None:
    try:
        from designer.data import get_info

        return list(get_info(design.data.dataset).input_shape) if design.data.dataset else None
    except (ImportError, ValueError):
        return None


def add_from_palette(key: str) -> None:
    """A palette chip was clicked: add that layer, and un-highlight the chip."""
    layer_type = st.session_state.get(key)
    st.session_state[key] = None
    if layer_type:
        add_layer(layer_type)


def delete_selected() -> None:
    node_id = state.selected()
    if node_id:
        apply(editing.delete_node, node_id)


def duplicate_selected() -> None:
    if state.selected():
        apply(editing.duplicate_node, state.selected())


def move_selected(direction: str) -> None:
    node_id = state.selected()
    if node_id:
        apply(editing.move_up if direction == "up" else editing.move_down, node_id, select=node_id)


def apply_fix(fix: dict[str, str]) -> None:
    apply(editing.apply_fix, fix)


def connect_from_selected() -> None:
    target = st.session_state.get("connect_target")
    if state.selected() and target:
        apply(editing.connect, state.selected(), target, select=state.selected())


def disconnect_selected() -> None:
    pair = st.session_state.get("disconnect_edge")
    if pair:
        source, target = pair
        apply(editing.disconnect, source, target, select=state.selected())


def on_select_widget() -> None:
    state.select(st.session_state.get("selected_layer"))


def undo() -> None:
    state.undo()


def redo() -> None:
    state.redo()


# ---- field commits (errors go under the field: they raise EditError) ---------------------------
def _commit(new: Design, select: str | None = None) -> None:
    state.commit(new, select=select)


def set_param(node_id: str, name: str, value: Any) -> None:
    _commit(editing.set_param(state.design(), node_id, name, value), select=node_id)


def rename(node_id: str, key: str) -> None:
    new_id = str(st.session_state.get(key, "")).strip()
    if new_id == node_id:
        return
    try:
        new = editing.rename_node(state.design(), node_id, new_id)
    except EditError as exc:
        state.set_field_error(key, str(exc))
        return
    _commit(new, select=new_id)


def set_compile(name: str, value: Any) -> None:
    _commit(sections.set_compile(state.design(), name, value))


def set_loss(key: str) -> None:
    value = st.session_state.get(key)
    forms_value = None if value in (None, "auto") else value
    try:
        _commit(sections.set_compile(state.design(), "loss", forms_value))
    except EditError as exc:
        state.set_field_error(key, str(exc))


def set_optimizer_param(name: str, value: Any) -> None:
    _commit(sections.set_optimizer_param(state.design(), name, value))


def set_section(section: str, name: str, value: Any) -> None:
    _commit(sections.set_section(state.design(), section, name, value))


def set_name(key: str) -> None:
    try:
        _commit(sections.set_name(state.design(), str(st.session_state.get(key, ""))))
    except EditError as exc:
        state.set_field_error(key, str(exc))


# ---- analysis (imports Keras: only the pages that show shapes call this) -----------------------
def analyze(design: Design) -> Any:
    from designer.build import analyze as _analyze

    return _analyze(design)


def data_problems(design: Design, analysis: Any) -> list[tuple[str, str]]:
    """Where the design does not fit its data set (input shape, output units), per node."""
    dataset = design.data.dataset
    if not dataset or dataset == "upload":
        return []
    try:
        from designer.data import DataError, check_fit, get_info

        info = get_info(dataset)
    except (ImportError, ValueError):
        return []
    reports = analysis.nodes
    ins = {i: tuple(reports[i].output_shape[1:]) for i in design.input_ids()
           if i in reports and reports[i].output_shape}  # fmt: skip
    outs = {o: tuple(reports[o].output_shape[1:]) for o in design.output_ids()
            if o in reports and reports[o].output_shape}  # fmt: skip
    try:
        return check_fit(info, ins, outs)
    except DataError:
        return []
