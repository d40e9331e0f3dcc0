"""The ray executor on a local Ray instance (2 CPUs): jobs run as Ray actors, and their run
directories come back to the launching side complete. Without the ray extra every test here
fails (./run.sh installs it)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time

import pytest

from designer.design import templates
from designer.training import (
    Registry,
    raycluster,
    read_history,
    read_status,
    resume_training,
    start_training,
)
from designer.training.raycluster import Node, resources
from designer.training.remote import RayExecutor

PY = sys.executable
# Lines a sweep may print on stderr: ours, one per finished run. Ray's banners, token notices
# and C++ warnings must not show up.
OUR_STDERR = re.compile(r"^\[\d+/\d+\] \S+ (finished|stopped|failed|nan|interrupted)\b")


def cli(*args, timeout=600):
    return subprocess.run(
        [PY, "-m", "designer.cli", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module", autouse=True)
def ray_installed():
    """A missing extra fails every test here with one clear line, rather than skipping them.
    find_spec, not import: Ray must be imported by our code, which sets its mode first."""
    if importlib.util.find_spec("ray") is None:
        pytest.fail(
            "the ray extra is not installed: pip install 'keras-designer[ray]' "
            "(./run.sh installs it by default)",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def registry():
    executor = RayExecutor(num_cpus=2)
    executor.connect()
    reg = Registry(max_concurrent=2, executor=executor)
    yield reg
    reg.shutdown()
    raycluster.disconnect()  # the next module in this process starts without Ray


def digits(epochs=2):
    d = templates.get("digits-mlp")
    d.training.epochs = epochs
    return d


def test_a_sweep_of_four_runs_through_ray_completes_every_run_directory_here(tmp_path):
    design = tmp_path / "design.json"
    digits().save(design)
    out = tmp_path / "sweep"
    result = cli(
        "sweep",
        str(design),
        "--set",
        "dense.units=16,32",
        "--set",
        "compile.learning_rate=0.01,0.003",
        "--epochs",
        "2",
        "--executor",
        "ray",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    noise = [ln for ln in result.stderr.splitlines() if ln.strip() and not OUR_STDERR.match(ln)]
    assert noise == [], noise
    runs = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(runs) == 4
    import keras

    for run in runs:
        status = json.loads((run / "status.json").read_text())
        assert status["status"] == "finished" and status["executor"] == "ray", status
        assert [r["epoch"] for r in read_history(run)] == [1, 2]
        metrics = json.loads((run / "metrics.json").read_text())
        assert (
            metrics["split"] == "test" and metrics["accuracy"] > 0.2
        )  # ten classes: chance is 0.1
        model = keras.saving.load_model(run / "model.keras")
        assert model.output_shape == (None, 10)
        assert (run / "best.keras").is_file()
    assert "best:" in result.stdout


def test_pausing_and_stopping_a_ray_job_ends_it_stopped_with_its_files_here(registry, tmp_path):
    job = start_training(digits(50), root=tmp_path, registry=registry, hooks={"batch_delay": 0.03})
    deadline = time.monotonic() + 120
    while not job.snapshot().history and time.monotonic() < deadline:
        time.sleep(0.2)
    snap = job.snapshot()
    assert snap.history, snap
    assert snap.where.startswith("ray: ")  # the worker's node, for the run tables
    for ask, status in ((job.pause, "paused"), (job.resume, "running")):
        ask()  # reaches the worker, which says so
        deadline = time.monotonic() + 60
        while job.snapshot().status != status and time.monotonic() < deadline:
            time.sleep(0.1)
        assert job.snapshot().status == status
    job.step()  # the worker pauses itself at the end of the epoch under way
    deadline = time.monotonic() + 60
    while job.snapshot().status != "paused" and time.monotonic() < deadline:
        time.sleep(0.1)
    paused = job.snapshot()
    assert paused.status == "paused" and paused.batch in (0, paused.batches)
    job.stop()
    assert job.wait(120) == "stopped"
    status = read_status(job.run_dir)
    assert status["status"] == "stopped"
    assert status["epochs_done"] == len(read_history(job.run_dir)) == job.snapshot().epoch < 50
    assert (job.run_dir / "model.keras").is_file()

    # Resuming sends the saved model and history to a worker and brings back the longer run.
    more = resume_training(job.run_dir, epochs=1, registry=registry)
    assert more.wait(120) == "finished", more.snapshot().last_error
    assert len(read_history(job.run_dir)) == status["epochs_done"] + 1


def test_a_job_that_raises_on_the_worker_ends_failed_with_the_workers_message(registry, tmp_path):
    job = start_training(digits(5), root=tmp_path, registry=registry, hooks={"raise_at_epoch": 2})
    assert job.wait(120) == "failed"
    message = job.snapshot().last_error
    assert "injected failure at epoch 2" in message
    assert "injected failure at epoch 2" in read_status(job.run_dir)["error"]
    assert len(read_history(job.run_dir)) == 1  # the epoch before the failure is kept


def test_cluster_lists_the_local_instance_with_its_cpus():
    result = cli("cluster", timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "a local Ray instance"
    assert lines[1].split()[:3] == ["node", "status", "CPUs"]
    cpus = os.cpu_count()
    assert re.match(
        rf"^total: 1 node alive, [\d.]+ of {cpus} CPUs free, 0 of 0 GPUs free$", lines[-1]
    ), lines


def test_a_cluster_nobody_answers_at_is_one_line_and_exit_2():
    result = cli("cluster", "--address", "127.0.0.1:1", timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: cannot reach the Ray cluster at 127.0.0.1:1 (Connection refused): "
        "is it started (ray start --head)?"
    ]


def test_resource_requests_follow_the_devices_setting():
    cpu_only = [Node("a", True, 8, 8, 0, 0, 16), Node("b", True, 4, 4, 0, 0, 16)]
    assert resources(1, cpu_only) == {"num_cpus": 1.0, "num_gpus": 0}
    assert resources(2, cpu_only) == {"num_cpus": 2.0, "num_gpus": 0}
    assert resources(16, cpu_only) == {
        "num_cpus": 8.0,
        "num_gpus": 0,
    }  # no node has 16: it would wait forever
    gpus = [Node("a", True, 16, 16, 4, 4, 64), Node("b", False, 16, 0, 8, 0, 64)]
    assert resources(2, gpus) == {"num_cpus": 1, "num_gpus": 2.0}
    assert resources(8, gpus) == {"num_cpus": 1, "num_gpus": 4.0}  # the dead node does not count


def test_files_from_a_worker_stay_inside_the_run_directory(tmp_path):
    from designer.training.remote import _store

    run = tmp_path / "run"
    run.mkdir()
    _store(
        run,
        {
            "history.csv": b"epoch\n1\n",
            "../escaped.txt": b"x",
            "/tmp/abs.txt": b"x",
            "logs/train/events": b"tb",
        },
    )
    assert (run / "history.csv").read_bytes() == b"epoch\n1\n"
    assert (run / "logs" / "train" / "events").is_file()
    assert not (tmp_path / "escaped.txt").exists() and not (run / "tmp").exists()


def test_an_uploaded_csv_travels_with_the_job_to_the_worker(registry, tmp_path):
    from test_train_cli import _csv  # the tests directory is on sys.path

    from designer.design.spec import DataSpec, Design, Edge, Node

    _csv(tmp_path / "points.csv")
    nodes = [
        Node("features", "Input", {"shape": [3]}),
        Node("hidden", "Dense", {"units": 8, "activation": "relu"}),
        Node("output", "Dense", {"units": 2, "activation": "softmax"}),
    ]
    design = Design(nodes, [Edge("features", "hidden"), Edge("hidden", "output")], name="csv")
    data = DataSpec(dataset="upload", path=str(tmp_path / "points.csv"), target="label")
    job = start_training(design, data=data, epochs=15, root=tmp_path / "runs", registry=registry)
    assert job.wait(120) == "finished", job.snapshot().last_error
    assert job.snapshot().metrics["accuracy"] > 0.7  # the label is a linear rule: chance is 0.5
    saved = json.loads((job.run_dir / "design.json").read_text())
    assert saved["data"]["path"] == str(tmp_path / "points.csv")  # this machine's path, kept


SEARCH_STDERR = re.compile(r"^(searching \S|\[\d+/\d+\] trial \d+ (complete|pruned|failed)\b)")


def test_a_search_through_ray_trains_its_trials_as_actors_and_reopens_its_best(tmp_path):
    from designer.design.spec import load

    design = tmp_path / "design.json"
    digits().save(design)
    out = tmp_path / "search"
    result = cli(
        "search",
        str(design),
        "--space",
        "dense.units=int:16:64:log",
        "--trials",
        "2",
        "--epochs",
        "2",
        "--limit",
        "300",
        "--executor",
        "ray",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    noise = [ln for ln in result.stderr.splitlines() if ln.strip() and not SEARCH_STDERR.match(ln)]
    assert noise == [], noise
    last = result.stdout.strip().splitlines()[-1]
    assert re.match(r"^best: 0\.\d+$", last) and float(last.split()[1]) > 0.2, result.stdout
    trials = sorted((out / "trials").iterdir())
    assert len(trials) == 2
    for run in trials:
        status = json.loads((run / "status.json").read_text())
        assert status["executor"] == "ray" and status["status"] in ("finished", "stopped")
    assert (out / "trials.csv").read_text().splitlines()[0] == "number,state,value,dense.units"
    assert 16 <= load(out / "best" / "design.json").node("dense").params["units"] <= 64
