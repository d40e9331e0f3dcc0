"""The Class page in AppTest (issue 16): a class server opens on it; a student joins under a
name no other session can take, starts from the assignment's design, sees the budget and the
rules, submits a run and finds it on the leaderboard; the teacher unlocks with the passphrase
and closes submissions."""

from __future__ import annotations

import shutil

import pytest

from designer.classroom import assignment as assignments
from designer.classroom import passphrase
from designer.classroom.submissions import read_submissions
from designer.cli import main
from designer.design.spec import load as load_design

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
    assert at.session_state["class_teacher"] is True
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
    offered = {o.content for p in at.get("button_group") for o in p.proto.options}
    assert offered == {"Input", "Dense", "Dropout"}, offered
    bar = at.get("progress")[0]
    assert "Parameter budget of this class" in bar.proto.text
    at.session_state["selected_node"] = "input"
    at.run()
    assert any("Locked by the assignment" in i.value for i in at.info)
    assert at.button(key="delete:input").disabled
    assert not [t for t in at.text_input if "Name" == t.label]
