"""Experiments: compare runs, combine them into an ensemble (or a bag), sweep a parameter.

Everything here calls into designer.compare / designer.ensemble / designer.sweep. Sweeps and
bags train through the job registry like the Train page; ensembles of finished runs are
computed in this process when the button is pressed, and only plain numbers are kept.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from designer import compare, ensemble, sweep
from ui import runs, state

state.show_flash()
ss = st.session_state
st.title("Experiments")
st.caption("Put runs side by side, combine them into an ensemble, or train a grid of settings.")


# ---- helpers -----------------------------------------------------------------------------------
def run_dirs() -> dict[str, Path]:
    """label -> run directory: the runs, and the runs inside sweeps and bags (newest first)."""
    from designer.training import rundir

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
            out |= {f"{p.name}/{q.name}": q for q in sorted(p.iterdir()) if q.is_dir() and rundir.is_run_dir(q)}  # fmt: skip
    return out


def new_dir(name: str) -> Path:
    from designer.training import rundir

    path = rundir.new_run_dir(runs.root(), name)
    runs.claim(path)
    return path


def registry():
    from designer.training import default_registry

    return default_registry()


def summary(result: ensemble.EnsembleResult) -> dict:
    return {"method": result.method, "metric": result.metric, "value": result.value,
            "members": result.members, "members_mean": result.members_mean, "note": result.note,
            "exported": str(result.exported) if result.exported else None}  # fmt: skip


def show_result(res: dict, key: str) -> None:
    c = st.columns(2)
    c[0].metric(f"Ensemble {res['metric']}", f"{res['value']:.4f}",
                delta=f"{res['value'] - res['members_mean']:+.4f} vs the members' mean",
                delta_color="inverse" if res["metric"] == "mse" else "normal")  # fmt: skip
    c[1].metric(f"Members' mean {res['metric']}", f"{res['members_mean']:.4f}")
    st.dataframe([{"member": m["run"], f"test {m['metric']}": round(m["value"], 4)} for m in res["members"]],
                 hide_index=True, key=f"{key}_members")  # fmt: skip
    if res["exported"] and Path(res["exported"]).is_file():
        st.download_button("⬇ ensemble.keras", Path(res["exported"]).read_bytes(), "ensemble.keras",
                           key=f"{key}_download", help="One model that averages (or stacks) the members")  # fmt: skip
    elif res["note"]:
        st.caption(f"Not exported: {res['note']}.")


def status_table(dirs: list[Path]) -> list[dict]:
    from designer.training import rundir

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
    nodes = [Node(**{k: v for k, v in n.items() if k != "status"}, font={"face": "monospace"}) for n in graph["nodes"]]  # fmt: skip
    edges = [Edge(e["source"], e["target"], color=e["color"], dashes=e["dashes"], title=e["title"], arrows="to", width=2)
             for e in graph["edges"]]  # fmt: skip
    config = Config(width=100, height=max(300, 70 * len(nodes)), directed=True, physics=False,
                    hierarchical=True, direction="UD", sortMethod="directed", levelSeparation=70)  # fmt: skip
    config.width = "100%"
    try:
        agraph(nodes=nodes, edges=edges, config=config)
    except Exception:  # noqa: BLE001 - the picture is extra; the text above says it all
        pass


available = run_dirs()
tab_compare, tab_ensemble, tab_sweep = st.tabs(["Compare runs", "Ensemble", "Sweep"])

# ---- compare -----------------------------------------------------------------------------------
with tab_compare:
    picked = st.multiselect("Runs to compare", list(available), key="xp_compare_runs",
                            help="Two or more runs; the first is the reference for the diff")  # fmt: skip
    if len(available) < 2:
        st.info(f"You have {len(available) or 'no'} run{'' if len(available) == 1 else 's'} so far. Train the "
                "design again with other settings (more epochs, another optimizer, one more layer) and "
                "compare the runs here: curves on one chart, metrics and settings in one table, and a "
                "picture of what changed in the architecture.")  # fmt: skip
    elif len(picked) < 2:
        st.info("Pick two or more runs to see their curves, metrics, settings and architectures side by side.")  # fmt: skip
    else:
        try:
            records = compare.load_runs([available[p] for p in picked])
        except compare.RunError as exc:
            st.error(str(exc))
            records = []
        if records:
            metrics = compare.common_metrics(records) or ["loss"]
            metric = st.selectbox("Curve", metrics, key="xp_compare_metric")
            st.plotly_chart(compare.curves_figure(records, metric), key="xp_compare_curves")
            table = compare.run_table(records)
            st.dataframe(compare.style_table(table), key="xp_compare_table")
            st.caption("Orange: settings that differ. Green: the best value of each metric.")
            other = st.selectbox("Architecture diff against", picked[1:], key="xp_compare_other",
                                 help=f"Changes from {picked[0]} to this run")  # fmt: skip
            a, b = records[0].design, records[picked.index(other)].design
            d = compare.diff_designs(a, b)
            st.code("\n".join(compare.diff_lines(d)), language=None)
            if not d.identical:
                st.caption(":green[■] added · :red[■] removed · :orange[■] changed · :gray[■] unchanged; dashed edges were removed")  # fmt: skip
                draw_diff(compare.diff_graph(a, b, d))

# ---- ensemble ----------------------------------------------------------------------------------
with tab_ensemble:
    finished = [k for k, p in available.items() if (p / "model.keras").is_file() and (p / "metrics.json").is_file()]  # fmt: skip
    st.markdown("**Combine finished runs** trained on the same data set.")
    members = st.multiselect("Members", finished, key="xp_ens_runs")
    method = st.radio("Method", ensemble.METHODS, horizontal=True, key="xp_ens_method",
                      help="average: mean probabilities · vote: majority class · stack: a meta-model "
                           "fitted on the validation predictions")  # fmt: skip
    stacker = "logistic"
    if method == "stack":
        stacker = st.radio("Meta-model", ensemble.STACKERS, horizontal=True, key="xp_ens_stacker",
                           help="logistic regression (scikit-learn) or one Dense layer")  # fmt: skip
    if st.button("Combine", key="xp_ens_go", type="primary", disabled=len(members) < 2):
        with st.spinner("Loading the members and scoring them on the test set…"):
            try:
                out = new_dir(f"ensemble-{method}")
                result = ensemble.run_ensemble([available[m] for m in members], method, out=out, stacker=stacker)  # fmt: skip
                ss["xp_ens_result"] = summary(result)
            except (ensemble.EnsembleError, ValueError, OSError) as exc:
                ss["xp_ens_result"] = None
                st.error(f"These runs cannot be combined: {exc}")
    if ss.get("xp_ens_result"):
        show_result(ss["xp_ens_result"], "xp_ens")

    st.divider()
    d = state.design()
    st.markdown(f"**Bagging**: train copies of the current design *{d.name}* on bootstrap samples "
                f"of `{d.data.dataset or 'no data set'}`, then average them.")  # fmt: skip
    c = st.columns(3)
    n_members = c[0].number_input("Members", 2, 20, 3, key="xp_bag_members")
    bag_epochs = c[1].number_input("Epochs each", 1, 1000, int(d.training.epochs), key="xp_bag_epochs")  # fmt: skip
    bag_limit = c[2].number_input("Samples per split (0 = all)", 0, 10_000_000, 0, key="xp_bag_limit")  # fmt: skip
    if st.button("Start bagging", key="xp_bag_go", disabled=not d.data.dataset):
        out = new_dir(f"bag-{d.name}")
        try:
            ensemble.start_bagging(d, out=out, members=int(n_members), epochs=int(bag_epochs),
                                   limit=int(bag_limit) or None, registry=registry())  # fmt: skip
            ss["xp_bag_dir"], ss["xp_bag_result"] = str(out), None
        except (ensemble.EnsembleError, ValueError, OSError) as exc:
            st.error(f"Bagging could not start: {exc}")

    @st.fragment(run_every=2.0)
    def bag_progress() -> None:
        from designer.training import rundir

        if not ss.get("xp_bag_dir"):
            return
        bag = Path(ss["xp_bag_dir"])
        plan = rundir.read_json(bag / ensemble.BAG_FILE) or {}
        rows = status_table([Path(p) for p in plan.get("members", [])])
        st.dataframe(rows, hide_index=True, key="xp_bag_status")
        done = rows and all(r["status"] in ("finished", "stopped", "failed", "nan", "interrupted") for r in rows)  # fmt: skip
        if done and not ss.get("xp_bag_result"):
            if st.button("Average the members", key="xp_bag_finish", type="primary"):
                try:
                    ss["xp_bag_result"] = summary(ensemble.finish_bagging(bag))
                except (ensemble.EnsembleError, ValueError, OSError) as exc:
                    st.error(str(exc))
        if ss.get("xp_bag_result"):
            show_result(ss["xp_bag_result"], "xp_bag")

    bag_progress()

# ---- sweep -------------------------------------------------------------------------------------
with tab_sweep:
    d = state.design()
    st.markdown(f"**Sweep** one or two settings of the current design *{d.name}*; each combination is one run.")  # fmt: skip
    paths = sweep.candidates(d)

    def suggest(which: str) -> None:
        """A newly chosen parameter gets values around its current one."""
        path = ss.get(f"xp_sweep_p{which}")
        ss[f"xp_sweep_v{which}"] = sweep.suggest(state.design(), path) if path in paths else ""

    if ss.get("xp_sweep_p1") not in paths:
        ss["xp_sweep_p1"] = paths[0]
        suggest("1")
    if ss.get("xp_sweep_p2") not in paths or ss.get("xp_sweep_p2") == ss["xp_sweep_p1"]:
        ss["xp_sweep_p2"] = "(none)"
    ss.setdefault("xp_sweep_v2", "")
    c = st.columns(2)
    p1 = c[0].selectbox("Parameter", paths, key="xp_sweep_p1", on_change=suggest, args=("1",),
                        help="NODE.PARAM (a layer's parameter), compile.… or training.…")  # fmt: skip
    v1 = c[1].text_input("Values", key="xp_sweep_v1", help="Separated by commas")
    c = st.columns(2)
    p2 = c[0].selectbox("Second parameter", ["(none)", *[p for p in paths if p != p1]], key="xp_sweep_p2",
                        on_change=suggest, args=("2",))  # fmt: skip
    v2 = c[1].text_input("Values", key="xp_sweep_v2", disabled=p2 == "(none)")
    c = st.columns(2)
    sw_epochs = c[0].number_input("Epochs per run", 1, 1000, int(d.training.epochs), key="xp_sweep_epochs")  # fmt: skip
    sw_limit = c[1].number_input("Samples per split (0 = all)", 0, 10_000_000, 0, key="xp_sweep_limit")  # fmt: skip
    settings, problem = {}, None
    try:
        texts = [f"{p1}={v1}"] + ([f"{p2}={v2}"] if p2 != "(none)" else [])
        settings = dict(sweep.parse_set(d, t) for t in texts)
        points = sweep.grid(d, settings)
        st.caption(f"{len(points)} runs: " + "; ".join(sweep.label(p) for p in points))
    except sweep.SweepError as exc:
        problem = str(exc)
        st.error(problem)
    if st.button("Start the sweep", key="xp_sweep_go", type="primary", disabled=bool(problem) or not d.data.dataset):  # fmt: skip
        try:
            out = new_dir(f"sweep-{d.name}")
            sweep.start_sweep(d, settings, out=out, epochs=int(sw_epochs), limit=int(sw_limit) or None,
                              registry=registry())  # fmt: skip
            ss["xp_sweep_dir"] = str(out)
        except (sweep.SweepError, ValueError, OSError) as exc:
            st.error(f"The sweep could not start: {exc}")

    def open_best() -> None:
        try:
            state.replace(sweep.best_design(ss["xp_sweep_dir"]))
            state.flash(
                "success", "Opened the best design of the sweep: see it on the Design page."
            )
        except (sweep.SweepError, ValueError, OSError) as exc:
            state.flash("error", f"Could not open the best design: {exc}")

    @st.fragment(run_every=2.0)
    def sweep_results() -> None:
        if not ss.get("xp_sweep_dir"):
            return
        try:
            plan = sweep.read_plan(ss["xp_sweep_dir"])
            table = sweep.results(ss["xp_sweep_dir"])
        except sweep.SweepError as exc:
            st.error(str(exc))
            return
        st.dataframe(table, hide_index=True, key="xp_sweep_table")
        if sweep.score_column(table):
            st.plotly_chart(sweep.sweep_figure(table, plan["params"]), key="xp_sweep_chart")
            best = sweep.best_row(table)
            st.button(f"Open the best run ({best['run']}) as the current design", key="xp_sweep_open",
                      on_click=open_best)  # fmt: skip

    sweep_results()
