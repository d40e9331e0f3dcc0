"""Catalog parameters as widgets: one function turns a ParamSpec into the right input.

Numbers become number inputs with the catalog's range, choices become selects, booleans
checkboxes, shapes and tuples a text field ("28, 28, 1"). A value is handed to ``commit`` only
once it parses and passes the catalog's check; otherwise the reason is shown under the field
and the design keeps its last good value. Nothing here raises into the page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import streamlit as st

from designer.editing import EditError
from designer.params import ParamSpec
from ui import state

Commit = Callable[[Any], None]
NONE = "(none)"  # how a choice of None is shown


# ---- text <-> value (pure, tested) ---------------------------------------------------------------
def to_text(p: ParamSpec, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join("None" if v is None else str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parse(p: ParamSpec, text: str) -> Any:
    """The value typed in a text field, or ValueError with what to type instead."""
    t = text.strip()
    if not t:
        if p.optional:
            return None
        raise ValueError(f"{p.name}: a value is required")
    if p.kind == "str":
        return text
    if p.kind in ("int", "float"):
        try:
            number = float(t)
        except ValueError:
            raise ValueError(f"{p.name}: {t!r} is not a number") from None
        if p.kind == "int":
            if not number.is_integer():
                raise ValueError(f"{p.name}: must be a whole number (got {t})")
            return int(number)
        return number
    t = re.sub(r"(?<=\d)\s*[x×*]\s*(?=\d)", ",", t)  # "3x3" and "3×3" mean "3, 3"
    items = [x for x in re.split(r"[,\s()\[\]]+", t) if x]
    values: list[Any] = []
    for item in items:
        if item.lower() in ("none", "?") and p.kind == "shape":
            values.append(None)
            continue
        try:
            values.append(int(item))
        except ValueError:
            example = "28, 28, 1" if p.kind == "shape" else "3 or 3, 3"
            raise ValueError(f"{p.name}: whole numbers separated by commas, e.g. {example}") from None  # fmt: skip
    if p.kind == "ints" and len(values) == 1:
        return values[0]
    return values


def checked(p: ParamSpec, value: Any) -> Any:
    """``value`` if the catalog accepts it; ValueError with the catalog's reason otherwise."""
    reason = p.check(value)
    if reason:
        raise ValueError(reason)
    return value


def _uses_number_input(p: ParamSpec, value: Any) -> bool:
    if p.kind not in ("int", "float") or p.optional:
        return False
    if not isinstance(value, (int, float)) or isinstance(value, bool) or p.check(value):
        return False  # a value the number input cannot show (e.g. out of range in a file)
    return not (isinstance(value, float) and not math.isfinite(value))


def _step(p: ParamSpec) -> float:
    """A +/- step that suits the parameter: 0.001 for a learning rate, 0.01 for a rate."""
    ref = abs(p.default) if isinstance(p.default, (int, float)) and p.default else 0.01
    step = float(10 ** math.floor(math.log10(ref)))
    if p.max is not None and p.max <= 1 and step > 0.01:
        step = 0.01
    return step


def label_of(name: str) -> str:
    return name.replace("_", " ").capitalize()


# ---- the widget -------------------------------------------------------------------------------------
def param_input(
    p: ParamSpec,
    value: Any,
    key: str,
    commit: Commit,
    *,
    label: str | None = None,
    disabled: bool = False,  # fmt: skip
) -> None:
    """One widget for ``p`` showing ``value``; ``commit(new_value)`` runs in its callback."""
    label = label or label_of(p.name)
    common = {"key": key, "help": p.help, "disabled": disabled, "on_change": _on_change,
              "args": (p, key, commit)}  # fmt: skip
    ss = st.session_state
    if p.kind == "bool":
        ss.setdefault(key, bool(value))
        st.checkbox(label, **common)
    elif p.kind == "choice":
        # A selectbox shows None as "nothing chosen": None gets a visible name instead.
        options = [NONE if c is None else c for c in p.choices]
        if key not in ss:
            shown = NONE if value is None else value
            ss[key] = shown if shown in options else options[0]
        st.selectbox(label, options, **common)
    elif _uses_number_input(p, value):
        integer = p.kind == "int"
        cast = int if integer else float
        ss.setdefault(key, cast(value))
        st.number_input(
            label,
            min_value=cast(p.min) if p.min is not None else None,
            max_value=cast(p.max) if p.max is not None else None,
            step=1 if integer else _step(p),
            format="%d" if integer else "%g",
            **common,
        )
    else:
        ss.setdefault(key, to_text(p, value))
        hint = {"shape": "e.g. 28, 28, 1", "ints": "e.g. 3 or 3, 3"}.get(p.kind, "")
        if p.optional:
            hint = (hint + " · " if hint else "") + "empty = none"
        st.text_input(label, placeholder=hint, **common)
    message = state.field_error(key)
    if message:
        st.error(message, icon="⚠️")


def _on_change(p: ParamSpec, key: str, commit: Commit) -> None:
    if key not in st.session_state:  # the widget's value is gone: there is nothing to apply
        return
    raw = st.session_state[key]
    try:
        if p.kind == "bool":
            value = raw
        elif p.kind == "choice":
            value = None if raw == NONE else raw
        elif isinstance(raw, str):
            value = parse(p, raw)
        elif p.kind == "int":
            value = int(raw) if raw is not None else None
        else:
            value = float(raw) if raw is not None else None
        checked(p, value)
    except ValueError as exc:
        state.set_field_error(key, str(exc))
        return
    try:
        commit(value)
    except EditError as exc:
        state.set_field_error(key, str(exc))
        return
    state.set_field_error(key, None)


def params_form(specs: tuple[ParamSpec, ...], values: dict[str, Any], key_prefix: str,
                commit: Callable[[str, Any], None], *, columns: int = 1) -> None:  # fmt: skip
    """Every parameter of ``specs``; ``commit(name, value)`` for each accepted change."""
    if not specs:
        st.caption("No settings.")
        return
    cols = st.columns(columns) if columns > 1 else [st.container()]
    for i, p in enumerate(specs):
        with cols[i % len(cols)]:
            param_input(p, values.get(p.name, p.default), f"{key_prefix}{p.name}",
                        lambda v, name=p.name: commit(name, v))  # fmt: skip


def guarded(key: str, commit: Callable[..., None], *args: Any) -> None:
    """A callback for a plain widget: ``commit(*args, value)``, errors shown under ``key``."""
    if key not in st.session_state:
        return
    try:
        commit(*args, st.session_state.get(key))
    except EditError as exc:
        state.set_field_error(key, str(exc))
        return
    state.set_field_error(key, None)


def show_error(key: str) -> None:
    message = state.field_error(key)
    if message:
        st.error(message, icon="⚠️")


def follow(key: str, options: list, wanted: Any) -> None:
    """Point the keyed selectbox ``key`` at ``wanted`` whenever ``wanted`` changes.

    A keyed widget ignores its ``index=`` after the first run, so a picker of runs would keep
    showing an old run after a new one started. A choice the person made stays until
    ``wanted`` itself changes (or the chosen option disappears).
    """
    ss = st.session_state
    marker = f"{key}__follows"
    if ss.get(key) not in options or ss.get(marker) != wanted:
        ss[key] = wanted if wanted in options else options[0]
        ss[marker] = wanted
