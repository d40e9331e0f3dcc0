"""A search space: the settings of a design a search varies and the ranges it tries.

One dimension per setting, written ``PATH=SPEC`` (``--space`` on the command line):

* ``PATH`` names a setting as in sweeps (:mod:`designer.design.paths`): ``dense.units``,
  ``compile.learning_rate``, ``training.batch_size``; ``NODE.enabled`` keeps or leaves out a
  layer with one input and one output (the structure part of a search).
* ``SPEC`` is ``int:LOW:HIGH``, ``int:LOW:HIGH:log``, ``float:LOW:HIGH``,
  ``float:LOW:HIGH:log`` or ``choice:A,B,C``.

Every dimension is checked against the design and the catalog before anything trains: both
ends of a range and every choice must be values the catalog accepts for that setting.

    >>> parse_space(templates.get("digits-mlp"), ["dense.units=int:16:128:log"])
    [Dimension(path='dense.units', kind='int', low=16, high=128, log=True, choices=())]
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from designer.design import catalog, paths
from designer.design.editing import bypass_problem, edit_problems
from designer.design.spec import Design
from designer.errors import DesignerError

KINDS = ("int", "float", "choice")
EXAMPLE = "int:16:256:log, float:0.0001:0.1:log or choice:relu,tanh"
# Choices a search of these settings starts from, when the setting offers them.
PREFERRED = {
    "activation": ("relu", "tanh", "gelu", "elu"),
    "compile.optimizer": ("Adam", "SGD", "RMSprop"),
}


class SpaceError(DesignerError):
    """A dimension that cannot be searched as written; one line for the user."""


@dataclass(frozen=True)
class Dimension:
    path: str
    kind: str  # int | float | choice
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    choices: tuple = ()

    def text(self) -> str:
        """The ``SPEC`` part, as it would be written on the command line."""
        if self.kind == "choice":
            return "choice:" + ",".join(value_text(c) for c in self.choices)
        return f"{self.kind}:{_number(self.low)}:{_number(self.high)}" + (
            ":log" if self.log else ""
        )

    def labels(self) -> list:
        """The choices as Optuna stores them (it takes None, bools, numbers and text only)."""
        return [json.dumps(c) if isinstance(c, (list, tuple, dict)) else c for c in self.choices]

    def distribution(self):
        import optuna

        if self.kind == "int":
            return optuna.distributions.IntDistribution(int(self.low), int(self.high), log=self.log)
        if self.kind == "float":
            return optuna.distributions.FloatDistribution(
                float(self.low), float(self.high), log=self.log
            )
        return optuna.distributions.CategoricalDistribution(self.labels())

    def label_of(self, value: Any) -> Any:
        """What Optuna stores for the design value ``value`` (which the dimension contains)."""
        if self.kind != "choice":
            return value
        return next(lab for c, lab in zip(self.choices, self.labels()) if _same(c, value))

    def decode(self, stored: Any) -> Any:
        """The design value of what Optuna sampled (or stored)."""
        if self.kind == "choice":
            return self.choices[self.labels().index(stored)]
        return int(stored) if self.kind == "int" else float(stored)

    def contains(self, value: Any) -> bool:
        if self.kind == "choice":
            return any(_same(value, c) for c in self.choices)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return self.low <= value <= self.high


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a) == json.dumps(b)


def _number(x: Any) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def value_text(value: Any) -> str:
    """A setting's value as the command line writes it: none, true, false, [3,3], relu, 0.01."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, separators=(",", ":"))
    return _number(value) if isinstance(value, float) else str(value)


# ---- parsing and checking ----------------------------------------------------------------------
def parse_space(design: Design, texts: list[str]) -> list[Dimension]:
    """``["PATH=SPEC", ...]`` as checked dimensions; SpaceError (or PathError) with one line."""
    if not texts:
        raise SpaceError(
            "give at least one PATH=SPEC to search, such as dense.units=int:16:256:log"
        )
    dims = [parse_dimension(design, t) for t in texts]
    seen = set()
    for d in dims:
        if d.path in seen:
            raise SpaceError(f"{d.path} is given twice")
        seen.add(d.path)
    return dims


def parse_dimension(design: Design, text: str) -> Dimension:
    path, eq, spec = text.partition("=")
    path, spec = path.strip(), spec.strip()
    if not eq or not path or not spec:
        raise SpaceError(f"{text!r}: write PATH=SPEC, the SPEC as {EXAMPLE}")
    setting = paths.target(design, path)[2]  # PathError names an unknown node or parameter
    kind, _, rest = spec.partition(":")
    if kind not in KINDS:
        raise SpaceError(f"{path}={spec}: a range starts with int:, float: or choice: ({EXAMPLE})")
    if kind == "choice":
        values = [paths.convert(v, setting) for v in paths.split_values(rest)]
        if not values:
            raise SpaceError(f"{path}={spec}: give the choices after choice:")
        if len({json.dumps(v) for v in values}) < len(values):
            raise SpaceError(f"{path}={spec}: a choice is given twice")
        dim = Dimension(path, "choice", choices=tuple(values))
    else:
        dim = _range(path, spec, kind, rest, setting)
    check_dimension(design, dim)
    return dim


def _range(path: str, spec: str, kind: str, rest: str, setting: Any) -> Dimension:
    parts = rest.split(":")
    log = len(parts) == 3 and parts[2].strip().lower() == "log"
    if len(parts) not in (2, 3) or (len(parts) == 3 and not log):
        raise SpaceError(f"{path}={spec}: write {kind}:LOW:HIGH or {kind}:LOW:HIGH:log")
    number_kind = setting_kind(setting)
    if number_kind not in ("int", "float"):
        raise SpaceError(f"{path} is not a number: search it with choice:A,B")
    if kind == "float" and number_kind == "int":
        raise SpaceError(f"{path} takes whole numbers: use int:LOW:HIGH")
    if kind == "int" and number_kind == "float":
        raise SpaceError(f"{path} takes any number: use float:LOW:HIGH")
    try:
        low, high = (int(p) if kind == "int" else float(p) for p in parts[:2])
    except ValueError:
        what = "whole numbers" if kind == "int" else "numbers"
        raise SpaceError(f"{path}={spec}: LOW and HIGH must be {what}") from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise SpaceError(f"{path}={spec}: LOW and HIGH must be finite")
    if low > high:
        raise SpaceError(f"{path}={spec}: LOW is above HIGH")
    if log and low <= 0:
        raise SpaceError(f"{path}={spec}: a log range needs LOW above 0")
    return Dimension(path, kind, low, high, log)


def setting_kind(setting: Any) -> str:
    """``int``, ``float``, ``bool`` or ``choice`` (names) for what paths.target returned."""
    if isinstance(setting, tuple):
        return "choice"
    kind = getattr(setting, "kind", None)
    if kind is not None:
        return {"ints": "int", "str": "choice"}.get(kind, kind)
    if isinstance(setting, bool):
        return "bool"
    if isinstance(setting, int):
        return "int"
    return "float" if isinstance(setting, float) else "choice"


def check_dimension(design: Design, dim: Dimension) -> None:
    """SpaceError when the catalog refuses an end of the range or one of the choices."""
    values = list(dim.choices) if dim.kind == "choice" else [dim.low, dim.high]
    for value in values:
        reason = refusal(design, dim.path, value)
        if reason:
            raise SpaceError(f"{dim.path}={dim.text()}: {value_text(value)} is refused: {reason}")


def refusal(design: Design, path: str, value: Any) -> str | None:
    """Why the catalog refuses ``value`` at ``path`` (None if it takes it)."""
    kind, name, setting = paths.target(design, path)
    if isinstance(setting, tuple) and value not in setting:
        return f"unknown {name} {value!r} (known: {', '.join(setting)})"
    if setting is paths.ENABLED:
        return None if isinstance(value, bool) else "enabled is true or false"
    if kind == "training" and isinstance(setting, int) and isinstance(value, int) and value < 1:
        return f"{name} must be at least 1"  # epochs, batch size, devices, patience
    problems = edit_problems(design, paths.apply(design, {path: value}))
    return problems[0].split(": ", 1)[-1] if problems else None


# ---- what a person may search, and where a search of it starts -------------------------------
def searchable(design: Design) -> list[str]:
    """The settings of ``design`` a search can vary, layer by layer, then compile and training.

    The output layers' units and activation are left out: the data fixes them."""
    outputs = set(design.output_ids())
    out = []
    for node in design.nodes:
        spec = catalog.get(node.type)
        if spec is None or spec.module == "input":
            continue
        for p in spec.params:
            if p.kind not in ("int", "float", "bool", "choice", "ints"):
                continue
            if node.id in outputs and p.name in ("units", "activation"):
                continue
            if p.kind == "ints" and not isinstance(node.params.get(p.name, p.default), int):
                continue  # a per-axis tuple: not one number to range over
            out.append(f"{node.id}.{p.name}")
        if bypass_problem(design, node.id) is None:
            out.append(f"{node.id}.enabled")
    return out + ["compile.optimizer", "compile.learning_rate", "training.batch_size"]


def suggest(design: Design, path: str) -> Dimension:
    """Where a search of ``path`` starts: a range around the current value inside the catalog's
    limits, or the current choice and a few others."""
    kind, name, setting = paths.target(design, path)
    value = paths.value_at(design, path)
    number = setting_kind(setting)
    if number == "bool":
        return Dimension(path, "choice", choices=(True, False))
    if number == "choice":
        options = setting if isinstance(setting, tuple) else getattr(setting, "choices", ())
        liked = PREFERRED.get(path) or PREFERRED.get(name) or tuple(options)
        picks = [value, *[c for c in liked if c in options and c is not None]]
        unique = list(dict.fromkeys(json.dumps(p) for p in picks))[:3]
        return Dimension(path, "choice", choices=tuple(json.loads(u) for u in unique))
    lo_limit = getattr(setting, "min", None)
    hi_limit = getattr(setting, "max", None)
    if number == "int":
        v = int(value) if isinstance(value, (int, float)) else 1
        low = max(int(lo_limit if lo_limit is not None else 1), max(1, v // 4))
        high = min(int(hi_limit) if hi_limit is not None else v * 4, max(low + 1, v * 4))
        return Dimension(path, "int", low, high, log=low >= 1 and high / low >= 8)
    return _float_range(path, float(value or 0.0), lo_limit, hi_limit)


def _float_range(path: str, v: float, lo_limit, hi_limit) -> Dimension:
    lo_limit = 0.0 if lo_limit is None else float(lo_limit)
    hi_limit = math.inf if hi_limit is None else float(hi_limit)
    fraction = lo_limit >= 0.0 and hi_limit <= 1.0
    if 0 < v < 0.01 or (v > 0 and not fraction):  # a step size or a small constant: decades
        low, high, log = max(lo_limit, v / 10), min(hi_limit, v * 10), True
    elif fraction and v >= 0.5:  # a decay (momentum, beta): towards 1 in decades
        low, high, log = max(lo_limit, 1 - (1 - v) * 10), min(hi_limit, 1 - (1 - v) / 10), False
    elif fraction:  # a rate such as Dropout's
        low, high, log = lo_limit, min(hi_limit, 0.5), False
    else:
        low, high, log = lo_limit, min(hi_limit, 1.0), False
    low, high = float(f"{low:.4g}"), float(f"{high:.4g}")
    return Dimension(path, "float", low, high, log=log and low > 0)
