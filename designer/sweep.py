"""Parameter sweeps: train a design once per combination of a few values of one or two
parameters (a grid, queued as runs), then a results table, a chart and the best design.

Parameter paths (``PATH=V1,V2,...`` on the command line):

* ``NODE.PARAM`` — a layer's parameter, by node id: ``dense.units``, ``dropout.rate``,
  ``conv1.kernel_size`` (values are checked against the layer catalog);
* ``compile.learning_rate`` (or any other parameter of the optimizer: ``compile.momentum``),
  ``compile.optimizer``, ``compile.loss``;
* ``training.batch_size``, ``training.epochs``, ``training.seed`` (any field of the design's
  ``training`` section), and ``data.scaling``, ``data.seed``... (of ``data``; changing the
  splits changes the test set too, so scores then compare less well).

A node whose id is ``compile``, ``training`` or ``data`` wins over the pseudo-node when it has
that parameter. The last dot separates the parameter (node ids may contain dots).

A sweep directory holds ``sweep.json`` (the plan) and one run directory per point.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path
from typing import Any

from designer import catalog, compile_catalog
from designer.spec import Design, DesignFileError

MAX_PARAMS, MAX_VALUES, MAX_RUNS = 2, 10, 30
SWEEP_FILE = "sweep.json"
PSEUDO = ("compile", "training", "data")


class SweepError(ValueError):
    """A sweep that cannot be run as asked; the message is one line for the user."""


# ---- paths and values -------------------------------------------------------------------------
def target(design: Design, path: str) -> tuple[str, str, Any]:
    """``(kind, name, spec)``: kind is ``node:<id>``, ``compile``, ``optimizer``, ``training``
    or ``data``; spec is the catalog ParamSpec (or the section's default value)."""
    head, dot, name = path.strip().rpartition(".")
    if not dot or not head or not name:
        raise SweepError(f"{path!r}: write NODE.PARAM, compile.NAME or training.NAME")
    if head in design.node_ids():
        node = design.node(head)
        spec = catalog.get(node.type)
        names = [p.name for p in spec.params] if spec else []
        if name in names:
            return f"node:{head}", name, spec.param(name)
        if head not in PSEUDO:
            raise SweepError(f"{path}: a {node.type} layer has no parameter {name!r} (it has: {', '.join(names) or 'none'})")  # fmt: skip
    if head == "compile":
        if name in ("optimizer", "loss"):
            choices = compile_catalog.OPTIMIZERS if name == "optimizer" else compile_catalog.LOSSES
            return "compile", name, tuple(choices)
        opts = [p for o in compile_catalog.OPTIMIZERS.values() for p in o.params if p.name == name]
        if not opts:
            raise SweepError(f"{path}: not an optimizer parameter (try compile.learning_rate)")
        return "optimizer", name, opts[0]
    if head in ("training", "data"):
        section = getattr(Design(), head)
        if not hasattr(section, name) or name in ("path", "target"):
            fields = ", ".join(f for f in vars(section) if f not in ("path", "target"))
            raise SweepError(f"{path}: unknown {head} setting (known: {fields})")
        return head, name, getattr(section, name)
    raise SweepError(f"{path}: no node {head!r} in the design (nodes: {', '.join(design.node_ids())})")  # fmt: skip


def value_at(design: Design, path: str) -> Any:
    """The design's value at ``path`` (the default when the design leaves it out)."""
    kind, name, spec = target(design, path)
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
    out = [f"{n.id}.{p.name}" for n in design.nodes if (spec := catalog.get(n.type))
           for p in spec.params if p.kind in ("int", "float") and spec.module != "input"
           and not (n.id in outputs and p.name == "units")]  # fmt: skip
    return out + ["compile.learning_rate", "compile.optimizer", "training.batch_size", "training.epochs"]  # fmt: skip


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


def _convert(text: str, spec: Any) -> Any:
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
        raise SweepError(f"{text!r} is not true or false")
    if kind in ("str", "choice") or isinstance(default, str):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        raise SweepError(f"{text!r} is not a number") from None
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
        raise SweepError(f"{text!r}: write PATH=V1,V2,... (for example dense.units=32,64,128)")
    path = path.strip()
    spec = target(design, path)[2]
    try:
        return path, [_convert(v, spec) for v in split_values(values)]
    except SweepError as exc:
        raise SweepError(f"{path}: {exc}") from None


def apply(design: Design, values: dict[str, Any]) -> Design:
    """A copy of ``design`` with every ``path: value`` set."""
    d = design.copy()
    for path, value in values.items():
        kind, name, _ = target(d, path)
        if kind.startswith("node:"):
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
    return d


def problems(design: Design) -> list[str]:
    """Why this design cannot be trained as it is (empty if it can)."""
    from designer import compiling
    from designer.build import analyze

    try:
        Design.from_dict(design.to_dict())  # the file format's type checks
    except DesignFileError as exc:
        return [str(exc).removeprefix("not a design: ")]
    out = [f"{n}: {m}" for n, m in compiling.problems(design.compile)]
    t = design.training
    out += [f"training.{k} must be at least 1" for k in ("epochs", "batch_size") if getattr(t, k) < 1]  # fmt: skip
    return out + analyze(design).lines()


# ---- the grid ---------------------------------------------------------------------------------
def grid(design: Design, settings: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the values, each one checked (SweepError names the bad point)."""
    if not settings:
        raise SweepError("choose at least one parameter to sweep")
    if len(settings) > MAX_PARAMS:
        raise SweepError(f"a sweep varies at most {MAX_PARAMS} parameters")
    for path, values in settings.items():
        target(design, path)
        if not values:
            raise SweepError(f"{path}: give at least one value")
        if len(values) > MAX_VALUES:
            raise SweepError(f"{path}: at most {MAX_VALUES} values")
        if len({json.dumps(v) for v in values}) < len(values):
            raise SweepError(f"{path}: a value is given twice")
    points = [dict(zip(settings, combo)) for combo in itertools.product(*settings.values())]
    if len(points) > MAX_RUNS:
        raise SweepError(f"{len(points)} runs is too many (at most {MAX_RUNS})")
    for point in points:
        found = problems(apply(design, point))
        if found:
            raise SweepError(f"{label(point)}: {found[0]}")
    return points


def label(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in point.items())


def _slug(point: dict[str, Any]) -> str:
    text = "_".join(f"{k}-{v}" for k, v in point.items())
    return re.sub(r"[^A-Za-z0-9_.-]+", "", text.replace(" ", ""))[:80]


def start_sweep(design: Design, settings: dict[str, list[Any]], *, out: str | Path,
                epochs: int | None = None, dataset: str | None = None,
                limit: int | None = None, registry: Any = None) -> list[Any]:  # fmt: skip
    """Check the grid, write ``out/sweep.json`` and queue one run per point; returns the jobs."""
    from designer.training import rundir, start_training

    base = design.copy()
    if dataset:
        base.data.dataset, base.data.path = dataset, None
    if epochs:
        base.training.epochs = int(epochs)
    points = grid(base, settings)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if (out / SWEEP_FILE).exists():
        raise SweepError(f"{out} already holds a sweep: choose another directory")
    plan = []
    for i, point in enumerate(points):
        d = apply(base, point)
        d.name = f"{base.name}-{_slug(point)}"
        # The registry knows a run by its directory's name: make it unique across sweeps.
        plan.append((d, out / f"{out.name}-{i + 1:02d}-{_slug(point)}", point))
    manifest = {"design": base.to_dict(), "params": list(settings), "limit": limit,
                "points": [{"values": p, "run_dir": str(r.resolve())} for _, r, p in plan]}  # fmt: skip
    rundir.write_json(out / SWEEP_FILE, manifest)
    return [start_training(d, run_dir=r, epochs=d.training.epochs, limit=limit, registry=registry)
            for d, r, _ in plan]  # fmt: skip


# ---- results ----------------------------------------------------------------------------------
def read_plan(out: str | Path) -> dict[str, Any]:
    path = Path(out) / SWEEP_FILE
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SweepError(f"{out}: not a sweep directory (no readable {SWEEP_FILE})") from None
    if not isinstance(plan, dict) or not isinstance(plan.get("points"), list):
        raise SweepError(f"{path}: not a sweep plan")
    return plan


def results(out: str | Path):
    """One row per point: the parameter values, status, epochs, test metrics, best validation
    value and run directory (pandas DataFrame)."""
    import pandas as pd

    from designer.compare import TEST_METRICS
    from designer.training import rundir

    plan = read_plan(out)
    rows = []
    for p in plan["points"]:
        run = Path(p["run_dir"])
        history = rundir.read_history(run)
        metrics = rundir.read_json(run / rundir.METRICS_FILE) or {}
        row = {k: _cell(v) for k, v in p["values"].items()}
        row |= {"status": rundir.read_status(run)["status"], "epochs": len(history)}
        for name in TEST_METRICS:
            if isinstance(metrics.get(name), (int, float)):
                row[f"test_{name}"] = float(metrics[name])
        best = rundir.best_metric(history)
        if best:
            row[f"best_{best[0]}"] = best[1]
        row["run"] = run.name
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(v: Any) -> Any:
    return json.dumps(v) if isinstance(v, (list, dict)) else v


def score_column(table) -> tuple[str, bool] | None:
    """The column that ranks the points and whether higher is better."""
    for col, higher in (("test_accuracy", True), ("test_mse", False), ("best_val_accuracy", True), ("best_val_loss", False)):  # fmt: skip
        if col in table.columns and table[col].notna().any():
            return col, higher
    return None


def best_row(table) -> dict[str, Any] | None:
    ranked = score_column(table)
    if ranked is None:
        return None
    col, higher = ranked
    idx = table[col].idxmax() if higher else table[col].idxmin()
    return table.loc[idx].to_dict()


def best_design(out: str | Path) -> Design:
    """The design of the best finished point, as trained (to open as the current design)."""
    from designer.spec import load

    row = best_row(results(out))
    if row is None:
        raise SweepError("no point has finished with a score yet")
    return load(Path(out) / row["run"] / "design.json")


def sweep_figure(table, params: list[str], metric: str | None = None):
    """A Plotly chart of ``metric`` against the first parameter; one line per value of the
    second parameter if there is one."""
    import plotly.graph_objects as go

    from designer import viz

    metric = metric or (score_column(table) or ("test_accuracy", True))[0]
    fig = go.Figure()
    x_name = params[0]
    groups = [(None, table)] if len(params) < 2 else list(table.groupby(params[1], sort=False))
    for value, part in groups:
        y = part[metric] if metric in part.columns else [math.nan] * len(part)
        fig.add_trace(go.Scatter(x=list(part[x_name]), y=list(y), mode="lines+markers",
                                 name=metric if value is None else f"{params[1]}={value}"))  # fmt: skip
    xs = [v for v in table[x_name] if isinstance(v, (int, float)) and not isinstance(v, bool)]
    log = bool(xs) and len(xs) == len(table) and min(xs) > 0 and max(xs) / min(xs) >= 100
    fig.update_layout(title={"text": f"{viz.metric_label(metric)} by {x_name}", "x": 0.0},
                      height=340, template="plotly_white", xaxis_title=x_name, yaxis_title=metric,
                      margin={"l": 50, "r": 20, "t": 45, "b": 45})  # fmt: skip
    fig.update_xaxes(type="log" if log else None)
    return fig
