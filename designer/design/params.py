"""Parameter declarations and their checks: the vocabulary the catalogs are written in.

A :class:`ParamSpec` says what one constructor argument accepts. Forms render it, the builder
checks values with it before Keras sees them (so a mistake is a sentence on the node, not a
traceback), and the code generator and importer use its name, which is always the Keras
constructor's argument name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# kinds: int, float, bool, str, choice, ints (an int or a tuple of ints), shape (list of ints)
KINDS = ("int", "float", "bool", "str", "choice", "ints", "shape")

# The key of a node's params that holds constructor arguments kept from an imported model as
# Keras serialized them (a configured initializer, a noise_shape, an asymmetric padding...):
# values the catalog's form does not offer. They are built, exported and shown read-only as
# they came; a catalog parameter of the same name is overridden by them. See :func:`kept`.
KEPT = "keras"


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: str
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple = ()
    optional: bool = False  # None is an accepted value
    length: int | None = None  # for "ints": the tuple length Keras expects (1, 2 or 3)
    # False where our default is a teaching choice and Keras' own differs or has none.
    keras_default: bool = True

    def check(self, value: Any) -> str | None:
        """``None`` if ``value`` is acceptable, else a plain-words reason naming the parameter."""
        if value is None:
            return None if self.optional else f"{self.name}: a value is required"
        k = self.kind
        if k == "bool":
            return None if isinstance(value, bool) else f"{self.name}: must be true or false"
        if k == "choice":
            if value in self.choices:
                return None
            shown = ", ".join(repr(c) for c in self.choices if c is not None)
            return f"{self.name}: {value!r} is not one of {shown}"
        if k == "str":
            return None if isinstance(value, str) else f"{self.name}: must be text"
        if k in ("int", "float"):
            return self._check_number(value, integer=k == "int")
        if k == "ints":
            items = list(value) if isinstance(value, (list, tuple)) else [value]
            if isinstance(value, (list, tuple)) and self.length and len(items) != self.length:
                return f"{self.name}: give one number or {self.length} numbers"
            for item in items:
                reason = self._check_number(item, integer=True)
                if reason:
                    return reason
            return None
        if k == "shape":
            if not isinstance(value, (list, tuple)) or not value:
                return f"{self.name}: must be a list of sizes such as [28, 28, 1]"
            if len(value) > 8:
                return f"{self.name}: at most 8 dimensions"
            for item in value:
                if item is not None and (not _is_int(item) or (item < 1 and item != -1)):
                    return f"{self.name}: sizes must be positive integers (got {item!r})"
                if _is_int(item) and item > 100_000:
                    return f"{self.name}: size {item} is too large (at most 100,000)"
            return None
        return f"{self.name}: unknown parameter kind {k!r}"

    def _check_number(self, value: Any, *, integer: bool) -> str | None:
        if integer and not _is_int(value):
            return f"{self.name}: must be a whole number (got {value!r})"
        if not integer and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            return f"{self.name}: must be a number (got {value!r})"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{self.name}: must be a finite number"
        if self.min is not None and value < self.min:
            return f"{self.name}: must be at least {_fmt(self.min)} (got {_fmt(value)})"
        if self.max is not None and value > self.max:
            return f"{self.name}: must be at most {_fmt(self.max)} (got {_fmt(value)})"
        return None

    def to_keras(self, value: Any) -> Any:
        """JSON value -> the Python value Keras' constructor wants (lists become tuples)."""
        if isinstance(value, list) and self.kind in ("ints", "shape"):
            return tuple(value)
        if self.kind == "float" and _is_int(value):
            return float(value)
        return value


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _fmt(v: float) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def check_params(specs: tuple[ParamSpec, ...], params: dict[str, Any]) -> list[str]:
    """Every problem with ``params`` against ``specs``: unknown names and bad values.

    The kept arguments (``params["keras"]``) are judged by :func:`kept_problem` only: Keras
    itself decides about their values when the layer is built.
    """
    known = {p.name: p for p in specs}
    problems = [
        f"unknown parameter {name!r} (known: {', '.join(known) or 'none'})"
        for name in params
        if name not in known and name != KEPT
    ]
    overridden = kept(params)
    for name, value in params.items():
        if name in known and name not in overridden:
            reason = known[name].check(value)
            if reason:
                problems.append(reason)
    if KEPT in params:
        reason = kept_problem(params[KEPT])
        if reason:
            problems.append(reason)
    return problems


def kept(params: dict[str, Any]) -> dict[str, Any]:
    """The arguments kept from an imported model (``{}`` when there are none)."""
    value = params.get(KEPT)
    return value if isinstance(value, dict) else {}


def kept_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a node's kept arguments (None when it can): an object whose
    keys are argument names. Whether Keras takes them is decided when the layer is built."""
    if not isinstance(value, dict):
        return f"{KEPT}: the kept arguments must be an object of argument names and values"
    for name in value:
        if not isinstance(name, str) or not name.isidentifier() or name == "name":
            return f"{KEPT}: {name!r} is not an argument a layer can keep"
    return None


def form_params(params: dict[str, Any]) -> dict[str, Any]:
    """The params without the kept arguments: the values the catalog's form edits."""
    return {k: v for k, v in params.items() if k != KEPT}


def kept_source(value: Any) -> str:
    """Python source for a kept value: a Keras serialized object as the call that makes it
    (``keras.initializers.VarianceScaling(scale=2.0, mode="fan_out")``), lists as tuples.

    Pure text, no Keras: the form shows it and the code generator writes it. Every piece of
    the value reaches the text as a literal (``repr``) or a checked identifier.
    """
    if isinstance(value, dict):
        call = _serialized_call(value)
        if call is not None:
            return call
        items = ", ".join(f"{kept_source(k)}: {kept_source(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, (list, tuple)):
        items = [kept_source(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'
    return repr(value)


def _serialized_call(value: dict) -> str | None:
    """``keras.initializers.HeNormal(seed=1)`` for ``{"module": "keras.initializers",
    "class_name": "HeNormal", "config": {"seed": 1}, ...}``; None for any other dict."""
    module, cls, config = value.get("module"), value.get("class_name"), value.get("config")
    if not (isinstance(module, str) and isinstance(cls, str) and isinstance(config, dict)):
        return None
    parts = module.split(".") + [cls]
    if parts[0] != "keras" or not all(p.isidentifier() for p in parts):
        return None
    if not all(isinstance(k, str) and k.isidentifier() for k in config):
        return None
    args = ", ".join(f"{k}={kept_source(v)}" for k, v in config.items())
    return f"{'.'.join(parts)}({args})"


def resolved(specs: tuple[ParamSpec, ...], params: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled in for every parameter the design leaves out (kept arguments, when
    there are any, under ``"keras"`` as they are)."""
    out = {p.name: params.get(p.name, p.default) for p in specs}
    if kept(params):
        out[KEPT] = kept(params)
    return out
