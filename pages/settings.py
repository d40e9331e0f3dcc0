"""Settings: where training runs (this machine or a Ray cluster) and what it has free."""

import streamlit as st

from designer.training import TrainingError
from ui import cluster, state

state.show_flash()
ss = st.session_state
st.title("Settings")
name, description, address = cluster.current()
LABELS = {"local": "This machine (background processes)", "ray": "A Ray cluster"}


def apply() -> None:
    try:
        where = cluster.use(ss["set:executor"], ss.get("set:address") or "")
    except TrainingError as exc:
        state.flash("error", f"Training still runs where it did: {exc}")
        return
    state.flash("success", f"New runs now train on {where}.")


left, right = st.columns([1, 1.6], gap="large")
with left:
    st.subheader("Where training runs")
    ss.setdefault("set:executor", name)
    ss.setdefault("set:address", cluster.default_address())
    choice = st.radio(
        "Executor",
        list(LABELS),
        format_func=LABELS.get,
        key="set:executor",
        label_visibility="collapsed",
    )
    st.text_input(
        "Ray address",
        key="set:address",
        disabled=choice != "ray",
        placeholder="empty: start a Ray instance on this machine",
        help="HOST:6379, or ray://HOST:10001 for Ray Client",
    )
    if choice == "ray" and not cluster.ray_installed():
        st.info(
            "Ray is not installed here: `pip install 'keras-designer[ray]'`, then restart the app."
        )
    locked = cluster.locked()
    st.button(
        "Use this",
        key="set:apply",
        type="primary",
        on_click=apply,
        disabled=locked or (choice == "ray" and not cluster.ray_installed()),
    )
    if locked:
        st.caption("Locked by whoever runs this server (KERAS_DESIGNER_SETTINGS_LOCKED).")
    st.caption(
        "The choice is the server's: every session's new runs go there. Runs already "
        "training finish where they started. Each run's files come back to this "
        "machine's run folder as it trains, so nothing needs a shared disk."
    )
    st.caption("One model on several GPUs: the **Devices** setting on the Train page.")

with right:
    st.subheader("Now")
    st.markdown(
        f"New runs train on **{description}**, up to {cluster.registry().max_concurrent} at once."
    )
    try:
        st.dataframe(cluster.resources(), hide_index=True, width="stretch", key="set:nodes")
    except Exception as exc:  # noqa: BLE001 - a cluster that went away must not break the page
        st.warning(f"Cannot read the cluster's resources: {exc}", icon="⚠️")
    st.button("↻ Refresh", key="set:refresh")
    jobs = cluster.live_jobs()
    if len(jobs):
        st.markdown("**Your runs in progress**")
        st.dataframe(jobs, hide_index=True, width="stretch", key="set:jobs")
