"""Training: the job registry, child processes, run directories, and what a user sees.

Jobs that go through the registry run in child processes (TensorFlow import included, ~10 s
each on 2 cores), so the tests share runs: one digits run feeds the rerun, reopen, evaluate
and resume tests, and the failure/NaN/kill jobs train side by side.
"""

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from designer.design import templates
from designer.design.spec import CompileSpec, Node
from designer.training import (
    Registry,
    default_registry,
    list_runs,
    read_history,
    read_status,
    resume_training,
    rundir,
    start_training,
)
from designer.training.job import Job
from designer.training.request import TrainRequest

from helpers.waiting import WAIT
from helpers.waiting import wait_for as _wait_for


@pytest.fixture(scope="module", autouse=True)
def _processes_start_early(side_jobs):
    """Training processes spend ~10 s importing TensorFlow: start them before the quick tests
    run, a spare for the digits run included, so that those seconds overlap."""
    default_registry().prewarm()


# ---- no TensorFlow needed ----------------------------------------------------------------------
def test_importing_training_does_not_import_tensorflow():
    code = (
        "import sys, designer.training, designer.training.registry, designer.training.worker\n"
        "assert not {'tensorflow', 'keras', 'streamlit'} & set(sys.modules), sys.modules.keys()"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_a_running_status_whose_process_died_reads_interrupted(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    run = tmp_path / "crashed"
    run.mkdir()
    (run / "design.json").write_text("{}")
    rundir.write_status(run, "running", pid=proc.pid, epochs_done=3)
    assert read_status(run)["status"] == "interrupted"
    rundir.write_status(run, "running", pid=os.getpid())  # this process is alive
    assert read_status(run)["status"] == "running"
    (run / "status.json").write_text("{not json")
    assert read_status(run)["status"] == "interrupted"
    assert [(r.id, r.status) for r in list_runs(tmp_path)] == [("crashed", "interrupted")]


def test_history_csv_keeps_one_row_per_epoch_and_grows_columns(tmp_path):
    rows = [{"epoch": 1, "loss": 0.5, "accuracy": 0.8}, {"epoch": 2, "loss": float("nan")}]
    rundir.write_history(tmp_path, rows)
    rows.append({"epoch": 3, "loss": 0.3, "val_loss": 0.4})
    rundir.write_history(tmp_path, rows)
    back = read_history(tmp_path)
    assert (
        tmp_path.joinpath("history.csv").read_text().splitlines()[0]
        == "epoch,loss,accuracy,val_loss"
    )
    assert [r["epoch"] for r in back] == [1, 2, 3]
    assert math.isnan(back[1]["loss"]) and math.isnan(back[0]["val_loss"])
    assert rundir.best_metric(back) == ("val_loss", 0.4)
    assert rundir.best_metric([{"epoch": 1, "val_accuracy": 0.7}, {"val_accuracy": 0.9}]) == (
        "val_accuracy",
        0.9,
    )


def test_job_snapshot_and_events_from_a_fake_training_process(tmp_path):
    job = Job("r1", TrainRequest(str(tmp_path), {}, epochs=4))
    assert job.snapshot().status == "queued"
    job.attach(1234, threading.Event(), threading.Event())
    job.record(
        {
            "type": "start",
            "pid": 1234,
            "epochs": 4,
            "initial_epoch": 0,
            "batches": 10,
            "task": "classification",
            "kind": "image",
            "class_names": ["a"],
            "history": [],
        }
    )
    job.record({"type": "batch", "epoch": 1, "batch": 5, "batches": 10, "logs": {"loss": 1.0}})
    _, cursor = job.events_since(0)
    job.record(
        {
            "type": "epoch",
            "epoch": 1,
            "epochs": 4,
            "duration": 2.0,
            "logs": {"epoch": 1, "loss": 0.9},
        }
    )
    new, cursor2 = job.events_since(cursor)
    assert [e["type"] for e in new] == ["epoch"] and cursor2 == cursor + 1
    snap = job.snapshot()
    assert snap.status == "running" and snap.epoch == 1 and snap.epochs == 4
    assert snap.eta_s == 6.0  # three epochs to go at 2 s each
    assert snap.batch_metrics[-1] == {"epoch": 1, "batch": 5, "step": 5, "loss": 1.0}
    for i in range(6000):  # old batch events are dropped, sequence numbers stay stable
        job.record({"type": "batch", "epoch": 2, "batch": i % 10 + 1, "batches": 10, "logs": {}})
    events, cursor3 = job.events_since(0)
    assert len(events) <= 5000 and cursor3 == cursor2 + 6000
    assert [e["type"] for e in events[:2]] == ["start", "epoch"]
    assert json.dumps(dataclasses.asdict(job.snapshot()))  # plain data, nothing live
    job.record({"type": "done", "status": "finished", "metrics": {"accuracy": 1.0}})
    assert job.wait(1) == "finished" and job.snapshot().eta_s == 0.0


def test_unfreezing_a_transfer_design_makes_every_base_trainable():
    from designer.model.augmentation import base_node_ids, unfreeze_bases

    design = templates.get("transfer-mobilenetv2")
    assert base_node_ids(design) == ["base"]
    assert unfreeze_bases(design).node("base").params["trainable"] is True
    assert design.node("base").params["trainable"] is False  # the original is untouched


def test_a_training_process_does_not_rerun_the_streamlit_page(tmp_path):
    """Streamlit leaves the last page script as __main__; a plain spawn would run it again in
    the child (as __mp_main__): widgets, maybe another Train click."""
    from streamlit.testing.v1 import AppTest

    from designer.training.spawn import TrainingProcess

    marker = tmp_path / "ran"
    page = tmp_path / "page.py"
    page.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text(__name__)\n")
    AppTest.from_file(str(page), default_timeout=120).run()
    assert marker.read_text() == "__main__"
    marker.unlink()
    child = TrainingProcess(target=time.sleep, args=(0,))
    child.start()
    child.join(60)
    assert child.exitcode == 0 and not marker.exists()


# ---- Keras in this process ---------------------------------------------------------------------
def test_augmentation_is_a_block_after_the_input_and_idle_at_inference():
    from designer.model.augmentation import build_training_model

    design = templates.get("digits-mlp")
    design.augmentation = [
        Node("rot", "RandomRotation", {"factor": 0.2}),
        Node("zoom", "RandomZoom", {"height_factor": 0.2}),
    ]
    model = build_training_model(design, offline=True)
    assert [layer.name for layer in model.layers[:3]] == ["input", "augmentation", "flatten"]
    x = np.random.default_rng(0).random((4, 8, 8, 1)).astype("float32")
    block = model.get_layer("augmentation")
    np.testing.assert_allclose(block(x, training=False), x)
    assert not np.allclose(block(x, training=True), x)


def _train_in_process(tmp_path, template, epochs, design=None, **request):
    """The child's own training function, called directly (same code, no process)."""
    from designer.training.callbacks import Control
    from designer.training.worker import train

    design = design or templates.get(template)
    events = []
    req = TrainRequest(str(tmp_path), design.to_dict(), epochs, **request)
    done = train(req, events.append, Control())
    return done, events


def test_moons_mlp_separates_the_moons_and_streams_a_decision_grid(tmp_path):
    done, events = _train_in_process(tmp_path, "moons-mlp", epochs=10)
    assert done["status"] == "finished"
    assert done["metrics"]["accuracy"] >= 0.95
    grids = [e["grid"] for e in events if e["type"] == "epoch"]
    assert len(grids) == 10
    grid = grids[-1]
    assert len(grid["xs"]) == len(grid["ys"]) == 40
    probs = np.array(grid["probs"])
    assert probs.shape == (40, 40, 2) and np.allclose(probs.sum(axis=-1), 1, atol=1e-3)
    assert set(np.unique(grid["labels"])) == {0, 1}  # both classes own part of the plane


def test_diabetes_mlp_beats_predicting_the_mean(tmp_path):
    done, _ = _train_in_process(tmp_path, "diabetes-mlp", epochs=10)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert done["status"] == "finished"
    assert metrics["r2"] > 0 and metrics["mse"] < metrics["baseline_mse"]


def test_text_lstm_learns_the_made_up_reviews_offline(tmp_path):
    done, _ = _train_in_process(tmp_path, "text-lstm", epochs=4)
    assert done["status"] == "finished"
    assert done["metrics"]["accuracy"] > 0.6  # two balanced classes: chance is 0.5


def test_a_nan_loss_ends_with_status_nan_and_keeps_the_files(tmp_path):
    design = templates.get("diabetes-mlp")
    # Plain SGD with a huge step on unscaled targets: the loss explodes within a few batches.
    design.compile = CompileSpec(
        loss="mean_squared_error", optimizer="SGD", optimizer_params={"learning_rate": 5.0}
    )
    done, events = _train_in_process(tmp_path, None, epochs=5, design=design)
    assert done["status"] == "nan" and "NaN" in done["error"]
    assert read_status(tmp_path)["status"] == "nan"
    assert not (tmp_path / "metrics.json").exists()
    assert math.isnan(read_history(tmp_path)[-1]["val_loss"])


def test_an_error_inside_fit_ends_failed_with_its_message(tmp_path):
    design = templates.get("digits-mlp")
    done, _ = _train_in_process(
        tmp_path, None, epochs=3, design=design, hooks={"raise_at_epoch": 2}, limit=200
    )
    assert done["status"] == "failed" and done["error_kind"] == "training"
    assert "injected failure at epoch 2" in done["error"]
    status = read_status(tmp_path)
    assert status["status"] == "failed" and "injected failure" in status["error"]
    assert len(read_history(tmp_path)) == 1


def test_a_stop_file_stops_a_run_that_no_registry_owns(tmp_path):
    """After a server restart, the run's process is nobody's job: the stop file reaches it."""
    from designer.training import request_stop
    from designer.training.callbacks import Control
    from designer.training.worker import train

    def emit(event):
        if event["type"] == "epoch":
            request_stop(tmp_path)

    (tmp_path / "stop").touch()  # a stale request from an earlier run does not count
    design = templates.get("digits-mlp")
    req = TrainRequest(str(tmp_path), design.to_dict(), 50, limit=200)
    done = train(req, emit, Control(run_dir=tmp_path))
    assert done["status"] == "stopped" and len(read_history(tmp_path)) <= 2


def test_data_mistakes_are_caught_before_a_process_starts(tmp_path):
    from designer.design.spec import DataSpec
    from designer.training import TrainingError

    design = templates.get("digits-mlp")
    for data, message in (
        (DataSpec(), "no data yet"),
        ("no_such_set", "unknown data set"),
        (DataSpec(dataset="upload", path=str(tmp_path / "x.csv")), "no such file"),
    ):
        with pytest.raises(TrainingError, match=message):
            start_training(design, data=data, root=tmp_path, registry=Registry())
    # A design with two Input layers: the data sets feed one, and the message says what to do.
    with pytest.raises(TrainingError, match="2 inputs .*export the Python script"):
        start_training(
            templates.get("two-inputs"), data="digits", root=tmp_path, registry=Registry()
        )
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]  # no run directory left behind


# ---- through the registry: child processes -----------------------------------------------------
APP = """
import keras
import streamlit as st
from designer.training import default_registry

keras.backend.clear_session()  # what Streamlit itself does after every rerun
job = default_registry().get({run_id!r})  # a rerun finds the job again by its run id
st.write(f"{{job.snapshot().status}} epoch {{job.snapshot().epoch}}")
"""


@pytest.fixture(scope="module")
def side_jobs(tmp_path_factory):
    """Two slow, endless runs to pause, stop and kill, started with the digits run so that
    their processes start up side by side, and a third job that has to wait in the queue."""
    root = tmp_path_factory.mktemp("side")
    registry = Registry(max_concurrent=2)
    digits = templates.get("digits-mlp")
    slow = {"batch_delay": 0.1}  # ~3.5 s per epoch, light on the CPU
    jobs = {
        "stop": start_training(digits, root=root, epochs=1000, registry=registry, hooks=slow),
        "kill": start_training(digits, root=root, epochs=1000, registry=registry, hooks=slow),
    }
    queued = start_training(digits, root=root, epochs=1, registry=registry)
    # The two above hold both slots for as long as they train (they never end by themselves).
    _wait_for(lambda: jobs["stop"].status == jobs["kill"].status == "running")
    jobs["queued_snapshot"] = queued.snapshot()
    queued.stop()
    jobs["queued"] = queued
    yield jobs
    registry.shutdown()


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """digits-mlp trained for 20 epochs through the default registry while a Streamlit page
    that imports Keras and clears its session is rerun 20 times."""
    from streamlit.testing.v1 import AppTest

    root = tmp_path_factory.mktemp("runs")
    job = start_training(templates.get("digits-mlp"), root=root, hooks={"batch_delay": 0.01})
    default_registry().prewarm()  # a spare process for the resume test, warmed meanwhile
    script = root / "page.py"
    script.write_text(APP.format(run_id=job.run_id))
    app = AppTest.from_file(str(script), default_timeout=120)
    reruns_during_fit, held = 0, False
    deadline = time.monotonic() + WAIT
    while reruns_during_fit < 20 and not job.done and time.monotonic() < deadline:
        if job.snapshot().epoch >= 12 and not held:
            # Reruns are slow on a busy machine; rather than let the run end first, hold it
            # (paused inside fit, the state an in-process trainer would lose) until all 20
            # reruns are done, then let it finish its last epochs.
            job.pause()
            held = True
        in_fit = job.snapshot().phase == "training"
        app.run()
        assert not app.exception
        if in_fit and job.snapshot().phase == "training":
            reruns_during_fit += 1
    job.resume()
    job.wait(WAIT)
    app.run()
    return job, reruns_during_fit, app.markdown[0].value


def test_training_survives_streamlit_clearing_the_keras_session(digits_run):
    job, reruns, shown = digits_run
    snap = job.snapshot()
    assert reruns == 20
    assert snap.status == "finished", snap.last_error
    assert snap.epoch == snap.epochs == 20 and len(snap.history) == 20
    assert shown == "finished epoch 20"


def test_digits_mlp_reaches_90_percent_in_20_epochs(digits_run):
    job, _, _ = digits_run
    assert job.snapshot().metrics["accuracy"] >= 0.90


def test_a_run_directory_reopens_and_reproduces_its_metrics(digits_run):
    from designer.report.evaluate import evaluate_run, load_run_model

    run = digits_run[0].run_dir
    assert {
        "design.json",
        "run.json",
        "status.json",
        "history.csv",
        "metrics.json",
        "model.keras",
        "best.keras",
    } <= {p.name for p in run.iterdir()}
    saved = json.loads((run / "metrics.json").read_text())
    assert len(saved["confusion_matrix"]) == 10 and len(saved["per_class"]) == 10
    history = read_history(run)
    assert [r["epoch"] for r in history] == list(range(1, 21))
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history[0])
    status = read_status(run)
    assert status["status"] == "finished" and status["epochs_done"] == status["model_epoch"] == 20
    model = load_run_model(run)  # safe mode
    result = evaluate_run(run, model=model)
    assert result.metrics["accuracy"] == pytest.approx(saved["accuracy"])
    assert result.metrics["confusion_matrix"] == saved["confusion_matrix"]
    assert all(result.y_true[m["index"]] != m["predicted"] for m in result.mistakes)
    assert load_run_model(run, "best").count_params() == model.count_params()
    assert [r.status for r in list_runs(run.parent)] == ["finished"]


def test_resume_with_fine_tuning_appends_epochs_at_a_tenth_of_the_rate(digits_run):
    run = digits_run[0].run_dir
    before = read_history(run)
    job = resume_training(run, epochs=2, fine_tune=True)
    assert job.wait(WAIT) == "finished", job.snapshot().last_error
    after = read_history(run)
    assert [r["epoch"] for r in after] == list(range(1, 23))
    assert after[:20] == before
    assert after[-1]["learning_rate"] == pytest.approx(before[-1]["learning_rate"] / 10)
    assert read_status(run)["epochs_done"] == 22
    assert job.snapshot().initial_epoch == 20


def test_a_queued_job_waits_its_turn_and_can_be_cancelled(side_jobs):
    seen, job = side_jobs["queued_snapshot"], side_jobs["queued"]
    assert seen.status == "queued" and seen.queue_position == 1
    assert job.wait(10) == "stopped" and job.snapshot().pid is None  # never started
    assert read_status(job.run_dir)["status"] == "stopped"


def test_pause_then_stop_within_one_batch(side_jobs):
    job = side_jobs["stop"]
    _wait_for(lambda: job.snapshot().epoch >= 1)
    job.pause()
    _wait_for(lambda: job.status == "paused")
    paused = job.snapshot()
    time.sleep(1.0)
    assert job.snapshot().batch == paused.batch  # no training while paused
    assert job.snapshot().elapsed == paused.elapsed  # and the clock stands still
    assert read_status(job.run_dir)["status"] == "paused"
    job.resume()
    _wait_for(lambda: job.status == "running" and job.snapshot().batch != paused.batch)

    def position(batch_event):
        return (batch_event["epoch"] - 1) * batch_event["batches"] + batch_event["batch"]

    at_stop = position([e for e in job.events_since(0)[0] if e["type"] == "batch"][-1])
    job.stop()
    assert job.wait(WAIT) == "stopped"
    snap = job.snapshot()
    last = position([e for e in job.events_since(0)[0] if e["type"] == "batch"][-1])
    assert last - at_stop <= 2  # the batch under way, perhaps one more: not the whole epoch
    assert snap.epoch < 1000 and read_status(job.run_dir)["status"] == "stopped"
    assert len(read_history(job.run_dir)) == snap.epoch
    assert json.loads((job.run_dir / "metrics.json").read_text())["accuracy"] > 0.3


def test_a_training_process_killed_mid_run_is_interrupted_and_its_files_readable(side_jobs):
    from designer.report.evaluate import load_run_model

    job = side_jobs["kill"]
    _wait_for(lambda: job.snapshot().epoch >= 1 or job.done)
    os.kill(job.snapshot().pid, signal.SIGKILL)
    assert job.wait(WAIT) == "interrupted"
    assert "signal 9" in job.snapshot().last_error
    assert read_status(job.run_dir)["status"] == "interrupted"
    epochs = len(read_history(job.run_dir))
    assert 1 <= epochs < 1000
    assert load_run_model(job.run_dir).count_params() > 0


def test_checkpoints_and_measurements_are_held_to_their_share_of_the_training_time():
    # The runner's saves and distribution probes must not slow a fast run down: a piece of
    # work that cost c seconds is next due c / share seconds later, within floor and ceiling.
    from designer.training.callbacks import Budget

    now = [100.0]
    budget = Budget(share=0.01, floor=2.0, ceiling=60.0, clock=lambda: now[0])
    assert budget.due()  # the first is due at once (epoch 1 is always saved)
    budget.spent(now[0] - 0.1)  # a 0.1 s save: next due 10 s later
    now[0] += 9.9
    assert not budget.due()
    now[0] += 0.2
    assert budget.due()
    budget.spent(now[0] - 5.0)  # a 5 s save would wait 500 s: a crash loses at most a minute
    now[0] += 59.9
    assert not budget.due()
    now[0] += 0.2
    assert budget.due()
    budget.spent(now[0] - 0.001)  # a 1 ms save still waits the floor, 2 s
    now[0] += 1.9
    assert not budget.due()
    now[0] += 0.2
    assert budget.due()
