"""The Class page's glue: the server's assignment (``KERAS_DESIGNER_CLASS``), this session's
display name, its design against the rules, submitting its run, the teacher's login.

The hidden test set is read only inside :func:`designer.classroom.scoring.score_run`; nothing
here shows or offers for download anything built from it but the scores.
"""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from designer.classroom import assignment as assignments
from designer.classroom import live, names, passphrase
from designer.classroom.rules import Broken
from designer.classroom.scoring import RulesBroken, check_design, param_count, submit
from designer.classroom.submissions import csv_text, leaderboard, read_submissions
from designer.design.spec import DesignFileError
from designer.design.spec import load as load_design_file
from designer.report.drawing import design_svg
from designer.report.viz import submissions_figure
from designer.training import rundir
from ui import runs, state

NAME = "class_name"  # the display name this session claimed
TEACHER = "class_teacher"  # the class folder this session gave the teacher passphrase for
TRIES = "class_wrong_tries"  # wrong passphrases so far: each costs a longer wait
NEWS = "class_news"  # (kind, message) of the last join/submit/teacher action
PROJECTOR = "class_projector"


def current() -> assignments.Assignment | None:
    """The assignment this server runs, or None (no class: the page says how to start one)."""
    folder = live.class_folder()
    return None if folder is None else assignments.load(folder)


def my_name() -> str | None:
    return st.session_state.get(NAME)


def news(kind: str, message: str) -> None:
    st.session_state[NEWS] = (kind, message)


def join(assignment: assignments.Assignment, key: str) -> None:
    """The Join button: claim the typed name for this session."""
    typed = (st.session_state.get(key) or "").strip()
    try:
        st.session_state[NAME] = names.claim(assignment.folder, typed, state.session_id())
    except assignments.AssignmentError as exc:
        news("error", str(exc))
        return
    # A student lands in the assignment: its design replaces the blank one (Undo brings it back).
    state.replace(assignment.template())
    news(
        "success",
        f"You are {st.session_state[NAME]} in this class. The assignment's design is loaded.",
    )


def load_template(assignment: assignments.Assignment) -> None:
    state.replace(assignment.template())
    state.flash("success", f"Loaded the starting design of “{assignment.title}”.")


def design_rules(assignment: assignments.Assignment) -> list[Broken]:
    """The rules the session's design breaks now (Keras counts its parameters, cached)."""
    design = state.design()
    return check_design(assignment, design, design.training.epochs)


def params_of_design() -> int | None:
    return param_count(state.design())


def rules_here():
    """The rules of the server's class (None: no class, or one that cannot be read)."""
    try:
        assignment = current()
    except assignments.AssignmentError:
        return None
    return assignment.rules if assignment is not None else None


def locked_nodes() -> set[str]:
    rules = rules_here()
    return set(rules.lock) if rules is not None else set()


def _epochs_cap() -> int | None:
    rules = rules_here()
    return rules.max_epochs if rules is not None else None


def epochs_limit(current: int) -> int:
    """The Epochs field's maximum: the class's cap. A design already above it keeps its value
    (the field must not change a design by itself); Start refuses it with the rule's line."""
    cap = _epochs_cap()
    return max(cap, current) if cap else 10_000


def epochs_note() -> str:
    cap = _epochs_cap()
    return f" (at most {cap} in this class)" if cap else ""


def training_refusal(design) -> str | None:
    """Why the Train page must not start ``design`` in this class (None: it may)."""
    try:
        assignment = current()
    except assignments.AssignmentError as exc:
        return f"this server's class cannot be read: {exc}"
    if assignment is None:
        return None
    if not assignment.uses_own_data(design.data):
        return (
            "in this class every model trains on the assignment's data: press "
            "**Start from the assignment's design** on the Class page"
        )
    broken = check_design(assignment, design, design.training.epochs)
    if not broken:
        return None
    return "the design breaks this class's rules:\n" + "\n".join(f"- {b.line()}" for b in broken)


def latest_run() -> str | None:
    run_id = st.session_state.get(state.RUN_ID)
    return run_id if runs.exists(run_id) else None


def my_last_submission(assignment: assignments.Assignment):
    """This session's name's latest recorded submission (None before the first).

    Read from the log, so the score stays on the student's screen after any rerun, reload
    or restart (the one-time message after Submit is lost when another rerun replaces the
    run that drew it, as happened to 2 of 30 students under load)."""
    name = my_name()
    mine = [s for s in read_submissions(assignment.folder) if s.name == name] if name else []
    return mine[-1] if mine else None


def submit_run(assignment: assignments.Assignment, run_id: str) -> None:
    name = my_name()
    if not name:
        news("error", "Choose your name first.")
        return
    if names.owner(assignment.folder, name) != state.session_id():
        news("error", f"{name!r} belongs to another browser session.")
        return
    try:
        sub = submit(assignment, runs.run_path(run_id), name)
    except RulesBroken as exc:
        news("error", "Not submitted:\n" + "\n".join(b.line() for b in exc.broken))
        return
    except assignments.AssignmentError as exc:
        news("error", f"Not submitted: {exc}")
        return
    news("success", f"Submitted {run_id}: score {sub.score:.4f} on the hidden test set.")


def _slow_down() -> None:
    """Each wrong passphrase in this session makes the next try wait a second longer."""
    time.sleep(min(st.session_state.get(TRIES, 0), 10))


def _wrong(message: str) -> None:
    st.session_state[TRIES] = st.session_state.get(TRIES, 0) + 1
    news("error", message)


def teacher_login(assignment: assignments.Assignment, key: str) -> None:
    """Check the passphrase (slowed after wrong tries)."""
    _slow_down()
    if passphrase.verify(assignment.teacher_file, st.session_state.get(key) or ""):
        st.session_state[TEACHER], st.session_state[TRIES] = _key(assignment.folder), 0
        news("success", "Teacher view unlocked for this browser session.")
    else:
        _wrong("That is not the teacher passphrase.")


def open_class(folder_key: str, pass_key: str) -> None:
    """Run the assignment in the typed folder on this server (its passphrase unlocks it)."""
    _slow_down()
    try:
        folder = live.open_class(
            (st.session_state.get(folder_key) or "").strip(),
            st.session_state.get(pass_key) or "",
        )
    except assignments.AssignmentError as exc:
        _wrong(f"The class did not open: {exc}")
        return
    st.session_state[TEACHER], st.session_state[TRIES] = _key(folder), 0
    news("success", f"This server now runs the class in {folder}. Students open this address.")


def end_class() -> None:
    if not is_teacher():
        news("error", "Only the teacher can end the class.")
        return
    live.end_class()
    st.session_state.pop(TEACHER, None)
    state.flash("success", "The class has ended on this server; its folder keeps every result.")


def _key(folder: Path) -> str:
    return str(Path(folder).resolve())


def is_teacher() -> bool:
    """Did this session give the passphrase of the class the server runs now?"""
    folder = live.class_folder()
    return folder is not None and st.session_state.get(TEACHER) == _key(folder)


def set_open(assignment: assignments.Assignment, is_open: bool) -> None:
    if not is_teacher():  # a crafted rerun without the passphrase changes nothing
        news("error", "Only the teacher can open or close submissions.")
        return
    assignment.set_open(is_open)
    news("success", f"Submissions are {'open' if is_open else 'closed'}.")


def reveal(assignment: assignments.Assignment, key: str) -> None:
    """Show the chosen name's best submission (graph and curves) to the whole class."""
    if not is_teacher():  # a crafted rerun without the passphrase reveals nothing
        news("error", "Only the teacher can show a design to the class.")
        return
    chosen = st.session_state.get(key)
    best = {s.name: s.best for s in leaderboard(read_submissions(assignment.folder))}
    if chosen not in best:
        news("error", "Choose a name from the leaderboard first.")
        return
    live.reveal(assignment.folder, best[chosen])
    news("success", f"Every screen now shows {chosen}'s design.")


def hide(assignment: assignments.Assignment) -> None:
    if not is_teacher():
        news("error", "Only the teacher can hide the design shown to the class.")
        return
    live.hide(assignment.folder)


def shown(assignment: assignments.Assignment):
    """(submission, design, history) the teacher shows to the class, or None."""
    sub = live.revealed(assignment.folder)
    if sub is None:
        return None
    run = Path(sub.run)
    try:
        design = load_design_file(run / rundir.DESIGN_FILE)
    except (OSError, DesignFileError):
        return None
    return sub, design, rundir.read_history(run)


def picture(design) -> str:
    return design_svg(design, max_width=260)


def over_time_figure(assignment: assignments.Assignment):
    return submissions_figure(read_submissions(assignment.folder), assignment.metric)


def ranked_names(assignment: assignments.Assignment) -> list[str]:
    return [s.name for s in leaderboard(read_submissions(assignment.folder))]


def training_table(assignment: assignments.Assignment):
    import pandas as pd

    return pd.DataFrame(live.training_now(assignment.folder, runs.root()))


def standings_table(assignment: assignments.Assignment):
    """The leaderboard as a table (pandas escapes nothing: st.dataframe shows text as text)."""
    import pandas as pd

    rows = [
        {
            "rank": s.rank,
            "name": s.name,
            assignment.metric: round(s.best.score, 4),
            "submissions": s.submissions,
            "params": s.best.params,
            "when": s.best.clock_text(),
        }
        for s in leaderboard(read_submissions(assignment.folder))
    ]
    return pd.DataFrame(rows)


def results_csv(assignment: assignments.Assignment) -> bytes:
    """Every submission, for the teacher's download (built only when unlocked)."""
    if not is_teacher():
        return b""
    return csv_text(read_submissions(assignment.folder)).encode("utf-8")
