"""Catalog parameters as widgets: one function turns a ParamSpec into the right input.

Numbers become number inputs with the catalog's range, choices become selects, booleans
checkboxes, shapes and tuples a text field ("28, 28, 1"). A value reaches the design (through
:mod:`ui.fields`, so through :func:`ui.state.write`) only once it parses and passes the
catalog's check; otherwise the reason is shown under the field and the design keeps its last
good value. Nothing here raises into the page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import streamlit as st

from designer.design.params import ParamSpec, kept, kept_source
from ui import editor, fields, state

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
            raise ValueError(
                f"{p.name}: whole numbers separated by commas, e.g. {example}"
            ) from None
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


# ---- the widget ----------------------------------------------------------------------------------
def param_input(
    p: ParamSpec, field: fields.Field, *, label: str | None = None, disabled: bool = False
) -> None:
    """One widget for the catalog parameter ``p``, editing ``field`` (see :mod:`ui.fields`)."""
    label = label or label_of(p.name)
    common = {"help": p.help, "disabled": disabled}
    value = field.read(state.design())
    if p.kind == "bool":
        fields.draw(st.checkbox, label, field, shown=bool, **common)
    elif p.kind == "choice":
        # A selectbox shows None as "nothing chosen": None gets a visible name instead.
        options = [NONE if c is None else c for c in p.choices]
        fields.draw(
            st.selectbox,
            label,
            field,
            choices=options,
            shown=lambda v: NONE if v is None else v,
            convert=lambda raw: checked(p, None if raw == NONE else raw),
            **common,
        )
    elif _uses_number_input(p, value):
        cast = int if p.kind == "int" else float
        fields.draw(
            st.number_input,
            label,
            field,
            shown=cast,
            convert=lambda raw: checked(p, None if raw is None else cast(raw)),
            min_value=cast(p.min) if p.min is not None else None,
            max_value=cast(p.max) if p.max is not None else None,
            step=1 if p.kind == "int" else _step(p),
            format="%d" if p.kind == "int" else "%g",
            **common,
        )
    else:
        hint = {"shape": "e.g. 28, 28, 1", "ints": "e.g. 3 or 3, 3"}.get(p.kind, "")
        if p.optional:
            hint = (hint + " · " if hint else "") + "empty = none"
        fields.draw(
            st.text_input,
            label,
            field,
            shown=lambda v: to_text(p, v),
            convert=lambda raw: checked(p, parse(p, raw)),
            placeholder=hint,
            **common,
        )


def params_form(
    specs: tuple[ParamSpec, ...],
    field_of: Callable[[ParamSpec], fields.Field],
    *,
    columns: int = 1,
    disabled: bool = False,
) -> None:
    """Every parameter of ``specs``, each editing the field ``field_of(spec)``."""
    if not specs:
        st.caption("No settings.")
        return
    cols = st.columns(columns) if columns > 1 else [st.container()]
    for i, p in enumerate(specs):
        with cols[i % len(cols)]:
            param_input(p, field_of(p), disabled=disabled)


def kept_args(node_id: str, params: dict[str, Any]) -> None:
    """The arguments a node kept from an imported model, read-only and written as the code
    writes them; one button hands the layer back to the form's values."""
    extra = kept(params)
    if not extra:
        return
    st.caption(
        "From the imported model — read-only, built and exported as they came "
        "(they win over a form field of the same name until that field is edited)"
    )
    st.code("\n".join(f"{k}={kept_source(v)}" for k, v in extra.items()), language="python")
    st.button(
        "Use the form's values instead",
        key=f"drop_kept:{node_id}",
        on_click=editor.drop_kept,
        args=(node_id,),
        width="stretch",
    )


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
