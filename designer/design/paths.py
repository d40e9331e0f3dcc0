"""Settings of a design named by a path: ``NODE.PARAM``, ``compile.NAME``, ``training.NAME``,
``data.NAME``. Sweeps and searches vary them; comparisons show them.

``NODE.enabled`` is the structure setting: ``false`` leaves the layer out, its input feeding
its successors (see :func:`designer.design.editing.bypass`), so a search or a sweep can try
the model with and without a Dropout, a BatchNormalization or an extra Dense.

    >>> value_at(templates.get("digits-mlp"), "dense.units")
    64
"""

from __future__ import annotations

import json
from typing import Any

from designer.design import catalog, compile_catalog
from designer.design.editing import bypass, bypass_problem
from designer.design.params import ParamSpec
from designer.design.spec import Design
from designer.errors import DesignerError

PSEUDO = ("compile", "training", "data")
ENABLED = ParamSpec(
    "enabled", "bool", True, "Keep the layer (false: leave it out; its input feeds what follows)"
)


class PathError(DesignerError):
    """A path or a value that does not name a setting of the design; one line for the user."""


def target(design: Design, path: str) -> tuple[str, str, Any]:
    """``(kind, name, spec)``: kind is ``node:<id>``, ``compile``, ``optimizer``, ``training``
    or ``data``; spec is the catalog ParamSpec (or the section's default value)."""
    head, dot, name = path.strip().rpartition(".")
    if not dot or not head or not name:
        raise PathError(f"{path!r}: write NODE.PARAM, compile.NAME or training.NAME")
    if head in design.node_ids():
        node = design.node(head)
        spec = catalog.get(node.type)
        names = [p.name for p in spec.params] if spec else []
        if name in names:
            return f"node:{head}", name, spec.param(name)
        if name == ENABLED.name:
            problem = bypass_problem(design, head)
            if problem:
                raise PathError(f"{path}: {problem}")
            return f"node:{head}", name, ENABLED
        if head not in PSEUDO:
            raise PathError(
                f"{path}: a {node.type} layer has no parameter {name!r} "
                f"(it has: {', '.join(names) or 'none'})"
            )
    if head == "compile":
        if name in ("optimizer", "loss"):
            choices = compile_catalog.OPTIMIZERS if name == "optimizer" else compile_catalog.LOSSES
            return "compile", name, tuple(choices)
        opts = [p for o in compile_catalog.OPTIMIZERS.values() for p in o.params if p.name == name]
        if not opts:
            raise PathError(f"{path}: not an optimizer parameter (try compile.learning_rate)")
        return "optimizer", name, opts[0]
    if head in ("training", "data"):
        section = getattr(Design(), head)
        if not hasattr(section, name) or name in ("path", "target"):
            fields = ", ".join(f for f in vars(section) if f not in ("path", "target"))
            raise PathError(f"{path}: unknown {head} setting (known: {fields})")
        return head, name, getattr(section, name)
    raise PathError(
        f"{path}: no node {head!r} in the design (nodes: {', '.join(design.node_ids())})"
    )


def value_at(design: Design, path: str) -> Any:
    """The design's value at ``path`` (the default when the design leaves it out)."""
    kind, name, spec = target(design, path)
    if spec is ENABLED:
        return True  # a layer of the design is in it
    if kind.startswith("node:"):
        return design.node(kind[5:]).params.get(name, spec.default)
    if kind == "optimizer":
        opt = compile_catalog.OPTIMIZERS.get(design.compile.optimizer)
        default = next((p.default for p in (opt.params if opt else ()) if p.name == name), None)
        return design.compile.optimizer_params.get(name, default)
    return getattr(design.compile if kind == "compile" else getattr(design, kind), name)


def candidates(design: Design) -> list[str]:
    """Paths worth sweeping in ``design``: its layers' number parameters, then the usual
    compile and training settings."""
    outputs = set(design.output_ids())  # an output's units must match the data: not a knob
    out = [
        f"{n.id}.{p.name}"
        for n in design.nodes
        if (spec := catalog.get(n.type))
        for p in spec.params
        if p.kind in ("int", "float")
        and spec.module != "input"
        and not (n.id in outputs and p.name == "units")
    ]
    return out + [
        "compile.learning_rate",
        "compile.optimizer",
        "training.batch_size",
        "training.epochs",
    ]


def suggest(design: Design, path: str) -> str:
    """Starting values for ``path`` as text: around the current value."""
    value = value_at(design, path)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "Adam, SGD" if path == "compile.optimizer" else str(value)
    if isinstance(value, float):
        if 0 < value < 1 and path.endswith("rate") and "learning" not in path:
            return ", ".join(f"{v:g}" for v in sorted({0.0, round(value / 2, 3), value}))
        return ", ".join(f"{v:g}" for v in (value / 10, value, value * 10))
    return ", ".join(str(v) for v in sorted({max(1, value // 2), value, value * 2}))


def convert(text: str, spec: Any) -> Any:
    """One value written as text (``32``, ``0.01``, ``relu``, ``none``, ``true``, ``[3,3]``)
    as the setting ``spec`` (what :func:`target` returns) takes it; PathError if it cannot."""
    text = text.strip()
    if isinstance(spec, tuple):  # compile.optimizer / compile.loss: names
        return text
    kind = getattr(spec, "kind", None)
    default = spec if kind is None else spec.default
    if text.lower() in ("none", "null") and (kind is None or spec.optional):
        return None
    if kind == "bool" or isinstance(default, bool):
        if text.lower() in ("true", "yes", "1", "on"):
            return True
        if text.lower() in ("false", "no", "0", "off"):
            return False
        raise PathError(f"{text!r} is not true or false")
    if kind in ("str", "choice") or isinstance(default, str):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        raise PathError(f"{text!r} is not a number") from None
    if (kind == "float" or isinstance(default, float)) and isinstance(value, int):
        value = float(value)
    return value


def split_values(text: str) -> list[str]:
    """``32,64,[3,3]`` -> ``["32", "64", "[3,3]"]`` (commas inside brackets stay)."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def parse_set(design: Design, text: str) -> tuple[str, list[Any]]:
    """``"dense.units=32,64"`` -> ``("dense.units", [32, 64])``, checked against the design."""
    path, eq, values = text.partition("=")
    if not eq or not values.strip():
        raise PathError(f"{text!r}: write PATH=V1,V2,... (for example dense.units=32,64,128)")
    path = path.strip()
    spec = target(design, path)[2]
    try:
        return path, [convert(v, spec) for v in split_values(values)]
    except PathError as exc:
        raise PathError(f"{path}: {exc}") from None


def apply(design: Design, values: dict[str, Any]) -> Design:
    """A copy of ``design`` with every ``path: value`` set; layers whose ``enabled`` is false
    are left out last, so their other settings may be given too."""
    d = design.copy()
    left_out = []
    for path, value in values.items():
        kind, name, spec = target(d, path)
        if spec is ENABLED:
            if value is False:
                left_out.append(kind[5:])
        elif kind.startswith("node:"):
            d.node(kind[5:]).params[name] = value
        elif kind == "compile":
            if name == "optimizer" and value != d.compile.optimizer:
                lr = d.compile.optimizer_params.get("learning_rate")
                d.compile.optimizer_params = {} if lr is None else {"learning_rate": lr}
            setattr(d.compile, name, value)
        elif kind == "optimizer":
            d.compile.optimizer_params[name] = value
        else:
            setattr(getattr(d, kind), name, value)
    for node_id in left_out:
        d = bypass(d, node_id)
    return d
