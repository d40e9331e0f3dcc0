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

from designer.design import compiling
from designer.design.paths import apply, target
from designer.design.spec import Design, DesignFileError, load
from designer.errors import DesignerError
from designer.experiments.compare import TEST_METRICS
from designer.model.build import analyze
from designer.training import rundir, start_training

MAX_PARAMS, MAX_VALUES, MAX_RUNS = 2, 10, 30
SWEEP_FILE = "sweep.json"


class SweepError(DesignerError):
    """A sweep that cannot be run as asked; the message is one line for the user."""


def problems(design: Design) -> list[str]:
    """Why this design cannot be trained as it is (empty if it can)."""

    try:
        Design.from_dict(design.to_dict())  # the file format's type checks
    except DesignFileError as exc:
        return [str(exc).removeprefix("not a design: ")]
    out = [f"{n}: {m}" for n, m in compiling.problems(design.compile)]
    t = design.training
    out += [
        f"training.{k} must be at least 1" for k in ("epochs", "batch_size") if getattr(t, k) < 1
    ]
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


def start_sweep(
    design: Design,
    settings: dict[str, list[Any]],
    *,
    out: str | Path,
    epochs: int | None = None,
    dataset: str | None = None,
    limit: int | None = None,
    registry: Any = None,
) -> list[Any]:
    """Check the grid, write ``out/sweep.json`` and queue one run per point; returns the jobs."""

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
    manifest = {
        "design": base.to_dict(),
        "params": list(settings),
        "limit": limit,
        "points": [{"values": p, "run_dir": str(r.resolve())} for _, r, p in plan],
    }
    rundir.write_json(out / SWEEP_FILE, manifest)
    return [
        start_training(d, run_dir=r, epochs=d.training.epochs, limit=limit, registry=registry)
        for d, r, _ in plan
    ]


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
    for col, higher in (
        ("test_accuracy", True),
        ("test_mse", False),
        ("best_val_accuracy", True),
        ("best_val_loss", False),
    ):
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

    row = best_row(results(out))
    if row is None:
        raise SweepError("no point has finished with a score yet")
    return load(Path(out) / row["run"] / "design.json")


def sweep_figure(table, params: list[str], metric: str | None = None):
    """A Plotly chart of ``metric`` against the first parameter; one line per value of the
    second parameter if there is one."""
    from designer.report import viz

    go = viz.plotly_go()
    metric = metric or (score_column(table) or ("test_accuracy", True))[0]
    fig = go.Figure()
    x_name = params[0]
    groups = [(None, table)] if len(params) < 2 else list(table.groupby(params[1], sort=False))
    for value, part in groups:
        y = part[metric] if metric in part.columns else [math.nan] * len(part)
        fig.add_trace(
            go.Scatter(
                x=list(part[x_name]),
                y=list(y),
                mode="lines+markers",
                name=metric if value is None else f"{params[1]}={value}",
            )
        )
    xs = [v for v in table[x_name] if isinstance(v, (int, float)) and not isinstance(v, bool)]
    log = bool(xs) and len(xs) == len(table) and min(xs) > 0 and max(xs) / min(xs) >= 100
    fig.update_layout(
        title={"text": f"{viz.metric_label(metric)} by {x_name}", "x": 0.0},
        height=340,
        xaxis_title=x_name,
        yaxis_title=metric,
        margin={"l": 50, "r": 20, "t": 45, "b": 45},
    )
    fig.update_xaxes(type="log" if log else None)
    return fig
