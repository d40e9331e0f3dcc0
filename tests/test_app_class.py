"""The Class page in AppTest (issue 16): a class server opens on it; a student joins under a
name no other session can take, starts from the assignment's design, sees the budget and the
rules, submits a run and finds it on the leaderboard; the teacher unlocks with the passphrase
and closes submissions."""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile

import numpy as np
import pytest
import streamlit as st
from app_widgets import open_palette
from streamlit.delta_generator import DeltaGenerator

from designer.classroom import assignment as assignments
from designer.classroom import live, passphrase
from designer.classroom.scoring import submit
from designer.classroom.submissions import read_submissions
from designer.cli import main
from designer.design.spec import load as load_design
from designer.training import rundir
from ui import classroom as ui_class

SECRET = "amber-comet-river-tulip-07"


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """A moons assignment with a 400-parameter budget and a run trained on it."""
    root = tmp_path_factory.mktemp("class-app")
    folder = root / "moons"
    assert main(["class", "create", str(folder), "--dataset", "moons", "--max-params", "400",
                 "--max-epochs", "6", "--seed", "2"]) == 0  # fmt: skip
    passphrase.write(folder / "teacher.json", SECRET)
    run = root / "trained"
    assert main(["train", str(folder / "template.json"), "--assignment", str(folder),
                 "--out", str(run)]) == 0  # fmt: skip
    return folder, run


@pytest.fixture
def class_app(classroom, open_app, app_env, monkeypatch):
    folder, run = classroom
    monkeypatch.setenv("KERAS_DESIGNER_CLASS", str(folder))
    shutil.copytree(run, app_env / "runs" / "trained")  # the app lists its own runs folder
    return open_app


def texts(at) -> str:
    return "\n".join(
        m.value for m in [*at.title, *at.markdown, *at.caption, *at.error, *at.success, *at.warning]
    )


def test_a_class_server_opens_on_the_assignment_and_a_name_is_one_sessions(class_app, classroom):
    folder, _ = classroom
    at = class_app()
    assert not at.exception
    assert at.title[0].value == assignments.load(folder).title
    assert "at most **400** parameters" in texts(at)
    at.text_input(key="class_name_field").input("Ada L.")
    at.button(key="class_join").click().run()
    assert at.session_state["class_name"] == "Ada L."
    # Another browser session cannot take the name, whatever its case and spaces.
    other = class_app()
    other.text_input(key="class_name_field").input("  ada   l. ")
    other.button(key="class_join").click().run()
    assert "class_name" not in other.session_state
    assert any("is taken" in e.value for e in other.error)
    # Markup is not a name.
    other.text_input(key="class_name_field").input("<b>x</b>")
    other.button(key="class_join").click().run()
    assert "class_name" not in other.session_state and other.error


def test_the_assignment_design_the_budget_and_the_rules(class_app, classroom):
    folder, _ = classroom
    at = class_app()
    at.button(key="class_template").click().run()
    assert not at.exception
    design = at.session_state["design"]
    assert design.node_ids() == assignments.load(folder).template().node_ids()
    assert assignments.load(folder).uses_own_data(design.data)
    bar = at.get("progress")[0]
    assert "parameter budget:" in bar.proto.text and "of 400" in bar.proto.text
    assert "Your design keeps every rule." in texts(at)
    # A wider hidden layer goes over the budget: the page says which rule, as the CLI does.
    hidden = next(n for n in design.nodes if n.type == "Dense" and n.id != "output")
    hidden.params["units"] = 64
    at.run()
    assert any("rule max-params:" in w.value for w in at.warning), texts(at)


def test_submit_scores_the_last_run_and_the_leaderboard_shows_it(class_app, classroom):
    folder, _ = classroom
    at = class_app()
    at.text_input(key="class_name_field").input("Grace")
    at.button(key="class_join").click().run()
    assert at.button(key="class_submit").disabled, "no run of this session yet"
    at.session_state["run_id"] = "trained"
    at.run()
    at.button(key="class_submit").click().run()
    assert not at.exception
    done = [s.value for s in at.success if "score" in s.value]
    assert done and "on the hidden test set" in done[0], texts(at)
    (sub,) = [s for s in read_submissions(folder) if s.name == "Grace"]
    at.run()
    # The one-time message is gone after a rerun; the score stays under the button.
    assert not [s for s in at.success if "score" in s.value]
    assert f"score **{sub.score:.4f}** on the hidden test set" in texts(at)
    board = at.dataframe[0].value
    row = board[board["name"] == "Grace"].iloc[0]
    assert row["accuracy"] == pytest.approx(sub.score, abs=1e-4) and row["submissions"] == 1


def test_the_teacher_unlocks_with_the_passphrase_and_closes_submissions(class_app, classroom):
    folder, _ = classroom
    at = class_app()
    assert not [b for b in at.button if b.key == "class_open_close"]
    at.text_input(key="class_pass").input("wrong")
    at.button(key="class_unlock").click().run()
    assert any("not the teacher passphrase" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "class_open_close"]
    at.text_input(key="class_pass").input(SECRET)
    at.button(key="class_unlock").click().run()
    assert at.session_state["class_teacher"] == str(folder.resolve())
    try:
        at.button(key="class_open_close").click().run()
        assert assignments.load(folder).open is False
        assert "Submissions are closed" in texts(at)
        at.session_state["run_id"] = "trained"
        at.run()
        assert at.button(key="class_submit").disabled
    finally:
        assignments.load(folder).set_open(True)


def test_the_template_on_disk_holds_no_server_path(classroom):
    """template.json names its data relative to the folder: a student's copy says nothing about
    where the server keeps the hidden set."""
    folder, _ = classroom
    assert load_design(folder / "template.json").data.path == "data/train.npz"


def test_the_design_page_keeps_the_class_rules(classroom, open_app, app_env, monkeypatch, tmp_path):
    """An assignment that allows only Input, Dense and Dropout and locks the input: the
    palette offers only those, the locked node has no form and no delete, the budget shows."""
    folder = tmp_path / "strict"
    assert main(["class", "create", str(folder), "--dataset", "moons", "--max-params", "500",
                 "--allow", "Dense,Dropout", "--lock", "input"]) == 0  # fmt: skip
    monkeypatch.setenv("KERAS_DESIGNER_CLASS", str(folder))
    at = open_app()
    at.button(key="class_template").click().run()
    at.switch_page("pages/design.py").run()
    assert not at.exception
    shown = sorted(e.label for e in at.get("expander") if e.label[-2:-1].isdigit())
    assert shown == ["Core (2)", "Regularization (1)"], shown
    open_palette(at, "core", "regularization")
    offered = {o.content for p in at.get("button_group") for o in p.proto.options}
    assert offered == {"Input", "Dense", "Dropout"}, offered
    bar = at.get("progress")[0]
    assert "Parameter budget of this class" in bar.proto.text
    at.session_state["selected_node"] = "input"
    at.run()
    assert any("Locked by the assignment" in i.value for i in at.info)
    assert at.button(key="delete:input").disabled
    assert not [t for t in at.text_input if "Name" == t.label]


def unlock(at) -> None:
    at.text_input(key="class_pass").input(SECRET)
    at.button(key="class_unlock").click().run()
    assert any("Teacher view unlocked" in m.value for m in at.success), texts(at)


def chart(at, title: str) -> dict:
    (spec,) = [
        json.loads(c.proto.spec)
        for c in at.get("plotly_chart")
        if title in json.dumps(json.loads(c.proto.spec)["layout"].get("title"))
    ]
    return spec


def test_the_teacher_shows_one_design_to_the_whole_class(class_app, classroom, app_env):
    folder, _ = classroom
    sub = submit(assignments.load(folder), app_env / "runs" / "trained", "Linus T.")
    student = class_app()
    assert not [h for h in student.subheader if "On the board" in h.value]
    assert not [b for b in student.button if b.key == "class_reveal"], "the teacher's only"
    teacher = class_app()
    unlock(teacher)
    # The teacher's chart holds every recorded submission, one marker each.
    over_time = chart(teacher, "Submissions over time")
    markers = next(t for t in over_time["data"] if t["mode"] == "markers")
    assert len(markers["y"]) == len(read_submissions(folder))
    teacher.selectbox(key="class_reveal_name").select("Linus T.")
    teacher.button(key="class_reveal").click().run()
    assert not teacher.exception
    assert live.revealed(folder) == sub
    try:
        student.run()
        shown = [h.value for h in student.subheader if "On the board" in h.value]
        assert shown == ["On the board: Linus T.'s design"]
        assert any("<svg" in m.value for m in student.markdown)
        loss = chart(student, "Loss")
        trained = rundir.read_history(app_env / "runs" / "trained")
        assert loss["data"][0]["y"] == pytest.approx([row["loss"] for row in trained])
    finally:
        teacher.button(key="class_hide").click().run()
    assert live.revealed(folder) is None
    student.run()
    assert not [h for h in student.subheader if "On the board" in h.value]


def test_a_crafted_reveal_without_the_passphrase_changes_nothing(classroom, monkeypatch):
    """The callbacks check the teacher flag themselves: run without it (bare mode, where a
    crafted request would land), they refuse."""
    folder, _ = classroom
    monkeypatch.setenv("KERAS_DESIGNER_CLASS", str(folder))
    st.session_state["class_reveal_name"] = "Grace"
    st.session_state.pop(ui_class.TEACHER, None)
    ui_class.reveal(assignments.load(folder), "class_reveal_name")
    assert live.revealed(folder) is None
    ui_class.set_open(assignments.load(folder), False)
    assert assignments.load(folder).open
    assert ui_class.results_csv(assignments.load(folder)) == b""


def test_the_teacher_sees_who_is_training_now(class_app, classroom, app_env):
    folder, _ = classroom
    student = class_app()
    student.text_input(key="class_name_field").input("Hedy")
    student.button(key="class_join").click().run()
    busy = app_env / "runs" / "hedy-run"
    busy.mkdir(parents=True)
    rundir.write_owner(busy, student.session_state["session_id"])
    rundir.write_status(busy, "running", pid=os.getpid(), epochs_done=2)
    teacher = class_app()
    unlock(teacher)
    (table,) = [d.value for d in teacher.dataframe if "status" in d.value.columns]
    assert table[["name", "run", "status", "epoch"]].values.tolist() == [
        ["Hedy", "hedy-run", "running", 2]
    ]
    rundir.write_status(busy, "finished")
    teacher.run()
    assert "**Training now:** 0" in texts(teacher)


def test_a_teacher_opens_an_assignment_on_the_class_page(classroom, open_app, monkeypatch):
    """Without KERAS_DESIGNER_CLASS: the Class page (last in the menu) opens a folder made by
    `class create` once its passphrase is given; every new session then lands in it."""
    folder, _ = classroom
    monkeypatch.delenv("KERAS_DESIGNER_CLASS", raising=False)
    at = open_app()
    at.switch_page("pages/classroom.py").run()
    assert any("No class runs on this server" in i.value for i in at.info)
    at.text_input(key="class_open_folder").input(str(folder))
    at.text_input(key="class_open_pass").input("not-it")
    at.button(key="class_open").click().run()
    assert live.class_folder() is None
    assert any("not this assignment's teacher passphrase" in e.value for e in at.error)
    at.text_input(key="class_open_pass").input(SECRET)
    at.button(key="class_open").click().run()
    assert live.class_folder() == folder.resolve()
    title = assignments.load(folder).title
    assert at.title[0].value == title and [b for b in at.button if b.key == "class_open_close"]
    student = open_app()  # a new session opens on the Class page, not as the teacher
    assert student.title[0].value == title
    assert not [b for b in student.button if b.key in ("class_end", "class_open_close")]
    at.button(key="class_end").click().run()
    assert live.class_folder() is None
    assert (folder / "submissions.jsonl").is_file(), "ending the class keeps its results"


def test_the_epochs_field_stops_at_the_class_cap(class_app):
    at = class_app()
    at.button(key="class_template").click().run()
    at.switch_page("pages/train.py").run()
    (epochs,) = [n for n in at.number_input if n.label == "Epochs"]
    assert epochs.max == 6 and "at most 6 in this class" in epochs.help
    # A design already above the cap (an older file) keeps its value: the field's maximum
    # yields to it, since nothing changes a design by itself, and Start refuses it instead.
    assert ui_class.epochs_limit(9) == 9 and ui_class.epochs_limit(3) == 6


def _bytes_in(data: bytes):
    """``data`` and, for a ZIP (a .keras file, a run's folder), every member's bytes."""
    yield data
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for name in zf.namelist():
                yield from _bytes_in(zf.read(name))


def test_no_download_of_a_class_session_holds_a_hidden_row(class_app, classroom, monkeypatch):
    """Every file the Export and Class pages offer a student (the script, the design, the
    trained .keras, the run as a ZIP, the model card), unpacked: no hidden row in any."""
    folder, _ = classroom
    offered: dict[str, bytes] = {}
    original = DeltaGenerator.download_button

    def record(self, label, data, *args, **kwargs):
        got = data() if callable(data) else data
        offered[kwargs.get("key") or label] = got.encode() if isinstance(got, str) else got
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", record)
    # st.download_button is the main area's bound method, taken when streamlit was imported.
    main_area = st.download_button
    monkeypatch.setattr(st, "download_button", lambda *a, **k: record(main_area.__self__, *a, **k))
    at = class_app()
    at.text_input(key="class_name_field").input("Alan")
    at.button(key="class_join").click().run()
    at.session_state["run_id"] = "trained"
    at.switch_page("pages/export.py").run()
    at.button(key="card_build").click().run()
    assert not at.exception
    assert {"dl_script", "dl_design", "dl_keras", "dl_run", "dl_card"} <= set(offered)
    with np.load(folder / "hidden" / "test.npz", allow_pickle=False) as hidden:
        x = hidden["x"]
    rows = {r.tobytes() for r in x} | {r.tobytes() for r in x.astype(np.float64)}
    for key, data in offered.items():
        for part in _bytes_in(data):
            assert not any(r in part for r in rows), f"a hidden row is in the {key} download"
            assert b"hidden/test.npz" not in part, key
