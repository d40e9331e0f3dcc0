"""Class: join the server's assignment under a name, start from its design, submit a run, and
watch the leaderboard; the teacher (with the passphrase) closes, reopens and downloads results.

Shown when the server runs a class (KERAS_DESIGNER_CLASS=DIR, a folder `class create` made).
"""

import html
from pathlib import Path

import streamlit as st

from designer.classroom import live
from designer.classroom.assignment import AssignmentError
from ui import classroom as cls
from ui import runs, state, trainview

state.show_flash()
ss = st.session_state
try:
    assignment = cls.current()
except AssignmentError as exc:
    st.error(f"This server's class cannot be read: {exc}", icon="⚠️")
    st.stop()
if assignment is None:
    st.title("Class")
    if ss.get(cls.NEWS):
        kind, message = ss.pop(cls.NEWS)
        (st.success if kind == "success" else st.error)(message)
    st.info(
        "No class runs on this server. A teacher makes an assignment with "
        "`keras-designer class create DIR --dataset ID`, then either starts the server with "
        "`KERAS_DESIGNER_CLASS=DIR ./run.sh app` or opens the assignment here."
    )
    with st.container(border=True):
        st.markdown("**Open an assignment** (teachers)")
        st.text_input("Assignment folder", key="class_open_folder", placeholder="/srv/class/moons")
        st.text_input("Teacher passphrase", type="password", key="class_open_pass")
        st.button(
            "Open the class on this server",
            key="class_open",
            type="primary",
            on_click=cls.open_class,
            args=("class_open_folder", "class_open_pass"),
        )
    st.stop()

st.title(assignment.title)
rules = assignment.rules
facts = [f"data **{assignment.dataset}** ({assignment.n_train:,} rows to train on)"]
if rules.max_params:
    facts.append(f"at most **{rules.max_params:,}** parameters")
if rules.max_epochs:
    facts.append(f"at most **{rules.max_epochs}** epochs")
if rules.allow:
    facts.append("layers: " + ", ".join(f"`{t}`" for t in rules.allow))
if rules.lock:
    facts.append("locked: " + ", ".join(f"`{n}`" for n in rules.lock))
st.markdown(" · ".join(facts))
st.caption(
    f"Scored on {assignment.n_hidden:,} hidden rows nobody sees ({assignment.metric}). "
    + ("Submissions are open." if assignment.open else "**Submissions are closed.**")
)
if ss.get(cls.NEWS):
    kind, message = ss.pop(cls.NEWS)
    (st.success if kind == "success" else st.error)(message)


@st.fragment(run_every=3)
def on_the_board() -> None:
    """The submission the teacher shows to everyone: its graph and its curves."""
    shown = cls.shown(cls.current() or assignment)
    if shown is None:
        return
    sub, design, history = shown
    with st.container(border=True):
        st.subheader(f"On the board: {sub.name}'s design")
        st.caption(
            f"{assignment.metric} {sub.score:.4f} on the hidden rows · {sub.params:,} "
            f"parameters · {sub.epochs} epochs · {len(design.nodes)} layers"
        )
        graph, charts = st.columns([1, 2.4])
        graph.markdown(  # as Home draws its templates (st.html drops the SVG)
            f"<div style='display:flex;justify-content:center'>{cls.picture(design)}</div>",
            unsafe_allow_html=True,
        )
        with charts:
            trainview.curves(history, key_prefix="class_board_curves", run=sub.run)


def you() -> None:
    """The student's side: name, the assignment's design against the rules, submit."""
    st.subheader("You")
    name = cls.my_name()
    if name is None:
        st.text_input("Your name", key="class_name_field", max_chars=32, placeholder="e.g. Ada L.")
        st.button(
            "Join the class",
            key="class_join",
            on_click=cls.join,
            args=(assignment, "class_name_field"),
        )
    else:
        st.markdown(f"Your name: **{html.escape(name)}**")
    st.button(
        "Start from the assignment's design",
        key="class_template",
        on_click=cls.load_template,
        args=(assignment,),
        help="Replaces the design on the Design page (Undo brings yours back)",
    )
    params = cls.params_of_design()
    if rules.max_params and params is not None:
        st.progress(
            min(1.0, params / rules.max_params),
            text=f"parameter budget: {params:,} of {rules.max_params:,}",
        )
    broken = cls.design_rules(assignment)
    if broken:
        st.warning("Your design breaks rules:\n" + "\n".join(f"- {b.line()}" for b in broken))
    else:
        st.success("Your design keeps every rule.")
    run_id = cls.latest_run()
    snap = runs.snapshot(run_id) if run_id else None
    if snap is None:
        st.caption("Train your design on the Train page, then submit the run here.")
    else:
        st.caption(f"Your last run: `{run_id}` · {snap.status} · {snap.epoch} epochs")
    st.button(
        "Submit my last run",
        key="class_submit",
        type="primary",
        disabled=snap is None or snap.active or name is None or not assignment.open,
        on_click=cls.submit_run,
        args=(assignment, run_id),
    )
    last = cls.my_last_submission(assignment)
    if last is not None:
        st.markdown(
            f"Your last submission: `{html.escape(Path(last.run).name)}`, "
            f"score **{last.score:.4f}** on the hidden test set "
            f"({last.clock_text()})."
        )


@st.fragment(run_every=3)
def leaderboard() -> None:
    table = cls.standings_table(cls.current() or assignment)
    if ss.get(cls.PROJECTOR):
        rows = "".join(
            f"<tr><td>{r['rank']}</td><td>{html.escape(str(r['name']))}</td>"
            f"<td>{r[assignment.metric]:.4f}</td></tr>"
            for r in table.to_dict("records")
        )
        st.html(
            "<table style='font-size:2.2rem;line-height:1.4;width:100%'>"
            f"{rows or '<tr><td>No submissions yet</td></tr>'}</table>"
        )
    elif table.empty:
        st.caption("No submissions yet.")
    else:
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            key="class_board",
            column_config={assignment.metric: st.column_config.NumberColumn(format="%.4f")},
        )


on_the_board()
if ss.get(cls.PROJECTOR):  # the projector shows the board alone, full width
    st.subheader("Leaderboard")
    leaderboard()
else:
    me, board = st.columns([1, 1.4], gap="large")
    with me:
        you()
    with board:
        st.subheader("Leaderboard")
        leaderboard()


@st.fragment(run_every=3)
def teacher_view() -> None:
    """Who is training now, the submissions over time, and the design shown to the class."""
    now = cls.current() or assignment
    training = cls.training_table(now)
    st.markdown(f"**Training now:** {len(training)}")
    if not training.empty:
        st.dataframe(training, hide_index=True, width="stretch", key="class_training")
    st.plotly_chart(cls.over_time_figure(now), key="class_over_time")
    names = cls.ranked_names(now)
    pick, show, hide = st.columns([2, 1, 1], vertical_alignment="bottom")
    pick.selectbox("Show a design to the class", names, key="class_reveal_name")
    show.button(
        "Show it",
        key="class_reveal",
        disabled=not names,
        on_click=cls.reveal,
        args=(now, "class_reveal_name"),
    )
    hide.button(
        "Hide it",
        key="class_hide",
        disabled=cls.shown(now) is None,
        on_click=cls.hide,
        args=(now,),
    )


with st.expander("Teacher", expanded=cls.is_teacher()):
    if not cls.is_teacher():
        st.text_input("Teacher passphrase", type="password", key="class_pass")
        st.button(
            "Unlock",
            key="class_unlock",
            on_click=cls.teacher_login,
            args=(assignment, "class_pass"),
        )
    else:
        st.toggle("Projector mode (large type)", key=cls.PROJECTOR)
        left, right = st.columns(2)
        left.button(
            "Close submissions" if assignment.open else "Reopen submissions",
            key="class_open_close",
            on_click=cls.set_open,
            args=(assignment, not assignment.open),
        )
        right.download_button(
            "Download all results (CSV)",
            data=cls.results_csv(assignment),
            file_name="results.csv",
            mime="text/csv",
            key="class_csv",
        )
        teacher_view()
        if not live.fixed_by_environment():
            st.button(
                "End the class on this server",
                key="class_end",
                on_click=cls.end_class,
                help="The folder keeps every submission; open it again to go on",
            )
