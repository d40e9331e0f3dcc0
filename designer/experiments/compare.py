"""Compare runs and designs: curves on one chart, a table of metrics and settings, and an
architecture diff (nodes added, removed and changed; rewired edges) drawable as one graph.

Only run directories are read (JSON and CSV): nothing here imports TensorFlow, so
``keras-designer compare`` starts instantly. Nodes are matched by id, which is what the
editor shows and what the builder names layers after.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer.design import catalog, compile_catalog, compiling, paths
from designer.design.spec import Design, DesignFileError
from designer.errors import DesignerError
from designer.training import rundir

ADDED, REMOVED, CHANGED, UNCHANGED = "#43A047", "#E53935", "#FB8C00", "#B0BEC5"
# Test metrics of metrics.json shown in tables, and whether higher is better.
TEST_METRICS = {
    "accuracy": True,
    "macro_f1": True,
    "auc": True,
    "mae": False,
    "mse": False,
    "r2": True,
}
SETTINGS = (
    "data.dataset",
    "compile.optimizer",
    "compile.learning_rate",
    "compile.loss",
    "training.batch_size",
    "training.epochs",
    "training.seed",
)


class RunError(DesignerError):
    """A directory that is not a readable run; the message is one line for the user."""


# ---- runs -----------------------------------------------------------------------------------
@dataclass
class RunRecord:
    path: Path
    design: Design
    history: list[dict[str, float]]
    metrics: dict[str, Any]  # metrics.json ({} if the run has none yet)
    status: str

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def task(self) -> str:
        return self.metrics.get("task") or (
            "regression" if "mse" in self.metrics else "classification"
        )

    def curves(self) -> dict[str, list[float]]:
        """history.csv as ``{"loss": [...], "val_loss": [...]}`` (what viz.curves_figure takes)."""
        keys = [k for row in self.history for k in row if k != "epoch"]
        return {k: [row.get(k, math.nan) for row in self.history] for k in dict.fromkeys(keys)}


def load_run(run_dir: str | Path) -> RunRecord:
    """A run directory's design, history, metrics and status (:class:`RunError` if it is none)."""

    path = Path(run_dir)
    if not path.is_dir():
        raise RunError(f"{path}: no such run directory")
    raw = rundir.read_json(path / rundir.DESIGN_FILE)
    if raw is None:
        raise RunError(f"{path}: not a run directory (no readable {rundir.DESIGN_FILE})")
    try:
        design = Design.from_dict(raw)
    except DesignFileError as exc:
        raise RunError(f"{path}/{rundir.DESIGN_FILE}: {exc}") from None
    metrics = rundir.read_json(path / rundir.METRICS_FILE)
    metrics = metrics if isinstance(metrics, dict) else {}
    return RunRecord(
        path, design, rundir.read_history(path), metrics, rundir.read_status(path)["status"]
    )


def load_runs(run_dirs: Sequence[str | Path]) -> list[RunRecord]:
    return [r if isinstance(r, RunRecord) else load_run(r) for r in run_dirs]


def labels(runs: Sequence[RunRecord]) -> list[str]:
    """Unique display names: the directory names (parent/name where two names clash)."""
    names = [r.id for r in runs]
    if len(set(names)) < len(names):
        names = [f"{r.path.parent.name}/{r.id}" for r in runs]
    return [n if names.count(n) == 1 else f"{n} #{i + 1}" for i, n in enumerate(names)]


def common_metrics(runs: Sequence[RunRecord]) -> list[str]:
    """Metrics (without ``val_``) that every run's history has, loss first."""
    sets = [{k.removeprefix("val_") for k in r.curves() if k != "learning_rate"} for r in runs]
    common = set.intersection(*sets) if sets else set()
    return sorted(common, key=lambda m: (m != "loss", m))


def curves_figure(runs: Sequence[RunRecord], metric: str = "loss"):
    """One Plotly chart with ``metric`` per epoch of every run (train solid, validation dashed)."""
    from designer.report import viz

    return viz.curves_figure(list(zip(labels(runs), (r.curves() for r in runs))), metric)


# ---- the table ------------------------------------------------------------------------------
def node_params(node: Any) -> dict[str, Any]:
    """A node's parameters with the catalog's defaults filled in (raw ones for unknown types)."""
    spec = catalog.get(node.type)
    full = spec.defaults() if spec else {}
    return full | dict(node.params)


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, tuple, dict)) else value


def run_table(runs: Sequence[RunRecord]):
    """A pandas DataFrame, one row per run: status, test metrics, final history values, the
    main settings, and every node parameter that differs between the runs (``NODE.PARAM``)."""
    import pandas as pd

    runs = load_runs(runs)
    rows = []
    node_cols = _differing_node_params([r.design for r in runs])
    for r in runs:
        row: dict[str, Any] = {"status": r.status, "epochs_done": len(r.history)}
        for name in TEST_METRICS:
            if isinstance(r.metrics.get(name), (int, float)):
                row[f"test_{name}"] = float(r.metrics[name])
        last = r.history[-1] if r.history else {}
        for key in ("loss", "val_loss", "accuracy", "val_accuracy", "mae", "val_mae"):
            if key in last:
                row[f"final_{key}"] = last[key]
        row |= {path: _cell(paths.value_at(r.design, path)) for path in SETTINGS}
        for path in node_cols:
            node_id, _, name = path.rpartition(".")
            present = node_id in r.design.node_ids()
            row[path] = _cell(node_params(r.design.node(node_id)).get(name)) if present else "-"
        if row["compile.loss"] is None:  # "auto": show the loss the task gave it
            row["compile.loss"] = compiling.resolve(r.design, r.task).loss
        row["nodes"] = len(r.design.nodes)
        rows.append(row)
    return pd.DataFrame(rows, index=pd.Index(labels(runs), name="run"))


def _differing_node_params(designs: list[Design]) -> list[str]:
    out = []
    ids = dict.fromkeys(i for d in designs for i in d.node_ids())
    for node_id in ids:
        present = [node_params(d.node(node_id)) for d in designs if node_id in d.node_ids()]
        names = dict.fromkeys(k for p in present for k in p)
        for name in names:
            values = {json.dumps(p.get(name), sort_keys=True, default=str) for p in present}
            if len(values) > 1:
                out.append(f"{node_id}.{name}")
    return out


def is_metric_column(column: str) -> bool:
    return column.startswith(("test_", "final_"))


def differences(table):
    """Boolean mask shaped like ``table``: True in every cell of a column whose values are not
    all the same (settings that differ; for metrics, any difference at all)."""
    import pandas as pd

    mask = pd.DataFrame(False, index=table.index, columns=table.columns)
    for col in table.columns:
        values = {json.dumps(v, default=str) if not _is_nan(v) else "nan" for v in table[col]}
        mask[col] = len(values) > 1
    return mask


def best_mask(table):
    """True at the best value of each test/final metric column (lowest loss/error, else highest)."""
    import pandas as pd

    mask = pd.DataFrame(False, index=table.index, columns=table.columns)
    for col in table.columns:
        if not is_metric_column(col):
            continue
        values = pd.to_numeric(table[col], errors="coerce")
        if values.notna().sum() < 2:
            continue
        name = col.split("_", 1)[1].removeprefix("val_")
        higher = TEST_METRICS.get(name, "acc" in name or "auc" in name)
        mask[col] = values == (values.max() if higher else values.min())
    return mask


def style_table(table):
    """A pandas Styler: differing settings in orange, the best value of each metric in green."""
    import numpy as np
    import pandas as pd

    settings = differences(table) & [not is_metric_column(c) for c in table.columns]
    css = np.where(
        best_mask(table),
        "background-color: #C8E6C9; font-weight: bold",
        np.where(settings, "background-color: #FFE0B2", ""),
    )
    return table.style.apply(lambda _: pd.DataFrame(css, table.index, table.columns), axis=None)


def _is_nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


# ---- architecture diff ----------------------------------------------------------------------
@dataclass
class NodeChange:
    id: str
    type: str  # the type in the new design
    params: dict[str, tuple[Any, Any]]  # name -> (old, new); "type" when the layer type changed


@dataclass
class ArchDiff:
    added: list[tuple[str, str]] = field(default_factory=list)  # (id, type)
    removed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[NodeChange] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    edges_added: list[tuple[str, str]] = field(default_factory=list)
    edges_removed: list[tuple[str, str]] = field(default_factory=list)
    # edges explained by an added/removed node: node id -> its edges (and bypasses)
    edges_of: dict[str, list[str]] = field(default_factory=dict)
    rewired: list[str] = field(default_factory=list)  # the other edge changes, as text
    settings: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # compile/training/...

    @property
    def identical(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.changed
            or self.edges_added
            or self.edges_removed
            or self.settings
        )

    def changed_ids(self) -> list[str]:
        return (
            [i for i, _ in self.added] + [i for i, _ in self.removed] + [c.id for c in self.changed]
        )


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def diff_designs(a: Design, b: Design) -> ArchDiff:
    """What changed from design ``a`` to design ``b`` (nodes matched by id)."""
    d = ArchDiff()
    ids_a, ids_b = set(a.node_ids()), set(b.node_ids())
    d.removed = [(n.id, n.type) for n in a.nodes if n.id not in ids_b]
    d.added = [(n.id, n.type) for n in b.nodes if n.id not in ids_a]
    for nb in b.nodes:
        if nb.id not in ids_a:
            continue
        na = a.node(nb.id)
        pa, pb = (
            (node_params(na), node_params(nb)) if na.type == nb.type else (na.params, nb.params)
        )
        params = {
            k: (pa.get(k), pb.get(k))
            for k in dict.fromkeys([*pa, *pb])
            if not _same(pa.get(k), pb.get(k))
        }
        if na.type != nb.type:
            params = {"type": (na.type, nb.type)} | params
        if params:
            d.changed.append(NodeChange(nb.id, nb.type, params))
        else:
            d.unchanged.append(nb.id)
    ea = [(e.source, e.target) for e in a.edges]
    eb = [(e.source, e.target) for e in b.edges]
    d.edges_removed = [e for e in ea if e not in eb]
    d.edges_added = [e for e in eb if e not in ea]
    _explain_edges(d, a, {i for i, _ in d.removed}, {i for i, _ in d.added})
    d.settings = _settings_diff(a, b)
    return d


def _explain_edges(d: ArchDiff, a: Design, removed: set[str], added: set[str]) -> None:
    for src, dst in d.edges_removed:
        owner = src if src in removed else dst if dst in removed else None
        if owner:
            d.edges_of.setdefault(owner, []).append(f"edge {src} -> {dst} removed")
        else:
            d.rewired.append(f"edge {src} -> {dst} removed")
    for src, dst in d.edges_added:
        owner = src if src in added else dst if dst in added else None
        via = None if owner else _bypassed(a, src, dst, removed)
        if owner:
            d.edges_of.setdefault(owner, []).append(f"edge {src} -> {dst} added")
        elif via:
            d.edges_of.setdefault(via[0], []).append(
                f"edge {src} -> {dst} added (bypasses {', '.join(via)})"
            )
        else:
            d.rewired.append(f"edge {src} -> {dst} added")


def _bypassed(a: Design, src: str, dst: str, removed: set[str]) -> list[str] | None:
    """The removed nodes a path src -> ... -> dst went through in ``a``, if there was one."""
    stack: list[tuple[str, list[str]]] = [(s, [s]) for s in a.successors(src) if s in removed]
    seen = set()
    while stack:
        node, path = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for nxt in a.successors(node):
            if nxt == dst:
                return path
            if nxt in removed:
                stack.append((nxt, [*path, nxt]))
    return None


def _settings_diff(a: Design, b: Design) -> dict[str, tuple[Any, Any]]:
    out = {}
    for section in ("compile", "training", "data"):
        va, vb = _flat(getattr(a, section), section), _flat(getattr(b, section), section)
        for key in dict.fromkeys([*va, *vb]):
            if not _same(va.get(key), vb.get(key)):
                out[key] = (va.get(key), vb.get(key))
    aug_a = [(n.id, n.type, n.params) for n in a.augmentation]
    aug_b = [(n.id, n.type, n.params) for n in b.augmentation]
    if not _same(aug_a, aug_b):
        out["augmentation"] = ([n.type for n in a.augmentation], [n.type for n in b.augmentation])
    if not _same(a.output_ids(), b.output_ids()):
        out["outputs"] = (a.output_ids(), b.output_ids())
    return out


def _flat(obj: Any, prefix: str) -> dict[str, Any]:
    out = {}
    for key, value in vars(obj).items():
        if key == "optimizer_params":
            opt = compile_catalog.OPTIMIZERS.get(obj.optimizer)
            defaults = {p.name: p.default for p in (opt.params if opt else ())}
            out |= {f"{prefix}.{k}": v for k, v in (defaults | value).items()}
        else:
            out[f"{prefix}.{key}"] = value
    return out


def _show(v: Any) -> str:
    return json.dumps(v) if isinstance(v, (list, dict, str)) or v is None else str(v)


def diff_lines(d: ArchDiff) -> list[str]:
    """The diff as text, one node per line (its explained edges indented below it)."""
    n = len(d.added) + len(d.removed) + len(d.changed)
    lines = [
        f"architecture: {len(d.added)} added, {len(d.removed)} removed, "
        f"{len(d.changed)} changed, {len(d.unchanged)} unchanged"
    ]
    if not n and not d.rewired:
        lines[0] = f"architecture: identical ({len(d.unchanged)} nodes)"
    for tag, items in (("added", d.added), ("removed", d.removed)):
        for node_id, node_type in items:
            lines.append(f"  {'+' if tag == 'added' else '-'} {tag} {node_id} ({node_type})")
            lines += [f"      {e}" for e in d.edges_of.get(node_id, [])]
    for c in d.changed:
        parts = ", ".join(f"{k} {_show(old)} -> {_show(new)}" for k, (old, new) in c.params.items())
        lines.append(f"  ~ changed {c.id} ({c.type}): {parts}")
    lines += [f"  rewired: {e}" for e in d.rewired]
    if d.settings:
        lines.append("settings:")
        lines += [f"  ~ {k}: {_show(o)} -> {_show(v)}" for k, (o, v) in d.settings.items()]
    return lines


def diff_graph(a: Design, b: Design, d: ArchDiff | None = None) -> dict[str, list[dict]]:
    """Both designs as one graph for streamlit-agraph: ``{"nodes": [...], "edges": [...]}``.

    Node dicts carry ``id``, ``label``, ``title``, ``color``, ``shape`` (``agraph.Node(**n)``);
    edge dicts ``source``, ``target``, ``color``, ``dashes``, ``title``
    (``agraph.Edge(**e)``). Colours: added green, removed red, changed orange, unchanged grey;
    removed edges are red and dashed, added edges green.
    """
    d = d or diff_designs(a, b)
    removed = dict(d.removed)
    changed = {c.id: c for c in d.changed}
    order = [n.id for n in b.nodes]
    for i, n in enumerate(a.nodes):  # removed nodes go back where they were
        if n.id in removed:
            prev = a.nodes[i - 1].id if i else None
            order.insert(order.index(prev) + 1 if prev in order else 0, n.id)
    types = {n.id: n.type for n in a.nodes} | {n.id: n.type for n in b.nodes}
    added = dict(d.added)
    nodes = []
    for node_id in order:
        if node_id in added:
            colour, what = ADDED, "added"
        elif node_id in removed:
            colour, what = REMOVED, "removed"
        elif node_id in changed:
            colour, what = CHANGED, "changed"
        else:
            colour, what = UNCHANGED, "unchanged"
        title = f"{node_id} ({types[node_id]}): {what}"
        if node_id in changed:
            title += "\n" + "\n".join(
                f"{k}: {_show(o)} -> {_show(v)}" for k, (o, v) in changed[node_id].params.items()
            )
        nodes.append(
            {
                "id": node_id,
                "label": f"{node_id}\n{types[node_id]}",
                "title": title,
                "color": colour,
                "shape": "box",
                "status": what,
            }
        )
    edges = []
    for e in b.edges:
        new = (e.source, e.target) in d.edges_added
        edges.append(
            {
                "source": e.source,
                "target": e.target,
                "color": ADDED if new else UNCHANGED,
                "dashes": False,
                "title": "added" if new else "",
            }
        )
    for src, dst in d.edges_removed:
        edges.append(
            {"source": src, "target": dst, "color": REMOVED, "dashes": True, "title": "removed"}
        )
    return {"nodes": nodes, "edges": edges}
