"""Train: settings and Start/Stop on the left; live progress and curves on the right; the runs."""

import streamlit as st

from designer.errors import DesignerError
from designer.report import viz
from ui import classroom, dataview, fields, forms, runs, state, trainview

state.show_flash()
d = state.design()
ss = st.session_state
runs.prewarm()


def refused() -> bool:
    """In a class (KERAS_DESIGNER_CLASS), a design that breaks its rules does not train."""
    why = classroom.training_refusal(state.design())
    if why:
        state.flash("error", f"Training did not start: {why}")
    return bool(why)


def start() -> None:
    if refused():
        return
    try:
        rid = runs.start(state.design(), state.design().training.epochs)
    except (DesignerError, OSError) as exc:
        state.flash("error", f"Training could not start: {exc}")
        return
    state.set_run_id(rid)


def stop() -> None:
    if state.run_id():
        runs.stop(state.run_id())


def step() -> None:
    """One epoch at a time: the running job pauses at its epoch's end; with none, a new run
    trains its first epoch and pauses (a teacher stops at epoch 3 to talk, then goes on)."""
    if runs.is_active(runs.snapshot(state.run_id())):
        runs.step(state.run_id())
        return
    if refused():
        return
    try:
        rid = runs.start(state.design(), state.design().training.epochs, step=True)
    except (DesignerError, OSError) as exc:
        state.flash("error", f"Training could not start: {exc}")
        return
    state.set_run_id(rid)


def pause(on: bool) -> None:
    if state.run_id():
        runs.pause(state.run_id(), on)


def resume() -> None:
    rid = ss.get("resume_run")
    try:
        state.set_run_id(runs.resume(rid, int(ss.get("resume_epochs") or 5)))
    except (DesignerError, OSError) as exc:
        state.flash("error", f"Could not resume {rid}: {exc}")


def setting(widget, label: str, section: str, name: str, **kwargs) -> None:
    fields.draw(widget, label, fields.section_setting(section, name, "t"), **kwargs)


st.title("Train")
rid = state.run_id()
snap = runs.snapshot(rid)
active = runs.is_active(snap)
left, right = st.columns([1, 2.4], gap="large")

with left:
    t = d.training
    setting(
        st.number_input,
        "Epochs",
        "training",
        "epochs",
        min_value=1,
        max_value=classroom.epochs_limit(t.epochs),
        step=1,
        help="How many times the model sees the whole training set" + classroom.epochs_note(),
    )
    setting(
        st.number_input,
        "Batch size",
        "training",
        "batch_size",
        min_value=1,
        max_value=65_536,
        step=1,
        help="Samples per weight update",
    )
    setting(
        st.number_input,
        "Devices",
        "training",
        "devices",
        min_value=1,
        max_value=64,
        step=1,
        help="Copies of the model trained together, one per GPU (logical CPU devices where "
        "there is no GPU: slower, for trying it). The batch size is the global batch, "
        "split across them.",
    )
    if t.devices > 1:
        st.caption(
            f"Batch {t.batch_size} split over {t.devices} devices: "
            f"{t.batch_size // t.devices} samples per device per step."
        )
    setting(
        st.slider,
        "Validation split",
        "data",
        "validation_split",
        min_value=0.0,
        max_value=0.5,
        step=0.05,
        shown=float,
        help="Fraction of the data held out to watch for overfitting",
    )
    with st.expander("Callbacks", expanded=False):
        setting(
            st.checkbox,
            "Early stopping",
            "training",
            "early_stopping",
            help="Stop when the monitored value stops improving; keep the best weights",
        )
        setting(
            st.number_input,
            "Patience (epochs)",
            "training",
            "patience",
            min_value=1,
            max_value=1000,
            step=1,
            disabled=not t.early_stopping,
        )
        setting(
            st.selectbox,
            "Monitor",
            "training",
            "monitor",
            choices=["val_loss", "val_accuracy", "loss", "accuracy"],
        )
        setting(st.checkbox, "Save the best model (checkpoint)", "training", "checkpoint")
        setting(
            st.checkbox,
            "Lower the learning rate on a plateau",
            "training",
            "reduce_lr",
            help="LR schedule: divide the learning rate when the monitored value stalls",
        )
    # Pause, Continue and Step reach a job this server drives (not one found on disk after a
    # restart, which can only be stopped).
    steerable = active and runs.job(rid) is not None
    paused = steerable and snap.status == "paused"
    b1, b2 = st.columns(2)
    b1.button(
        "▶ Start",
        key="train_start",
        type="primary",
        on_click=start,
        disabled=active,
        width="stretch",
    )
    b2.button(
        "▸ Step",
        key="train_step",
        on_click=step,
        disabled=active and not steerable,
        width="stretch",
    )
    b3, b4 = st.columns(2)
    b3.button(
        "▶ Continue" if paused else "‖ Pause",
        key="train_pause",
        on_click=pause,
        args=(not paused,),
        disabled=not steerable,
        width="stretch",
    )
    b4.button("■ Stop", key="train_stop", on_click=stop, disabled=not active, width="stretch")
    st.caption(
        f"Trains **{d.name}** on **{d.data.dataset or 'no data set'}** on {runs.executor_text()} "
        "(change it on the Settings page). **▸ Step** trains one epoch, then pauses."
    )


# While a job runs, fragments poll the job registry: the progress and the charts every
# second, the layers' pictures every 10 s (measured between epochs with at most 1 % of the
# training time, they are the heaviest figures to send, and a few seconds late is not
# noticed), the runs table every 10 s. Each fragment run costs the server about 6 ms of
# Streamlit's own work whatever it draws (BENCHMARKS.md, viewer_cpu_ms_per_s), and a class
# server runs them for every watching session: so few fragments, each as often as what it
# shows changes. A queued job changes only its place in the queue: the live panel then
# polls every 5 s and the others not at all, and the page is drawn again when the job
# starts (trainview.poll_seconds). None polls when no job runs.
@st.fragment(run_every=trainview.poll_seconds(snap, 1.0, 5.0))
def live_panel(run_id: str | None, was_active: bool, was_status: str | None) -> None:
    """The run's headline, progress, problems and charts; redraws the page when it ends."""
    snap = runs.snapshot(run_id)
    if snap is None:
        st.info("No run yet: set the epochs and press **▶ Start**.")
        return
    trainview.headline(snap)
    st.progress(trainview.progress_fraction(snap), text=trainview.progress_text(snap))
    trainview.problems(snap)
    if snap.history:
        trainview.curves(snap.history, "live", snap.run_dir or snap.run_id)
        live_grid(snap.grid)
    elif runs.is_active(snap):
        st.caption("The curves appear after the first epoch.")
    if was_active and not runs.is_active(snap):
        st.rerun(scope="app")  # the job ended: redraw the page, which stops this polling
    if was_active and snap.status != was_status:
        # Paused (after a step) or going on: Pause becomes Continue. Started after waiting
        # in the queue: every fragment polls as often as a running job needs.
        st.rerun(scope="app")


def live_grid(grid: dict | None) -> None:
    """For 2-D data: the decision boundary and the hidden units' maps."""
    if not grid:
        return
    ds, _ = dataview.load_preview(d)
    if ds is None or ds.info.kind != "points2d":
        return
    z = (
        [[p[1] for p in row] for row in grid["probs"]]
        if len(ds.info.class_names) == 2
        else grid["labels"]
    )
    whole, units = st.columns([3, 2], gap="medium")
    whole.plotly_chart(
        viz.decision_boundary_figure(
            grid["xs"],
            grid["ys"],
            z,
            ds.x_train,
            ds.y_train,
            ds.info.class_names,
            "Decision boundary (live)",
        ),
        key="live_boundary",
    )
    with units:
        trainview.neurons(grid.get("units"), key="live_units")


@st.fragment(run_every=trainview.poll_seconds(snap, 10.0, None))
def live_distributions(run_id: str | None) -> None:
    """The layers' outputs and gradients, epoch by epoch."""
    snap = runs.snapshot(run_id)
    if snap is not None and snap.history:
        trainview.distributions(snap.run_dir, "live_dist")


with right:
    live_panel(rid, active, snap.status if snap else None)
    live_distributions(rid)

st.divider()
st.subheader("Runs")
all_runs = runs.all_runs()
if not all_runs:
    st.caption("Runs appear here once you start training.")
else:
    from ui.status import runs_table

    @st.fragment(run_every=trainview.poll_seconds(snap, 10.0, None))
    def runs_list() -> None:
        """Polls while a job runs (its status and epochs change), far less often than the
        live panel, which shows the running job itself; the page is drawn again when the
        job ends."""
        runs_table(runs.all_runs(), key="runs_table")

    runs_list()
    ids = [r.id for r in all_runs]
    c1, c2 = st.columns([2, 1], gap="large")
    with c1:
        chosen = st.multiselect(
            "Compare runs",
            ids,
            key="compare_runs",
            max_selections=6,
            placeholder="pick two or more runs",
        )
        if chosen:
            trainview.compare([(r, runs.history(r)) for r in chosen])
    with c2:
        resumable = [
            r.id
            for r in all_runs
            if r.status not in ("queued", "running", "paused") and runs.can_resume(r.id)
        ]
        if resumable:
            forms.follow("resume_run", resumable, rid)
            st.selectbox("Resume a run", resumable, key="resume_run")
            st.number_input("More epochs", 1, 10_000, value=5, step=1, key="resume_epochs")
            st.button("↻ Resume", key="resume", on_click=resume, disabled=active, width="stretch")
        if rid in ids and len(ids) > 1:
            forms.follow("show_run", ids, rid)
            st.selectbox(
                "Show run",
                ids,
                key="show_run",
                on_change=lambda: state.set_run_id(ss.get("show_run")),
            )
