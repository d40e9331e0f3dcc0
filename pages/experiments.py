"""Experiments: compare runs, combine them into an ensemble (or a bag), sweep a parameter,
search settings and structure with Optuna.

Everything here calls into designer.experiments (compare, ensemble, sweep, search). Sweeps,
bags and searches train through the job registry like the Train page; ensembles of finished
runs are computed in this process when the button is pressed, and only plain numbers are kept.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from designer.design import paths
from designer.errors import DesignerError
from designer.experiments import compare, ensemble, sweep
from ui import runs, state
from ui import search as search_ui
from ui.experiments import (
    draw_diff,
    ensemble_summary,
    new_dir,
    registry,
    run_dirs,
    show_result,
    status_table,
)

state.show_flash()
ss = st.session_state
st.title("Experiments")
st.caption("Put runs side by side, combine them into an ensemble, or train a grid of settings.")


available = run_dirs()
tab_compare, tab_ensemble, tab_sweep, tab_search = st.tabs(
    ["Compare runs", "Ensemble", "Sweep", "Search"]
)

# ---- compare -----------------------------------------------------------------------------------
with tab_compare:
    picked = st.multiselect(
        "Runs to compare",
        list(available),
        key="xp_compare_runs",
        help="Two or more runs; the first is the reference for the diff",
    )
    if len(available) < 2:
        st.info(
            f"You have {len(available) or 'no'} run{'' if len(available) == 1 else 's'} so far. "
            "Train the "
            "design again with other settings (more epochs, another optimizer, one more layer) and "
            "compare the runs here: curves on one chart, metrics and settings in one table, and a "
            "picture of what changed in the architecture."
        )
    elif len(picked) < 2:
        st.info(
            "Pick two or more runs to see their curves, metrics, settings and architectures "
            "side by side."
        )
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
            other = st.selectbox(
                "Architecture diff against",
                picked[1:],
                key="xp_compare_other",
                help=f"Changes from {picked[0]} to this run",
            )
            a, b = records[0].design, records[picked.index(other)].design
            d = compare.diff_designs(a, b)
            st.code("\n".join(compare.diff_lines(d)), language=None)
            if not d.identical:
                st.caption(
                    ":green[■] added · :red[■] removed · :orange[■] changed · :gray[■] unchanged; "
                    "dashed edges were removed"
                )
                draw_diff(compare.diff_graph(a, b, d))

# ---- ensemble ----------------------------------------------------------------------------------
with tab_ensemble:
    finished = [
        k
        for k, p in available.items()
        if (p / "model.keras").is_file() and (p / "metrics.json").is_file()
    ]
    st.markdown("**Combine finished runs** trained on the same data set.")
    members = st.multiselect("Members", finished, key="xp_ens_runs")
    method = st.radio(
        "Method",
        ensemble.METHODS,
        horizontal=True,
        key="xp_ens_method",
        help="average: mean probabilities · vote: majority class · stack: a meta-model "
        "fitted on the validation predictions",
    )
    stacker = "logistic"
    if method == "stack":
        stacker = st.radio(
            "Meta-model",
            ensemble.STACKERS,
            horizontal=True,
            key="xp_ens_stacker",
            help="logistic regression (scikit-learn) or one Dense layer",
        )
    if st.button("Combine", key="xp_ens_go", type="primary", disabled=len(members) < 2):
        with st.spinner("Loading the members and scoring them on the test set…"):
            try:
                out = new_dir(f"ensemble-{method}")
                result = ensemble.run_ensemble(
                    [available[m] for m in members], method, out=out, stacker=stacker
                )
                ss["xp_ens_result"] = ensemble_summary(result)
            except (DesignerError, OSError) as exc:
                ss["xp_ens_result"] = None
                st.error(f"These runs cannot be combined: {exc}")
    if ss.get("xp_ens_result"):
        show_result(ss["xp_ens_result"], "xp_ens")

    st.divider()
    d = state.design()
    st.markdown(
        f"**Bagging**: train copies of the current design *{d.name}* on bootstrap samples "
        f"of `{d.data.dataset or 'no data set'}`, then average them."
    )
    c = st.columns(3)
    n_members = c[0].number_input("Members", 2, 20, 3, key="xp_bag_members")
    bag_epochs = c[1].number_input(
        "Epochs each", 1, 1000, int(d.training.epochs), key="xp_bag_epochs"
    )
    bag_limit = c[2].number_input(
        "Samples per split (0 = all)", 0, 10_000_000, 0, key="xp_bag_limit"
    )
    if st.button("Start bagging", key="xp_bag_go", disabled=not d.data.dataset):
        out = new_dir(f"bag-{d.name}")
        try:
            ensemble.start_bagging(
                d,
                out=out,
                members=int(n_members),
                epochs=int(bag_epochs),
                limit=int(bag_limit) or None,
                registry=registry(),
            )
            ss["xp_bag_dir"], ss["xp_bag_result"] = str(out), None
        except (DesignerError, OSError) as exc:
            st.error(f"Bagging could not start: {exc}")

    @st.fragment(run_every=2.0)
    def bag_progress() -> None:
        if not ss.get("xp_bag_dir"):
            return
        bag = Path(ss["xp_bag_dir"])
        rows = status_table(ensemble.bag_members(bag))
        st.dataframe(rows, hide_index=True, key="xp_bag_status")
        done = rows and all(
            r["status"] in ("finished", "stopped", "failed", "nan", "interrupted") for r in rows
        )
        if done and not ss.get("xp_bag_result"):
            if st.button("Average the members", key="xp_bag_finish", type="primary"):
                try:
                    ss["xp_bag_result"] = ensemble_summary(ensemble.finish_bagging(bag))
                except (DesignerError, OSError) as exc:
                    st.error(str(exc))
        if ss.get("xp_bag_result"):
            show_result(ss["xp_bag_result"], "xp_bag")

    bag_progress()

# ---- sweep -------------------------------------------------------------------------------------
with tab_sweep:
    d = state.design()
    st.markdown(
        f"**Sweep** one or two settings of the current design *{d.name}*; "
        "each combination is one run."
    )
    choices = paths.candidates(d)

    def suggest(which: str) -> None:
        """A newly chosen parameter gets values around its current one."""
        path = ss.get(f"xp_sweep_p{which}")
        ss[f"xp_sweep_v{which}"] = paths.suggest(state.design(), path) if path in choices else ""

    if ss.get("xp_sweep_p1") not in choices:
        ss["xp_sweep_p1"] = choices[0]
        suggest("1")
    if ss.get("xp_sweep_p2") not in choices or ss.get("xp_sweep_p2") == ss["xp_sweep_p1"]:
        ss["xp_sweep_p2"] = "(none)"
    ss.setdefault("xp_sweep_v2", "")
    c = st.columns(2)
    p1 = c[0].selectbox(
        "Parameter",
        choices,
        key="xp_sweep_p1",
        on_change=suggest,
        args=("1",),
        help="NODE.PARAM (a layer's parameter), compile.… or training.…",
    )
    v1 = c[1].text_input("Values", key="xp_sweep_v1", help="Separated by commas")
    c = st.columns(2)
    p2 = c[0].selectbox(
        "Second parameter",
        ["(none)", *[p for p in choices if p != p1]],
        key="xp_sweep_p2",
        on_change=suggest,
        args=("2",),
    )
    v2 = c[1].text_input("Values", key="xp_sweep_v2", disabled=p2 == "(none)")
    c = st.columns(2)
    sw_epochs = c[0].number_input(
        "Epochs per run", 1, 1000, int(d.training.epochs), key="xp_sweep_epochs"
    )
    sw_limit = c[1].number_input(
        "Samples per split (0 = all)", 0, 10_000_000, 0, key="xp_sweep_limit"
    )
    settings, problem = {}, None
    try:
        texts = [f"{p1}={v1}"] + ([f"{p2}={v2}"] if p2 != "(none)" else [])
        settings = dict(paths.parse_set(d, t) for t in texts)
        points = sweep.grid(d, settings)
        st.caption(f"{len(points)} runs: " + "; ".join(sweep.label(p) for p in points))
    except DesignerError as exc:
        problem = str(exc)
        st.error(problem)
    if st.button(
        "Start the sweep",
        key="xp_sweep_go",
        type="primary",
        disabled=bool(problem) or not d.data.dataset,
    ):
        try:
            out = new_dir(f"sweep-{d.name}")
            sweep.start_sweep(
                d,
                settings,
                out=out,
                epochs=int(sw_epochs),
                limit=int(sw_limit) or None,
                registry=registry(),
            )
            ss["xp_sweep_dir"] = str(out)
        except (DesignerError, OSError) as exc:
            st.error(f"The sweep could not start: {exc}")

    def open_best() -> None:
        try:
            state.replace(sweep.best_design(ss["xp_sweep_dir"]))
            state.flash(
                "success", "Opened the best design of the sweep: see it on the Design page."
            )
        except (DesignerError, OSError) as exc:
            state.flash("error", f"Could not open the best design: {exc}")

    @st.fragment(run_every=2.0)
    def sweep_results() -> None:
        if not ss.get("xp_sweep_dir"):
            return
        try:
            plan = sweep.read_plan(ss["xp_sweep_dir"])
            table = sweep.results(ss["xp_sweep_dir"])
        except DesignerError as exc:
            st.error(str(exc))
            return
        st.dataframe(table, hide_index=True, key="xp_sweep_table")
        if sweep.score_column(table):
            st.plotly_chart(sweep.sweep_figure(table, plan["params"]), key="xp_sweep_chart")
            best = sweep.best_row(table)
            st.button(
                f"Open the best run ({best['run']}) as the current design",
                key="xp_sweep_open",
                on_click=open_best,
            )

    sweep_results()

# ---- search ------------------------------------------------------------------------------------
with tab_search:
    d = state.design()
    st.markdown(
        f"**Search** the settings and the structure of the current design *{d.name}* with "
        "Optuna: tick what may change and how far. Each trial is one run; trials that fall "
        "behind the median of the finished ones are stopped early."
    )
    texts = search_ui.picker(d)
    c = st.columns(5)
    xs_trials = c[0].number_input("Trials", 1, 500, 20, key="xs_trials")
    xs_epochs = c[1].number_input(
        "Epochs per trial", 1, 1000, int(d.training.epochs), key="xs_epochs"
    )
    xs_limit = c[2].number_input("Samples per split (0 = all)", 0, 10_000_000, 0, key="xs_limit")
    xs_jobs = c[3].number_input("Trials at once", 1, 64, registry().max_concurrent, key="xs_jobs")
    xs_prune = c[4].selectbox(
        "Pruning",
        ["median", "none"],
        key="xs_prune",
        help="median: stop a trial whose metric is worse than the median of the finished "
        "trials at the same epoch; none: train every trial to the end",
    )
    xs_metric = st.selectbox(
        "Metric",
        search_ui.metric_choices(d),
        key="xs_metric",
        help="The history column the search optimises",
    )
    st.caption(
        f"Trials train on {runs.executor_text()}: change where on the Settings page. "
        "The design as it is becomes the first trial when the ranges hold its values."
    )
    problem = search_ui.problem(d, texts, xs_metric)
    if problem:
        (st.error if texts else st.caption)(problem)
    if st.button("Start the search", key="xs_go", type="primary", disabled=bool(problem)):
        try:
            search_ui.start(
                d,
                texts,
                trials=int(xs_trials),
                epochs=int(xs_epochs),
                limit=int(xs_limit) or None,
                jobs=int(xs_jobs),
                prune=xs_prune,
                metric=xs_metric,
            )
        except (DesignerError, OSError) as exc:
            st.error(f"The search could not start: {exc}")

    out = state.search_dir()

    @st.fragment(run_every=2.0 if search_ui.running(out) else None)
    def search_view(was_running: bool) -> None:
        going = search_ui.show(out)
        if was_running and not going:
            st.rerun(scope="app")  # the search ended: redraw the page, which stops the polling

    search_view(search_ui.running(out))
