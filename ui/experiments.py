"""The Experiments page's helpers: which runs a session may combine, new run folders, the
job registry, ensemble results and the architecture diff drawing."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from designer.experiments import ensemble, sweep
from designer.training import default_registry, rundir
from ui import runs


def run_dirs() -> dict[str, Path]:
    """label -> run directory: the runs, and the runs inside sweeps and bags (newest first)."""
    root = runs.root()
    if not root.is_dir():
        return {}
    out: dict[str, Path] = {}
    for p in sorted(root.iterdir(), key=lambda q: q.stat().st_mtime, reverse=True):
        if not p.is_dir() or not runs.mine(p):
            continue
        if rundir.is_run_dir(p):
            out[p.name] = p
        elif (p / sweep.SWEEP_FILE).is_file() or (p / ensemble.BAG_FILE).is_file():
            out |= {
                f"{p.name}/{q.name}": q
                for q in sorted(p.iterdir())
                if q.is_dir() and rundir.is_run_dir(q)
            }
    return out


def new_dir(name: str) -> Path:
    path = rundir.new_run_dir(runs.root(), name)
    runs.claim(path)
    return path


def registry():
    return default_registry()


def ensemble_summary(result: ensemble.EnsembleResult) -> dict:
    """The plain numbers of an ensemble's result, kept in the session."""
    return {
        "method": result.method,
        "metric": result.metric,
        "value": result.value,
        "members": result.members,
        "members_mean": result.members_mean,
        "note": result.note,
        "exported": str(result.exported) if result.exported else None,
    }


def show_result(res: dict, key: str) -> None:
    c = st.columns(2)
    c[0].metric(
        f"Ensemble {res['metric']}",
        f"{res['value']:.4f}",
        delta=f"{res['value'] - res['members_mean']:+.4f} vs the members' mean",
        delta_color="inverse" if res["metric"] == "mse" else "normal",
    )
    c[1].metric(f"Members' mean {res['metric']}", f"{res['members_mean']:.4f}")
    st.dataframe(
        [{"member": m["run"], f"test {m['metric']}": round(m["value"], 4)} for m in res["members"]],
        hide_index=True,
        key=f"{key}_members",
    )
    if res["exported"] and Path(res["exported"]).is_file():
        st.download_button(
            "⬇ ensemble.keras",
            Path(res["exported"]).read_bytes(),
            "ensemble.keras",
            key=f"{key}_download",
            help="One model that averages (or stacks) the members",
        )
    elif res["note"]:
        st.caption(f"Not exported: {res['note']}.")


def status_table(dirs: list[Path]) -> list[dict]:
    rows = []
    for p in dirs:
        job = registry().get(p.name)
        status = job.status if job is not None else rundir.read_status(p)["status"]
        rows.append({"run": p.name, "status": status, "epochs": len(rundir.read_history(p))})
    return rows


def draw_diff(graph: dict) -> None:
    try:
        from streamlit_agraph import Config, Edge, Node, agraph
    except ImportError:  # pragma: no cover - a dependency
        return
    nodes = [
        Node(**{k: v for k, v in n.items() if k != "status"}, font={"face": "monospace"})
        for n in graph["nodes"]
    ]
    edges = [
        Edge(
            e["source"],
            e["target"],
            color=e["color"],
            dashes=e["dashes"],
            title=e["title"],
            arrows="to",
            width=2,
        )
        for e in graph["edges"]
    ]
    config = Config(
        width=100,
        height=max(300, 70 * len(nodes)),
        directed=True,
        physics=False,
        hierarchical=True,
        direction="UD",
        sortMethod="directed",
        levelSeparation=70,
    )
    config.width = "100%"
    try:
        agraph(nodes=nodes, edges=edges, config=config)
    except Exception:  # noqa: BLE001 - the picture is extra; the text above says it all
        pass
