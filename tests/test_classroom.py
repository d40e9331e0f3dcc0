"""Issue 16's command line: class create / train --assignment / class submit / leaderboard /
close / open, with their exact lines and exit codes, the hidden test set kept apart, the rules,
names, the rate limit and a submissions log that survives kill -9."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from designer.classroom import assignment as assignments
from designer.classroom import passphrase
from designer.classroom.submissions import Submission, read_submissions
from designer.cli import main
from designer.data import load_dataset
from designer.design.spec import load as load_design

PY = sys.executable


def cli(capsys, *args) -> tuple[int, list[str], str]:
    """Run the command in this process: (exit code, stdout lines, stderr)."""
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out.splitlines(), out.err


@pytest.fixture(scope="module")
def moons_class(tmp_path_factory):
    """An assignment on the moons with a budget, an epoch cap and the input locked, and one
    run trained on it (a module fixture: training is the slow part)."""
    root = tmp_path_factory.mktemp("class")
    folder = root / "moons"
    assert (
        main(
            [
                "class",
                "create",
                str(folder),
                "--dataset",
                "moons",
                "--max-params",
                "400",
                "--max-epochs",
                "8",
                "--lock",
                "input",
                "--seed",
                "5",
            ]
        )
        == 0
    )
    # The template made for the data set is the default; its 30 epochs are capped at 8.
    assert json.loads((folder / "assignment.json").read_text())["template"] == "moons-mlp"
    design = root / "design.json"
    design.write_text((folder / "template.json").read_text())
    assert load_design(design).training.epochs == 8
    run = root / "run"
    assert main(["train", str(design), "--assignment", str(folder), "--out", str(run)]) == 0
    return folder, design, run


def test_create_writes_the_folder_and_prints_the_passphrase_last(tmp_path, capsys):
    folder = tmp_path / "a"
    code, out, err = cli(capsys, "class", "create", folder, "--dataset", "iris", "--seed", "1")
    assert code == 0, err
    secret = re.fullmatch(r"teacher passphrase: (\S+)", out[-1]).group(1)
    assert passphrase.verify(folder / "teacher.json", secret)
    assert not passphrase.verify(folder / "teacher.json", secret + "x")
    assert secret not in (folder / "teacher.json").read_text()  # only the scrypt hash is kept

    public = json.loads((folder / "assignment.json").read_text())
    assert public["dataset"] == "iris" and public["open"] is True
    assert not {"hash", "salt", "scrypt"} & set(public)  # the passphrase's record stays apart
    with np.load(folder / "hidden" / "test.npz", allow_pickle=False) as hidden:
        assert sorted(hidden.files) == ["x", "y"]
        x_hidden, y_hidden = hidden["x"], hidden["y"]
    with np.load(folder / "data" / "train.npz", allow_pickle=False) as train:
        x_train = train["x"]
    iris = load_dataset("iris")
    total = sum(len(p) for p in (iris.y_train, iris.y_val, iris.y_test))
    # --test-fraction defaults to 0.2, stratified: 10 of each class's 50 flowers.
    assert len(y_hidden) == round(0.2 * total) and len(x_train) + len(y_hidden) == total
    assert np.bincount(y_hidden).tolist() == [10, 10, 10]
    # The hidden x is what a model takes: scaled with the training part's statistics.
    assert abs(float(x_train.mean())) < 1e-5 and x_hidden.dtype == np.float32

    template = load_design(folder / "template.json")
    assert template.data.dataset == "upload" and template.data.scaling == "none"
    # No template is made for iris: the smallest design that fits it, and Keras agrees.
    assert public["template"] is None
    assert template.node("input").params["shape"] == [4]
    assert template.node("output").params["units"] == 3
    from designer.model.validate import validate

    assert validate(assignments.load(folder).template()).ok


def test_create_with_a_passphrase_from_the_environment_never_prints_it(tmp_path, capsys):
    os.environ["KD_TEST_PASS"] = "correct horse battery staple"
    try:
        code, out, _ = cli(
            capsys,
            "class",
            "create",
            tmp_path / "b",
            "--dataset",
            "xor",
            "--passphrase-env",
            "KD_TEST_PASS",
            "--test-fraction",
            "0.3",
        )
    finally:
        del os.environ["KD_TEST_PASS"]
    assert code == 0
    assert not any("staple" in line for line in out)
    assert not out[-1].startswith("teacher passphrase:")
    assert passphrase.verify(tmp_path / "b" / "teacher.json", "correct horse battery staple")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset", "nope"], "unknown data set"),
        (["--dataset", "moons", "--lock", "ghost"], "no node 'ghost'"),
        (["--dataset", "moons", "--allow", "Dense,Warp"], "'Warp' is not a layer type"),
        (["--dataset", "moons", "--allow", "Conv2D"], "the template uses Dense"),
        (["--dataset", "moons", "--test-fraction", "1.5"], "between 0 and 1"),
        (["--dataset", "reviews"], "text data sets"),
    ],
)
def test_create_refuses_what_it_cannot_make_with_one_line(tmp_path, capsys, args, message):
    code, out, err = cli(capsys, "class", "create", tmp_path / "c", *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "c" / "assignment.json").exists()


def test_an_existing_assignment_is_never_overwritten(moons_class, capsys):
    folder, _, _ = moons_class
    before = (folder / "hidden" / "test.npz").read_bytes()
    code, _, err = cli(capsys, "class", "create", folder, "--dataset", "moons")
    assert code == 2 and "already holds an assignment" in err
    assert (folder / "hidden" / "test.npz").read_bytes() == before


def test_train_refuses_a_design_that_breaks_rules_with_one_rule_line_each(
    moons_class, tmp_path, capsys
):
    folder, design_file, _ = moons_class
    design = load_design(design_file)
    hidden = next(n for n in design.nodes if n.type == "Dense" and n.id != "output")
    hidden.params["units"] = 64  # far over the 400-parameter budget
    design.node("input").params["shape"] = [3]  # the locked input changed
    design.training.epochs = 12
    bad = tmp_path / "bad.json"
    design.save(bad)
    run = tmp_path / "never"
    code, out, _ = cli(capsys, "train", bad, "--assignment", folder, "--out", run)
    assert code == 1
    assert [line.split(":")[0] for line in out] == [
        "rule max-params",
        "rule max-epochs",
        "rule lock",
    ], out
    params = re.search(r"rule max-params: ([\d,]+) parameters, the limit is 400", out[0])
    assert params, out[0]
    assert not run.exists(), "nothing is trained"
    # --epochs over the cap is refused the same way.
    code, out, _ = cli(capsys, "train", design_file, "--assignment", folder, "--epochs", "9")
    assert code == 1 and out == ["rule max-epochs: 9 epochs, the limit is 8"]


def test_allow_keeps_other_layer_types_out(tmp_path, capsys):
    folder = tmp_path / "allow"
    code, _, err = cli(capsys, "class", "create", folder, "--dataset", "moons", "--allow", "Dense")
    assert code == 0, err
    design = load_design(folder / "template.json")
    design.nodes[1].type, design.nodes[1].params = "Dropout", {"rate": 0.1}
    path = tmp_path / "d.json"
    design.save(path)
    code, out, _ = cli(capsys, "train", path, "--assignment", folder)
    assert code == 1 and out[0].startswith(f"rule allow: {design.nodes[1].id} is a Dropout")


def test_submit_scores_the_run_on_the_hidden_rows(moons_class, capsys):
    import keras

    folder, _, run = moons_class
    code, out, err = cli(capsys, "class", "submit", folder, run, "--name", "Ada L.")
    assert code == 0, err
    score = float(re.fullmatch(r"score: (\d\.\d{4})", out[-1]).group(1))
    # The same number from Keras' own model and the hidden arrays, computed here.
    model = keras.saving.load_model(run / "model.keras", compile=False)
    with np.load(folder / "hidden" / "test.npz") as hidden:
        predicted = model.predict(hidden["x"], verbose=0).argmax(axis=1)
        want = float((predicted == hidden["y"]).mean())
    assert score == pytest.approx(want, abs=1e-4)
    assert score > 0.7, "trained above chance (0.5) on the moons"
    (sub,) = [s for s in read_submissions(folder) if s.name == "Ada L."]
    assert sub.epochs == 8 and sub.params <= 400 and sub.metric == "accuracy"


def test_submit_refusals(moons_class, tmp_path, capsys):
    folder, design_file, run = moons_class
    # A name with markup, or too long: exit 2, nothing recorded.
    for name in ("<b>x</b>", "x" * 33, ""):
        code, _, err = cli(capsys, "class", "submit", folder, run, "--name", name)
        assert code == 2 and "--name" in err
    # The same name again within the rate limit: exit 1.
    assert cli(capsys, "class", "submit", folder, run, "--name", "Rate")[0] == 0
    code, _, err = cli(capsys, "class", "submit", folder, run, "--name", "Rate")
    assert code == 1 and "wait" in err
    # A run trained on the built-in moons (which hold the hidden rows): refused.
    other = tmp_path / "other"
    assert (
        main(
            ["train", str(design_file), "--dataset", "moons", "--out", str(other), "--epochs", "1"]
        )
        == 0
    )
    code, _, err = cli(capsys, "class", "submit", folder, other, "--name", "Sneaky")
    assert code == 1 and "not trained on this assignment's data" in err
    # A closed assignment refuses; reopened, it takes submissions again.
    assert cli(capsys, "class", "close", folder)[0] == 0
    code, _, err = cli(capsys, "class", "submit", folder, run, "--name", "Late")
    assert code == 1 and "closed" in err
    assert cli(capsys, "class", "open", folder)[0] == 0
    assert cli(capsys, "class", "submit", folder, run, "--name", "Late")[0] == 0
    names = [s.name for s in read_submissions(folder)]
    assert "Sneaky" not in names and names.count("Rate") == 1


def test_submit_checks_the_rules_again_on_the_run(moons_class, tmp_path, capsys):
    """Rules tightened after training (or a design.json edited by hand) refuse the run."""
    folder, _, run = moons_class
    strict = tmp_path / "strict"
    strict.mkdir()
    for name in ("assignment.json", "template.json", "teacher.json"):
        (strict / name).write_bytes((folder / name).read_bytes())
    for part in ("data", "hidden"):
        (strict / part).symlink_to((folder / part).resolve())
    public = json.loads((strict / "assignment.json").read_text())
    public["rules"]["max_epochs"] = 3
    (strict / "assignment.json").write_text(json.dumps(public))
    code, out, _ = cli(capsys, "class", "submit", strict, run, "--name", "Bo")
    assert code == 1 and out == ["rule max-epochs: 8 epochs, the limit is 3"]
    assert read_submissions(strict) == []


def test_leaderboard_lines_and_csv(tmp_path, capsys):
    folder = tmp_path / "lb"
    folder.mkdir()
    (folder / "assignment.json").write_text(
        json.dumps(
            {
                "title": "t",
                "dataset": "moons",
                "task": "classification",
                "test_fraction": 0.2,
                "seed": 1,
                "n_train": 1,
                "n_hidden": 1,
            }
        )
    )
    from designer.classroom.submissions import append

    rows = [("Ann Lee", 0.8), ("Bo", 0.9), ("Ann Lee", 0.95), ("Cy", 0.9), ("Bo", 0.7)]
    for i, (name, score) in enumerate(rows):
        append(folder, Submission(name, score, 100 + i, 5, f"/runs/{i}", 1000.0 + i))
    code, out, _ = cli(capsys, "class", "leaderboard", folder, "--csv", tmp_path / "all.csv")
    assert code == 0
    # Best first; Bo reached 0.9 before Cy did; the name last, spaces and all.
    assert out == ["1 0.9500 2 Ann Lee", "2 0.9000 2 Bo", "3 0.9000 1 Cy"]
    lines = (tmp_path / "all.csv").read_text().splitlines()
    assert lines[0] == "name,score,params,epochs,run,submitted_at" and len(lines) == 6


KILLED_WRITER = """
import sys, time
from designer.classroom.submissions import Submission, append
folder = sys.argv[1]
for i in range(100000):
    append(folder, Submission(f"s{i % 30}", i / 1e5, i, 1, f"r{i}", time.time()))
    print(i, flush=True)  # confirmed: on disk (fsync) before this line
"""


def test_kill_9_during_a_stream_of_submissions_loses_none_that_were_confirmed(tmp_path):
    proc = subprocess.Popen(
        [PY, "-c", KILLED_WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    confirmed = []
    deadline = time.time() + 60
    while len(confirmed) < 300 and time.time() < deadline:
        confirmed.append(int(proc.stdout.readline()))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(confirmed) >= 300
    recorded = {s.run for s in read_submissions(tmp_path)}
    assert {f"r{i}" for i in confirmed} <= recorded
    # Every line in the file is whole JSON except, at most, the one cut by the kill.
    lines = Path(tmp_path, "submissions.jsonl").read_bytes().split(b"\n")
    broken = [line for line in lines[:-1] if line and not line.endswith(b"}")]
    assert broken == []


def test_the_hidden_rows_are_in_no_file_a_student_can_reach(moons_class):
    """The folder's public files and a student's run directory hold none of the hidden rows."""
    folder, _, run = moons_class
    with np.load(folder / "hidden" / "test.npz") as hidden:
        rows = {row.tobytes() for row in hidden["x"]}
    with np.load(folder / "data" / "train.npz") as train:
        assert not rows & {row.tobytes() for row in train["x"]}
    reachable = [folder / "assignment.json", folder / "template.json"]
    reachable += [p for p in run.rglob("*") if p.is_file()]
    for path in reachable:
        data = path.read_bytes()
        assert not any(r in data for r in rows), f"a hidden row's bytes are in {path}"
    assert assignments.load(folder).n_hidden == len(rows)
