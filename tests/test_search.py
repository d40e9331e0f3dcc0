"""keras-designer search: its exact command-line contract on digits (trials on disk, trials.csv,
a best design that reopens and trains, ``best: X`` last, --resume continuing the same study,
exit 2 before anything trains), and the driver's pruning and failed trials."""

from __future__ import annotations

import csv
import json
import os
import re
import threading

import pytest

from designer.cli import main
from designer.design import templates
from designer.design.spec import load
from designer.experiments import study
from designer.experiments.search import Search
from designer.training import Registry, read_history, read_status

BEST = re.compile(r"^best: (\d+(?:\.\d+)?)$")
SPACE = ["--space", "dense.units=int:8:64:log", "--space", "dropout.enabled=choice:true,false"]


@pytest.fixture
def design_file(tmp_path):
    d = templates.get("digits-mlp")
    d.training.checkpoint = False  # one model save per run, not one per epoch
    path = tmp_path / "design.json"
    d.save(path)
    return path


def rows(out) -> list[dict]:
    with open(out / study.TRIALS_FILE, newline="") as f:
        return list(csv.DictReader(f))


def test_a_search_on_digits_leaves_trials_a_table_and_a_best_design_that_trains(
    tmp_path, design_file, capsys
):
    from designer.model.build import build_model
    from designer.model.validate import validate

    out = tmp_path / "search"
    args = ["--trials", "3", "--epochs", "2", "--limit", "300", "--jobs", "2", "--out", str(out)]
    code = main(["search", str(design_file), "--dataset", "digits", *SPACE, *args])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    best = BEST.match(printed.out.strip().splitlines()[-1])
    assert best, printed.out
    assert 0.2 < float(best.group(1)) <= 1.0  # ten classes: chance is 0.1

    with open(out / study.TRIALS_FILE, newline="") as f:
        assert next(csv.reader(f)) == ["number", "state", "value", "dense.units", "dropout.enabled"]
    table = rows(out)
    assert [r["number"] for r in table] == ["0", "1", "2"]
    assert {r["state"] for r in table} <= {"complete", "pruned", "failed"}
    complete = [r for r in table if r["state"] == "complete"]
    assert complete and max(float(r["value"]) for r in complete) == pytest.approx(
        float(best.group(1)), rel=1e-5
    )
    for r in table:
        assert 8 <= int(r["dense.units"]) <= 64 and r["dropout.enabled"] in ("true", "false")
    trials = sorted((out / study.TRIALS_DIR).iterdir())
    assert len(trials) == 3
    for run in trials:
        assert read_status(run)["status"] in ("finished", "stopped")
        assert 1 <= len(read_history(run)) <= 2
    # The first trial is the design as it was (its values are in the space).
    assert table[0]["dense.units"] == "64" and table[0]["dropout.enabled"] == "true"

    best_design = load(out / study.BEST_DIR / "design.json")
    assert validate(best_design).ok
    winner = max(complete, key=lambda r: float(r["value"]))
    assert best_design.node("dense").params["units"] == int(winner["dense.units"])
    assert ("dropout" in best_design.node_ids()) == (winner["dropout.enabled"] == "true")
    assert build_model(best_design).output_shape == (None, 10)

    # --resume continues the same study with --trials more: numbers go on, the space is kept.
    code = main(["search", "--resume", "--trials", "1", "--jobs", "1", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert BEST.match(printed.out.strip().splitlines()[-1])
    assert [r["number"] for r in rows(out)] == ["0", "1", "2", "3"]
    assert len(list((out / study.TRIALS_DIR).iterdir())) == 4
    assert len(study.load_study(out).get_trials()) == 4
    assert json.loads((out / study.SEARCH_FILE).read_text())["trials"] == 4


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ("nope.units=int:8:16", "no node 'nope'"),
        ("dense.filters=int:8:16", "has no parameter 'filters'"),
        ("dense.units=int:0:16", "0 is refused"),
        ("dropout.rate=float:0:2", "2 is refused"),
        ("output.enabled=choice:true,false", "is an output of the model"),
        ("dense.units=int:8", "int:LOW:HIGH"),
    ],
)
def test_a_bad_space_is_exit_2_with_one_line_before_anything_trains(
    tmp_path, design_file, capsys, space, message
):
    out = tmp_path / "search"
    code = main(["search", str(design_file), "--space", space, "--trials", "2", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and message in err, err
    assert not out.exists()


class ThreadExecutor:
    """Trains each job in the registry's thread with the real worker: the driver sees every
    epoch as it ends and its stop reaches the training within a batch, without a child process
    per trial. ``fail``: run names whose training raises at its second epoch."""

    name = "local"

    def __init__(self, fail=()):
        self.fail = set(fail)

    def describe(self):
        return "this thread"

    def prewarm(self):
        pass

    def shutdown(self):
        pass

    def run(self, job, stop_grace):
        from designer.training.callbacks import Control
        from designer.training.worker import train

        stop, pause = threading.Event(), threading.Event()
        job.attach(os.getpid(), stop, pause)
        if job.run_id in self.fail:
            job.request.hooks["raise_at_epoch"] = 2
        train(job.request, job.record, Control(stop, pause, job.request.run_dir))


def test_a_bad_learning_rate_is_pruned_early_and_a_failed_trial_does_not_stop_the_search(
    tmp_path,
):
    design = templates.get("digits-mlp")
    design.training.checkpoint = False
    design.compile.optimizer_params["learning_rate"] = 0.01
    out = tmp_path / "s"
    plan = study.make_plan(
        design,
        ["compile.learning_rate=choice:0.01,0.000001"],
        epochs=4,
        data="digits",
        limit=300,
    )
    study.create_study(out, plan)  # trial 0: the design as it is (0.01)
    queued = study.load_study(out)
    for lr in (0.01, 0.01, 0.000001):  # 1 good, 2 good but crashes, 3 hopeless
        queued.enqueue_trial({"compile.learning_rate": lr})
    registry = Registry(max_concurrent=1, executor=ThreadExecutor(fail={"s-t002"}))
    # Each batch a little slower, so the pruner's word reaches the run before its last epoch.
    Search(out, registry=registry, jobs=1, hooks={"batch_delay": 0.02}).run(4)

    table = rows(out)
    assert [r["state"] for r in table] == ["complete", "complete", "failed", "pruned"]
    assert table[3]["compile.learning_rate"] == "1e-06"
    # A pruned trial's value is its last reported epoch (Optuna's rule): behind both complete.
    assert float(table[3]["value"]) < min(float(r["value"]) for r in table[:2])
    pruned = out / study.TRIALS_DIR / "s-t003"
    status = read_status(pruned)
    assert status["status"] == "stopped"
    assert "pruned by the median rule" in status["reason"]
    assert len(read_history(pruned)) < 4  # stopped before its last epoch
    assert "pruned by the median rule" in (pruned / "log.txt").read_text()
    failed = read_status(out / study.TRIALS_DIR / "s-t002")
    assert failed["status"] == "failed"
    best = load(out / study.BEST_DIR / "design.json")
    assert best.compile.optimizer_params["learning_rate"] == 0.01
