"""Train: settings and Start/Stop on the left; live progress and curves on the right; the runs."""

import streamlit as st

from designer import viz
from ui import dataview, editor, forms, runs, state, trainview

state.show_flash()
d = state.design()
ss = st.session_state
runs.prewarm()


def start() -> None:
    from designer.training import TrainingError

    try:
        rid = runs.start(state.design(), state.design().training.epochs)
    except (TrainingError, ValueError, OSError) as exc:
        state.flash("error", f"Training could not start: {exc}")
        return
    state.set_run_id(rid)


def stop() -> None:
    if state.run_id():
        runs.stop(state.run_id())


def resume() -> None:
    from designer.training import TrainingError

    rid = ss.get("resume_run")
    try:
        state.set_run_id(runs.resume(rid, int(ss.get("resume_epochs") or 5)))
    except (TrainingError, ValueError, OSError) as exc:
        state.flash("error", f"Could not resume {rid}: {exc}")


def setting(key: str, section: str, name: str) -> None:
    forms.guarded(key, editor.set_section, section, name)


st.title("Train")
rid = state.run_id()
snap = runs.snapshot(rid)
active = runs.is_active(snap)
left, right = st.columns([1, 2.4], gap="large")

with left:
    t = d.training
    ss.setdefault("t:epochs", int(t.epochs))
    st.number_input("Epochs", 1, 10_000, step=1, key="t:epochs", on_change=setting, args=("t:epochs", "training", "epochs"),
                    help="How many times the model sees the whole training set")  # fmt: skip
    ss.setdefault("t:batch_size", int(t.batch_size))
    st.number_input("Batch size", 1, 65_536, step=1, key="t:batch_size", on_change=setting,
                    args=("t:batch_size", "training", "batch_size"), help="Samples per weight update")  # fmt: skip
    ss.setdefault("t:devices", int(t.devices))
    st.number_input("Devices", 1, 64, step=1, key="t:devices", on_change=setting,
                    args=("t:devices", "training", "devices"),
                    help="Copies of the model trained together, one per GPU (logical CPU devices where "
                         "there is no GPU: slower, for trying it). The batch size is the global batch, "
                         "split across them.")  # fmt: skip
    if t.devices > 1:
        st.caption(f"Batch {t.batch_size} split over {t.devices} devices: "
                   f"{t.batch_size // t.devices} samples per device per step.")  # fmt: skip
    ss.setdefault("t:validation_split", float(d.data.validation_split))
    st.slider("Validation split", 0.0, 0.5, step=0.05, key="t:validation_split", on_change=setting,
              args=("t:validation_split", "data", "validation_split"),
              help="Fraction of the data held out to watch for overfitting")  # fmt: skip
    with st.expander("Callbacks", expanded=False):
        ss.setdefault("t:early_stopping", bool(t.early_stopping))
        st.checkbox("Early stopping", key="t:early_stopping", on_change=setting,
                    args=("t:early_stopping", "training", "early_stopping"),
                    help="Stop when the monitored value stops improving; keep the best weights")  # fmt: skip
        ss.setdefault("t:patience", int(t.patience))
        st.number_input("Patience (epochs)", 1, 1000, step=1, key="t:patience", on_change=setting,
                        args=("t:patience", "training", "patience"), disabled=not t.early_stopping)  # fmt: skip
        ss.setdefault("t:monitor", t.monitor)
        st.selectbox("Monitor", ["val_loss", "val_accuracy", "loss", "accuracy"], key="t:monitor",
                     on_change=setting, args=("t:monitor", "training", "monitor"))  # fmt: skip
        ss.setdefault("t:checkpoint", bool(t.checkpoint))
        st.checkbox("Save the best model (checkpoint)", key="t:checkpoint", on_change=setting,
                    args=("t:checkpoint", "training", "checkpoint"))  # fmt: skip
        ss.setdefault("t:reduce_lr", bool(t.reduce_lr))
        st.checkbox("Lower the learning rate on a plateau", key="t:reduce_lr", on_change=setting,
                    args=("t:reduce_lr", "training", "reduce_lr"),
                    help="LR schedule: divide the learning rate when the monitored value stalls")  # fmt: skip
    for key in ("t:epochs", "t:batch_size", "t:devices", "t:validation_split", "t:patience"):
        forms.show_error(key)
    b1, b2 = st.columns(2)
    b1.button("▶ Start", key="train_start", type="primary", on_click=start, disabled=active, width="stretch")  # fmt: skip
    b2.button("■ Stop", key="train_stop", on_click=stop, disabled=not active, width="stretch")
    st.caption(f"Trains **{d.name}** on **{d.data.dataset or 'no data set'}** on {runs.executor_text()} "
               "(change it on the Settings page).")  # fmt: skip


@st.fragment(run_every=1.0 if active else None)
def live_panel(run_id: str | None, was_active: bool) -> None:
    """Only reads the job registry; polls while a job runs, and not at all when none does."""
    snap = runs.snapshot(run_id)
    if snap is None:
        st.info("No run yet: set the epochs and press **▶ Start**.")
        return
    trainview.headline(snap)
    st.progress(trainview.progress_fraction(snap), text=trainview.progress_text(snap))
    trainview.problems(snap)
    history = snap.get("history") or []
    if history:
        trainview.curves(history, "live")
    elif runs.is_active(snap):
        st.caption("The curves appear after the first epoch.")
    grid = snap.get("grid")
    if grid:
        ds, _ = dataview.load_preview(d)
        if ds is not None and ds.info.kind == "points2d":
            z = [[p[1] for p in row] for row in grid["probs"]] if len(ds.info.class_names) == 2 else grid["labels"]  # fmt: skip
            st.plotly_chart(viz.decision_boundary_figure(grid["xs"], grid["ys"], z, ds.x_train, ds.y_train,
                                                         ds.info.class_names, "Decision boundary (live)"),
                            key="live_boundary")  # fmt: skip
    if was_active and not runs.is_active(snap):
        st.rerun(scope="app")  # the job ended: redraw the page, which stops this polling


with right:
    live_panel(rid, active)

st.divider()
st.subheader("Runs")
all_runs = runs.all_runs()
if not all_runs:
    st.caption("Runs appear here once you start training.")
else:
    from ui.status import runs_table

    @st.fragment(run_every=2.0 if active else None)
    def runs_list() -> None:
        """Polls with the live panel: the statuses and epochs change while a job runs."""
        runs_table(runs.all_runs(), key="runs_table")

    runs_list()
    ids = [r.id for r in all_runs]
    c1, c2 = st.columns([2, 1], gap="large")
    with c1:
        chosen = st.multiselect("Compare runs", ids, key="compare_runs", max_selections=6,
                                placeholder="pick two or more runs")  # fmt: skip
        if chosen:
            trainview.compare([(r, runs.history(r)) for r in chosen])
    with c2:
        resumable = [r.id for r in all_runs if r.status not in ("queued", "running", "paused") and runs.can_resume(r.id)]  # fmt: skip
        if resumable:
            forms.follow("resume_run", resumable, rid)
            st.selectbox("Resume a run", resumable, key="resume_run")
            st.number_input("More epochs", 1, 10_000, value=5, step=1, key="resume_epochs")
            st.button("↻ Resume", key="resume", on_click=resume, disabled=active, width="stretch")
        if rid in ids and len(ids) > 1:
            forms.follow("show_run", ids, rid)
            st.selectbox("Show run", ids, key="show_run",
                         on_change=lambda: state.set_run_id(ss.get("show_run")))  # fmt: skip
