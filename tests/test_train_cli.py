"""`keras-designer datasets / train / runs`: output lines and exit codes, as scripts use them.

Commands that train run as real subprocesses (each starts a training process that imports
TensorFlow); the two independent ones run side by side.
"""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from designer.cli import main
from designer.design import templates
from designer.training import rundir

PY = sys.executable
TIMEOUT = 300


def start(*args, cwd, env=None):
    return subprocess.Popen(
        [PY, "-m", "designer.cli", *args],
        cwd=cwd,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def finish(proc):
    out, err = proc.communicate(timeout=TIMEOUT)
    assert "Traceback" not in err, err
    return proc.returncode, out, err


def test_datasets_lists_one_data_set_per_line_id_first(capsys):
    from designer.data import list_datasets

    assert main(["datasets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == [d.id for d in list_datasets()]
    assert lines[0].startswith("moons\tclassification\t2\t")


def test_runs_lists_id_status_epochs_and_best_validation_metric(tmp_path, capsys):
    done = tmp_path / "a-finished"
    done.mkdir()
    rundir.write_status(done, "finished", pid=os.getpid())
    rundir.write_history(
        done, [{"epoch": 1, "val_accuracy": 0.5}, {"epoch": 2, "val_accuracy": 0.75}]
    )
    dead = subprocess.Popen([PY, "-c", "pass"])
    dead.wait()
    crashed = tmp_path / "b-crashed"
    crashed.mkdir()
    rundir.write_status(crashed, "running", pid=dead.pid)
    rundir.write_history(crashed, [{"epoch": 1, "loss": 0.25}])
    assert main(["runs", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "a-finished\tfinished\t2\tval_accuracy=0.75",
        "b-crashed\tinterrupted\t1\tloss=0.25",
    ]
    assert main(["runs", str(tmp_path / "nowhere")]) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "not-a-design.json", "--out", "r"], "not a design"),
        (["train", "design.json", "--dataset", "no_such_set", "--out", "r"], "unknown data set"),
        (["train", "design.json", "--data", "missing.csv", "--target", "y"], "no such file"),
        (["train", "--resume", "no-such-run", "--epochs", "1"], "no saved model"),
        (["train", "--resume", "no-such-run"], "--epochs"),
        (["train", "design.json", "--epochs", "0"], "at least 1"),
        (["train"], "design file"),
        (
            ["train", "design.json", "--address", "127.0.0.1:6379"],
            "--address goes with --executor ray",
        ),
        (["train", "design.json", "--devices", "0"], "--devices must be between 1 and 64"),
        (
            ["train", "design.json", "--devices", "4", "--batch-size", "2"],
            "cannot be split over 4 devices",
        ),
        (
            ["sweep", "design.json", "--set", "dense.units=8,16", "--out", "s", "--devices", "99"],
            "--devices must be",
        ),
    ],
)
def test_unreadable_input_exits_2_with_one_line(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    templates.get("digits-mlp").save(tmp_path / "design.json")
    (tmp_path / "not-a-design.json").write_text("[1, 2")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists() or not rundir.is_run_dir(tmp_path / "r")


def _csv(path, n=240):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3))
    label = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    rows = ["a,b,c,label"] + [f"{a:.4f},{b:.4f},{c:.4f},{t}" for (a, b, c), t in zip(x, label)]
    path.write_text("\n".join(rows) + "\n")


def test_train_a_csv_then_resume_then_list_and_a_misfit_design(tmp_path):
    from designer.design.spec import Design, Edge, Node

    _csv(tmp_path / "points.csv")
    nodes = [
        Node("features", "Input", {"shape": [3]}),
        Node("hidden", "Dense", {"units": 8, "activation": "relu"}),
        Node("output", "Dense", {"units": 2, "activation": "softmax"}),
    ]
    Design(nodes, [Edge("features", "hidden"), Edge("hidden", "output")], name="csv").save(
        tmp_path / "csv.json"
    )
    templates.get("moons-mlp").save(tmp_path / "moons.json")

    csv_run = start(
        "train",
        "csv.json",
        "--data",
        "points.csv",
        "--target",
        "label",
        "--epochs",
        "2",
        "--out",
        "runs/csv",
        cwd=tmp_path,
    )
    misfit = start(
        "train", "moons.json", "--dataset", "digits", "--out", "runs/misfit", cwd=tmp_path
    )

    code, out, err = finish(misfit)
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0].startswith("input: Input shape is (2,) but data set 'digits' gives (8, 8, 1)")
    assert lines[1].startswith("output: the output has 2 units but 'digits' has 10 classes")
    assert rundir.read_status(tmp_path / "runs/misfit")["status"] == "failed"

    code, out, err = finish(csv_run)
    assert code == 0, err
    assert out.startswith("runs/csv: finished after 2 epochs; test accuracy ")
    assert "epoch 2/2: " in err  # one progress line per epoch when stderr is not a terminal
    # Only the command's own lines: nothing of TensorFlow's (it logs to the run's log.txt).
    ours = re.compile(r"^(training \d+ epochs, \d+ batches each|epoch \d+/\d+: )")
    assert [line for line in err.splitlines() if not ours.match(line)] == [], err
    assert len(rundir.read_history(tmp_path / "runs/csv")) == 2

    code, out, err = finish(start("train", "--resume", "runs/csv", "--epochs", "1", cwd=tmp_path))
    assert code == 0, err
    assert "finished after 3 epochs" in out
    assert [r["epoch"] for r in rundir.read_history(tmp_path / "runs/csv")] == [1, 2, 3]
    assert json.loads((tmp_path / "runs/csv/metrics.json").read_text())["task"] == "classification"

    code, out, err = finish(start("runs", "runs", cwd=tmp_path))
    assert code == 0
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines()}
    assert rows["csv"][:2] == ["finished", "3"] and rows["csv"][2].startswith("val_accuracy=")
    assert rows["misfit"] == ["failed", "0", "-"]

    code, _, err = finish(
        start(
            "train",
            "csv.json",
            "--data",
            "points.csv",
            "--target",
            "label",
            "--out",
            "runs/csv",
            cwd=tmp_path,
        )
    )
    assert code == 2 and "already holds a run" in err
