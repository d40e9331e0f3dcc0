"""The Search tab's helpers: the space picker, starting a search, and what it shows as it goes.

The picker's widgets are settings of a search, not of the design: they never write the design
(only **Use the best design** does, through :func:`ui.state.replace`, so undo brings the old one
back). The search itself runs in a thread of the server (:class:`designer.experiments.search.
Search`), listed by its directory; this session remembers the directory (:func:`ui.state.
search_dir`), so a refresh finds the search again, and everything shown is read from the study
on disk.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from designer.design import catalog, compile_catalog, paths
from designer.design.spec import Design
from designer.errors import DesignerError
from designer.experiments import search, study
from designer.experiments.space import searchable, setting_kind, suggest, value_text
from designer.training import default_registry
from ui import runs, state
from ui.experiments import new_dir

GROUP_SETTINGS = "compile and training"


def groups(design: Design) -> dict[str, list[str]]:
    """The searchable paths by layer (``node · Type``), then compile and training."""
    out: dict[str, list[str]] = {}
    for path in searchable(design):
        head = path.rpartition(".")[0]
        if head in design.node_ids():
            label = f"{head} · {design.node(head).type}"
        else:
            label = GROUP_SETTINGS
        out.setdefault(label, []).append(path)
    return out


def _options(design: Design, path: str) -> list[str]:
    """Every choice a choice setting offers, as the command line writes it."""
    setting = paths.target(design, path)[2]
    if setting_kind(setting) == "bool":
        return ["true", "false"]
    if path == "compile.optimizer":
        return list(compile_catalog.OPTIMIZERS)
    if path == "compile.loss":
        return list(compile_catalog.LOSSES)
    return [value_text(c) for c in getattr(setting, "choices", ())]


def _label(design: Design, path: str) -> str:
    name = path.rpartition(".")[2]
    if name == "enabled":
        return "keep this layer"
    return f"{name} (now {value_text(paths.value_at(design, path))})"


def picker(design: Design) -> list[str]:
    """Draw a row per searchable setting (tick it, then its range or choices, pre-filled
    around the current value); returns the ticked rows as ``PATH=SPEC``."""
    texts = []
    for group, members in groups(design).items():
        with st.expander(group, expanded=group == GROUP_SETTINGS):
            for path in members:
                text = _row(design, path)
                if text:
                    texts.append(text)
    return texts


def _row(design: Design, path: str) -> str | None:
    start = suggest(design, path)
    key = f"xs:{path}"
    cols = st.columns([1.5, 1, 1, 0.6], vertical_alignment="center")
    on = cols[0].checkbox(_label(design, path), key=f"{key}:on", help=_help(design, path))
    if start.kind == "choice":
        options = _options(design, path)
        picked = cols[1].multiselect(
            "Choices",
            options,
            default=[value_text(c) for c in start.choices if value_text(c) in options],
            key=f"{key}:choices",
            disabled=not on,
            label_visibility="collapsed",
        )
        cols[2].empty()
        return f"{path}=choice:{','.join(picked)}" if on else None
    whole = start.kind == "int"
    number = {"step": 1} if whole else {"format": "%g", "step": None}
    low = cols[1].number_input("From", value=start.low, key=f"{key}:low", disabled=not on, **number)
    high = cols[2].number_input(
        "To", value=start.high, key=f"{key}:high", disabled=not on, **number
    )
    log = cols[3].checkbox(
        "log",
        value=start.log,
        key=f"{key}:log",
        disabled=not on,
        help="Draw values evenly on a log scale (for rates and sizes spanning decades)",
    )
    if not on:
        return None
    return f"{path}={start.kind}:{low}:{high}" + (":log" if log else "")


def _help(design: Design, path: str) -> str | None:
    head, _, name = path.rpartition(".")
    if name == "enabled":
        return "Try the model with and without this layer (its input then feeds what follows)"
    if head in design.node_ids():
        spec = catalog.get(design.node(head).type)
        try:
            return spec.param(name).help if spec else None
        except KeyError:
            return None
    return None


def metric_choices(design: Design) -> list[str]:
    """The metrics a search of ``design`` can optimise, its default first."""
    try:
        default = study.default_metric(design)
    except DesignerError:  # no data yet: the Start button says so
        default = "val_accuracy"
    others = ["val_accuracy", "val_loss", "accuracy", "loss"]
    if "accuracy" not in default:
        others = ["val_loss", "loss"]
    return [default, *[m for m in others if m != default]]


def problem(design: Design, texts: list[str], metric: str) -> str | None:
    """Why a search of these ticked rows cannot start (None if it can)."""
    if not texts:
        return "Tick at least one setting to search."
    if not design.data.dataset:
        return "Choose a data set first (Data page)."
    try:
        study.make_plan(design, texts, metric=metric)
    except DesignerError as exc:
        return str(exc)
    return None


# ---- starting -----------------------------------------------------------------------------------
def start(
    design: Design,
    texts: list[str],
    *,
    trials: int,
    epochs: int,
    limit: int | None,
    jobs: int,
    prune: str,
    metric: str,
) -> Path:
    """Check the space, make the search's directory and start it in the server; DesignerError
    (one line) when the space or the settings are refused."""
    plan = study.make_plan(design, texts, epochs=epochs, limit=limit, metric=metric, prune=prune)
    out = new_dir(f"search-{design.name}")
    study.create_study(out, plan)
    search.Search(out, registry=default_registry(), jobs=jobs, owner=state.session_id()).start(
        trials
    )
    state.set_search_dir(str(out))
    return out


def proceed(out: str, trials: int) -> None:
    """Continue a search that stopped (a restarted server): ``trials`` more."""
    try:
        search.Search(out, registry=default_registry(), jobs=None, owner=state.session_id()).start(
            trials
        )
    except DesignerError as exc:
        state.flash("error", f"The search could not continue: {exc}")


def use_best(out: str) -> None:
    """The best trial's design becomes the current design (undo goes back)."""
    try:
        state.replace(study.best_design(out))
        state.flash("success", "Opened the search's best design: see it on the Design page.")
    except (DesignerError, OSError) as exc:
        state.flash("error", f"Could not open the best design: {exc}")


def run_id(out: str, run: str) -> str:
    """A trial's run as the other pages name runs: its path under the runs folder."""
    path = Path(out) / run
    try:
        return str(path.relative_to(runs.root()))
    except ValueError:
        return str(path)


# ---- what it shows ------------------------------------------------------------------------------
def overview(out: str) -> tuple[study.Plan, object, list[dict]] | None:
    """The plan, the study and its trials table, read from disk (None with an error shown)."""
    try:
        plan = study.read_plan(out)
        done = study.load_study(out)
    except DesignerError as exc:
        st.error(str(exc))
        return None
    return plan, done, study.trials_table(out, plan, done)


def counts(rows: list[dict]) -> dict[str, int]:
    out = {"complete": 0, "pruned": 0, "failed": 0, "running": 0}
    for row in rows:
        out[row["state"]] = out.get(row["state"], 0) + 1
    return out


def figures(plan: study.Plan, done, ended: bool) -> None:
    complete = [t for t in done.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if not complete:
        st.info("The charts appear when the first trial completes.")
        return
    c = st.columns(2)
    c[0].plotly_chart(study.history_figure(done, plan.metric), key="xs_history")
    c[1].plotly_chart(study.curves_figure(done, plan.metric), key="xs_curves")
    st.plotly_chart(study.parallel_figure(done, plan.metric), key="xs_parallel")
    if ended:
        fig = study.importance_figure(done, plan.metric)
        if fig is not None:
            st.plotly_chart(fig, key="xs_importance")
        else:
            st.caption("Parameter importances need two complete trials with different values.")


def running(out: str | None) -> bool:
    """Is this process driving the search in ``out`` right now?"""
    now = search.live(out) if out else None
    return now is not None and now.running


def show(out: str | None) -> bool:
    """The session's search as the study on disk has it: its numbers, a stop or continue
    button, the figures, the trials and a way to each trial's run, and the best design once
    it ended. Returns whether it is running."""
    if not out or not Path(out).is_dir():
        return False
    seen = overview(out)
    if seen is None:
        return False
    plan, done, rows = seen
    now = search.live(out)
    going = now is not None and now.running
    n = counts(rows)
    best = study.best_trial(done)
    st.divider()
    st.markdown(f"#### {Path(out).name}")
    m = st.columns(4)
    m[0].metric(
        f"Best {plan.metric}",
        "–" if best is None else f"{best.value:.4f}",
        help=None if best is None else f"trial {best.number}",
    )
    m[1].metric("Trials ended", f"{n['complete'] + n['pruned'] + n['failed']} of {plan.trials}")
    m[2].metric("Pruned", n["pruned"])
    m[3].metric("Failed", n["failed"])
    if going:
        st.button("■ Stop the search", key="xs_stop", on_click=now.stop)
    elif now is not None and now.error:
        st.error(now.error)
    elif n["running"]:
        st.warning(
            "This search stopped before its trials ended (the server restarted): its study "
            "is intact and can go on."
        )
        left = max(1, plan.trials - len(rows) + n["running"])
        st.button(
            f"Continue ({left} trials)", key="xs_continue", on_click=proceed, args=(out, left)
        )
    figures(plan, done, ended=not going)
    if rows:
        st.dataframe(rows, hide_index=True, key="xs_table")
        labels = {f"trial {r['trial']} ({r['state']})": r["run"] for r in rows if r["run"]}
        c = st.columns([2, 1], vertical_alignment="bottom")
        pick = c[0].selectbox("A trial's run", list(labels), key="xs_trial")
        if c[1].button("Open it on the Train page", key="xs_open", disabled=pick is None):
            state.set_run_id(run_id(out, labels[pick]))
            st.switch_page("pages/train.py")
    if best is not None and not going:
        st.button(
            f"Use the best design (trial {best.number})",
            key="xs_use_best",
            type="primary",
            on_click=use_best,
            args=(out,),
        )
    return going
