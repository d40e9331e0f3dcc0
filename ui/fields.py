"""Widgets that edit the design: each is a :class:`Field` drawn by :func:`draw`.

The rules are at the top of :mod:`ui.state`: a field's widget is drawn with the design's value
as its default, under a key that moves on when what it shows changes, and its value is read
only in its own callback (:func:`on_change`), which hands it to :func:`ui.state.write`
together with the value it was drawn from. Nothing here writes a widget's key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from designer.design import editing, sections
from designer.design.editing import EditError
from designer.design.params import ParamSpec
from designer.design.spec import Design
from ui import state


@dataclass(frozen=True)
class Field:
    """One value of the design: its stable name, how to read it, how to change it."""

    name: str  # e.g. "p:dense:units"; a refused value's message is kept under this name
    read: Callable[[Design], Any]
    change: Callable[[Design, Any], Any]  # returns the new design; EditError when refused


def _identity(value: Any) -> Any:
    return value


def draw(
    widget: Callable[..., Any],
    label: str,
    field: Field,
    *,
    choices: list | None = None,
    shown: Callable[[Any], Any] = _identity,
    convert: Callable[[Any], Any] = _identity,
    default_arg: str = "value",
    **kwargs: Any,
) -> Any:
    """Draw ``widget(label, ...)`` for ``field``; returns what the widget returns.

    ``shown(design value)`` is what the widget shows at first: passed as ``default_arg``
    (``value``, or ``default`` for a multiselect), or, with ``choices`` (a selectbox's
    options), as the ``index`` of that option. ``convert(widget value)`` is the design value a
    change means (ValueError with a message when it cannot be one).
    """
    drawn = field.read(state.design())
    untouched = shown(drawn)
    if choices is not None:
        index = choices.index(untouched) if untouched in choices else None
        untouched = untouched if index is not None else None
        kwargs |= {"options": choices, "index": index}
        fmt = kwargs.get("format_func")
        labels = [fmt(c) for c in choices] if fmt else None
    else:
        kwargs[default_arg] = untouched
        labels = None
    key = state.field_key(field.name, _look(label, labels, kwargs))
    out = widget(
        label,
        key=key,
        on_change=on_change,
        args=(field, key, drawn, untouched, convert, state.revision()),
        **kwargs,
    )
    show_error(field.name)
    return out


def _look(label: str, labels: list | None, kwargs: dict[str, Any]) -> str:
    """A digest of all a widget shows: its label, its options as labelled, its value, range,
    help... (callbacks and converters are not shown)."""
    shown = sorted((k, repr(v)) for k, v in kwargs.items() if not callable(v))
    return hashlib.sha1(repr((label, labels, shown)).encode()).hexdigest()[:16]


def on_change(
    field: Field, key: str, drawn: Any, untouched: Any, convert: Callable, drawn_at: int
) -> None:
    """The widget's callback: the person changed it; apply the change if it still applies
    (the field still holds ``drawn`` and nothing made the widget of revision ``drawn_at``
    stale: see :func:`ui.state.write`)."""
    ss = st.session_state
    if key not in ss:
        return
    raw = ss[key]
    if raw == untouched:
        state.set_field_error(field.name, None)
        return  # what it was drawn with: nothing to change
    try:
        value = convert(raw)
    except ValueError as exc:
        state.set_field_error(field.name, str(exc))
        return
    try:
        state.write(
            lambda d: field.change(d, value),
            expect=lambda d: field.read(d) == drawn,
            field=field.name,
            drawn_at=drawn_at,
        )
    except EditError as exc:
        state.set_field_error(field.name, str(exc))
        return
    state.set_field_error(field.name, None)


def show_error(name: str) -> None:
    message = state.field_error(name)
    if message:
        st.error(message, icon="⚠️")


# ---- the fields of a design ----------------------------------------------------------------------
def node_param(node_id: str, p: ParamSpec) -> Field:
    return Field(
        f"p:{node_id}:{p.name}",
        lambda d: d.node(node_id).params.get(p.name, p.default),
        lambda d, v: editing.set_param(d, node_id, p.name, v),
    )


def node_name(node_id: str) -> Field:
    def read(d: Design) -> str:
        d.node(node_id)  # KeyError when the node is gone: the widget is stale
        return node_id

    return Field(
        f"n:{node_id}",
        read,
        lambda d, v: (editing.rename_node(d, node_id, v), v.strip()),
    )


def design_name() -> Field:
    return Field("c:name", lambda d: d.name, sections.set_name)


def compile_setting(name: str) -> Field:
    return Field(
        f"c:{name}",
        lambda d: getattr(d.compile, name),
        lambda d, v: sections.set_compile(d, name, v),
    )


def optimizer_param(optimizer: str, p: ParamSpec) -> Field:
    def read(d: Design) -> Any:
        if d.compile.optimizer != optimizer:
            raise KeyError(optimizer)  # drawn for another optimizer: stale
        return d.compile.optimizer_params.get(p.name, p.default)

    return Field(
        f"c:opt:{optimizer}:{p.name}",
        read,
        lambda d, v: sections.set_optimizer_param(d, p.name, v),
    )


def section_setting(section: str, name: str, prefix: str) -> Field:
    """A field of the ``data`` or ``training`` section; ``prefix`` tells the pages' widgets
    apart when two pages edit the same value (Train's and Data's validation split)."""
    return Field(
        f"{prefix}:{name}",
        lambda d: getattr(getattr(d, section), name),
        lambda d, v: sections.set_section(d, section, name, v),
    )


def augmentation_param(aug_id: str, p: ParamSpec) -> Field:
    def read(d: Design) -> Any:
        node = next((n for n in d.augmentation if n.id == aug_id), None)
        if node is None:
            raise KeyError(aug_id)
        return node.params.get(p.name, p.default)

    return Field(
        f"a:{aug_id}:{p.name}",
        read,
        lambda d, v: sections.set_augmentation_param(d, aug_id, p.name, v),
    )
