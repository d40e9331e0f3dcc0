"""Faults a user can run into: a full disk mid-run, more jobs than training slots, two browser
sessions training at once, and a few of the CLI's contracts.

Failure inside fit, a NaN loss and a killed training process are in test_training.py.

Only the full-disk run trains for real (a child process importing TensorFlow costs ~10 s of
CPU); it starts with the module so that its start-up overlaps the other tests. The scheduling
and session tests use :func:`fake_child`, a training process that speaks the worker's protocol
without Keras: what they test is the registry and the app, not the fit.
"""

import csv
import errno
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from app_widgets import widget

from designer.design import templates
from designer.training import (
    Registry,
    list_runs,
    read_history,
    read_status,
    resume_training,
    rundir,
    start_training,
)
from designer.training import registry as registry_module
from designer.training.local import LocalExecutor
from designer.training.worker import NICENESS

ROOT = Path(__file__).resolve().parents[1]
WAIT = 300  # generous: other work may share the 2 cores
APP_TIMEOUT = 180


def _wait_for(condition, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# ---- a training process without TensorFlow -------------------------------------------------------
def fake_child(conn, stop_event, pause_event, step_event):
    """Stands in for ``worker.child_main``: the same events and run files, no Keras.

    Hooks: ``epoch_seconds`` (time per epoch), ``hold`` (a path: wait for that file before
    training, so that jobs are seen running side by side), ``exit_code`` (die after starting,
    without a verdict, as a crash would). It also writes ``child.json`` (its pid, and when it
    began and ended) so that a test can check from the processes' side how many ran at once.
    """
    try:
        request = conn.recv()
    except (EOFError, OSError):
        return  # a spare process whose parent went away
    run_dir = Path(request.run_dir)
    hooks = request.hooks
    began = time.time()
    rundir.write_status(run_dir, "running", pid=os.getpid(), error=None)
    conn.send(
        {
            "type": "start",
            "pid": os.getpid(),
            "epochs": request.epochs,
            "initial_epoch": 0,
            "batches": 1,
            "task": "classification",
            "kind": "tabular",
            "class_names": [],
            "history": [],
            "samples": {"train": 1, "val": 0, "test": 0},
            "learning_rate": 0.01,
        }
    )
    conn.send({"type": "phase", "phase": "training"})
    if "exit_code" in hooks:
        os._exit(int(hooks["exit_code"]))
    hold = hooks.get("hold")
    while hold and not Path(hold).exists() and not stop_event.is_set():
        time.sleep(0.05)
    history = []
    for epoch in range(1, request.epochs + 1):
        if stop_event.is_set():
            break
        time.sleep(float(hooks.get("epoch_seconds", 0.05)))
        history.append({"epoch": epoch, "loss": 1.0 / epoch})
        rundir.write_history(run_dir, history)
        conn.send(
            {
                "type": "epoch",
                "epoch": epoch,
                "epochs": request.epochs,
                "logs": history[-1],
                "duration": 0.05,
            }
        )
    status = "stopped" if stop_event.is_set() else "finished"
    rundir.write_json(
        run_dir / "child.json", {"pid": os.getpid(), "began": began, "ended": time.time()}
    )
    rundir.write_status(run_dir, status, epochs_done=len(history))
    conn.send({"type": "done", "status": status, "error": None, "metrics": None})


class FakeChildExecutor(LocalExecutor):
    """The local executor (spawned processes, pipes) whose processes run :func:`fake_child`
    instead of the Keras worker."""

    child_target = staticmethod(fake_child)


def FakeChildRegistry(max_concurrent: int | None = None) -> Registry:  # noqa: N802 - reads as a class
    """A real registry (slots, queue, threads) with :class:`FakeChildExecutor`."""
    return Registry(max_concurrent=max_concurrent, executor=FakeChildExecutor())


# ---- the real full-disk run, started first -------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def disk_full_job(tmp_path_factory):
    """digits-mlp in a real training process whose disk fills up while it saves model.keras at
    the end of epoch 2 (model.keras of epoch 1 is on disk by then). Started with the module,
    with a spare process for the resume, so that their TensorFlow imports overlap the other
    tests; the test that looks at it comes last."""
    registry = Registry(max_concurrent=1)
    registry.prewarm()
    job = start_training(
        templates.get("digits-mlp"),
        root=tmp_path_factory.mktemp("full"),
        epochs=4,
        limit=300,
        registry=registry,
        hooks={"disk_full_at_epoch": 2},
    )
    _wait_for(lambda: job.snapshot().pid is not None)  # it took the spare: warm another
    registry.prewarm()
    yield job, registry
    registry.shutdown()


# ---- a full disk ---------------------------------------------------------------------------------
def test_a_disk_that_refuses_every_write_still_reports_why_the_run_failed(tmp_path, monkeypatch):
    """Once the disk is full, status.json and the log cannot be written either: the training
    process must still send its verdict, or the app would only see a crash. (The fit is
    replaced by one that fills the disk: the full-disk run below does it for real.)"""
    from designer.training import worker
    from designer.training.request import TrainRequest

    def refuse(path, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    def fit_until_the_disk_is_full(request, emit, control, run_dir, state):
        state["history"].append({"epoch": 1, "loss": 0.5})
        rundir.write_history(run_dir, state["history"])
        monkeypatch.setattr(rundir.settings, "atomic_write_text", refuse)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(run_dir / ".tmp-model.keras"))

    monkeypatch.setattr(worker, "_train", fit_until_the_disk_is_full)
    events = []
    request = TrainRequest(str(tmp_path), templates.get("digits-mlp").to_dict(), 4)
    done = worker.train(request, events.append, None)  # the stand-in fit takes no orders
    assert done["status"] == "failed" and done["error"].startswith("the disk is full")
    assert events == [done]
    last = json.loads((tmp_path / "status.json").read_text())  # the last complete one
    assert last["status"] == "running"
    assert len(read_history(tmp_path)) == 1


def test_a_full_disk_does_not_leave_a_dead_job_running_forever(tmp_path, monkeypatch):
    """The registry writes status.json when a training process dies; on a full disk that
    write fails, and the job must still end (it used to stay "running" for good)."""
    registry = FakeChildRegistry()
    job = start_training(
        templates.get("digits-mlp"),
        root=tmp_path,
        epochs=1,
        registry=registry,
        hooks={"exit_code": 3},
    )
    _wait_for(lambda: job.snapshot().pid is not None)

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(rundir, "write_status", full_disk)
    assert job.wait(60) == "interrupted"
    assert "exit code 3" in job.snapshot().last_error
    monkeypatch.undo()
    assert read_status(job.run_dir)["status"] == "interrupted"  # the dead pid gives it away


# ---- more jobs than slots ------------------------------------------------------------------------
def _running_together(jobs) -> set[int]:
    """Jobs that were all running at one instant. Statuses only move forward (queued, running,
    then a final one), so a job seen running at both of two passes ran throughout; every read
    of the first pass precedes every read of the second, so those jobs overlapped."""
    first = [job.status for job in jobs]
    second = [job.status for job in jobs]
    return {i for i, (a, b) in enumerate(zip(first, second)) if a == b == "running"}


def _most_at_once(intervals) -> int:
    ends_first = sorted(
        [(began, 1) for began, _ in intervals] + [(ended, -1) for _, ended in intervals]
    )
    most = now = 0
    for _, step in ends_first:
        now += step
        most = max(most, now)
    return most


def test_eight_jobs_for_two_slots_all_finish_two_at_a_time(tmp_path):
    registry = FakeChildRegistry(max_concurrent=2)
    design = templates.get("digits-mlp")
    jobs = [
        start_training(
            design, root=tmp_path, epochs=3, registry=registry, hooks={"epoch_seconds": 0.1}
        )
        for _ in range(8)
    ]
    together, queues, on_disk = [], [], set()
    deadline = time.monotonic() + WAIT
    while not all(job.done for job in jobs):
        assert time.monotonic() < deadline, [job.status for job in jobs]
        together.append(len(_running_together(jobs)))
        snaps = [job.snapshot() for job in jobs]
        queued = [(i, s.queue_position) for i, s in enumerate(snaps) if s.status == "queued"]
        assert all(isinstance(pos, int) and pos >= 1 for _, pos in queued), queued
        queues.append(queued)
        on_disk |= {read_status(job.run_dir)["status"] for job in jobs[6:]}
        time.sleep(0.02)
    assert max(together) == 2  # both slots used, never a third job
    # At some moment the first two ran and the other six waited in order, numbered 1 to 6.
    assert [(i, i - 1) for i in range(2, 8)] in queues
    assert "queued" in on_disk  # the Runs table reads the directories: it says so too
    assert [job.wait(0) for job in jobs] == ["finished"] * 8
    assert len({job.run_id for job in jobs}) == 8 and registry.jobs() == jobs
    assert all(job.snapshot().queue_position is None for job in jobs)
    runs = list_runs(tmp_path)
    assert len(runs) == 8 and {(r.status, r.epochs) for r in runs} == {("finished", 3)}
    children = [json.loads((job.run_dir / "child.json").read_text()) for job in jobs]
    assert len({c["pid"] for c in children}) == 8  # one process each, each ran once
    assert _most_at_once([(c["began"], c["ended"]) for c in children]) <= 2


def test_a_queue_starts_the_next_process_while_the_job_before_it_trains(tmp_path):
    """A class's jobs queue for one slot: the next job's process (in real use, seconds of
    TensorFlow import) is started while the job before it still trains, not after it ends;
    the last job leaves no idle process behind."""
    registry = FakeChildRegistry(max_concurrent=1)
    executor = registry.executor
    go = tmp_path / "go"

    def start():
        return start_training(
            templates.get("digits-mlp"),
            root=tmp_path,
            epochs=1,
            registry=registry,
            hooks={"hold": str(go)},
        )

    # The first job is already training when the others come (as in a class, where one
    # student starts first): it saw no queue when it took its process, the queue forms later.
    jobs = [start()]
    _wait_for(lambda: jobs[0].snapshot().status == "running")
    jobs += [start(), start()]
    # The first job trains (held): a spare process for the second one is already started.
    _wait_for(lambda: executor._spare is not None and executor._spare[0].is_alive())
    spare_pid = executor._spare[0].pid
    assert not jobs[0].done
    go.touch()
    assert [job.wait(WAIT) for job in jobs] == ["finished"] * 3
    assert json.loads((jobs[1].run_dir / "child.json").read_text())["pid"] == spare_pid
    assert executor._spare is None
    registry.shutdown()


def test_a_training_process_runs_below_the_server_s_priority():
    """Every thread of a training process (TensorFlow's too) yields the CPU to the app
    server, so pages stay quick while a job keeps both cores busy."""
    executor = LocalExecutor()
    executor.prewarm()  # the real child: lowers itself, then imports Keras and waits
    try:
        pid = executor._spare[0].pid
        tasks = Path(f"/proc/{pid}/task")
        # TensorFlow's import starts threads of its own (4 threads in all here, at 670 MB).
        _wait_for(lambda: len(list(tasks.iterdir())) >= 3, timeout=120)
        server = os.getpriority(os.PRIO_PROCESS, 0)
        nice = {int(t.name): os.getpriority(os.PRIO_PROCESS, int(t.name)) for t in tasks.iterdir()}
        assert set(nice.values()) == {server + NICENESS}, nice
    finally:
        executor.shutdown()


# ---- two browser sessions ------------------------------------------------------------------------
def _open_design(at, design) -> None:
    """Open a design file on the Home page (a template button would switch to the Design page,
    whose shape inference imports TensorFlow: seconds this test does not need)."""
    at.file_uploader(key="home_open").upload(
        f"{design.name}.json", design.to_json().encode(), "application/json"
    ).run()


def test_two_browser_sessions_train_at_once_and_keep_their_own_design_and_run(
    tmp_path, monkeypatch
):
    from streamlit.testing.v1 import AppTest

    app = str(ROOT / "app.py")
    go = tmp_path / "go"
    monkeypatch.setenv("KERAS_DESIGNER_HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_DESIGNER_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("KERAS_DESIGNER_PREWARM", "0")
    registry = FakeChildRegistry(max_concurrent=2)
    monkeypatch.setattr(registry_module, "_DEFAULT", registry)  # the app's process-wide registry
    submit = registry.submit

    def submit_holding(request, history=None):
        # Every run the app starts waits for "go", so both are seen training. The hook is
        # added here, at the registry, as only a test can: the app passes none.
        request.hooks = {"hold": str(go), **request.hooks}
        return submit(request, history)

    monkeypatch.setattr(registry, "submit", submit_holding)

    sessions = {}
    for name in ("digits-mlp", "moons-mlp"):
        at = AppTest.from_file(app, default_timeout=APP_TIMEOUT).run()
        _open_design(at, templates.get(name))
        at.switch_page("pages/train.py").run()
        widget(at, "number_input", "t:epochs").set_value(2).run()
        at.button(key="train_start").click().run()
        assert not at.exception and not at.error
        sessions[name] = at
    (a, b), names = sessions.values(), list(sessions)
    sids = [at.session_state["session_id"] for at in (a, b)]
    rids = [at.session_state["run_id"] for at in (a, b)]
    assert sids[0] != sids[1] and all(rids) and rids[0] != rids[1]
    _wait_for(lambda: all(registry.get(rid).status == "running" for rid in rids))

    for at, name, rid, other in zip((a, b), names, rids, reversed(rids)):
        at.run()  # a rerun while both train
        assert not at.exception
        assert at.session_state["design"].name == name and at.session_state["run_id"] == rid
        assert at.query_params["session"] == at.session_state["session_id"]
        shown = [m.value for m in at.markdown]
        assert f"**{rid}** · ▶ running · on this machine" in shown and not any(
            other in m for m in shown
        )
        table = at.dataframe[0].value
        assert list(table["run"]) == [rid]  # its own run, not the other's
        assert "running" in table["status"][0]  # live, not the "queued" its status file said
        assert json.loads((registry.get(rid).run_dir / "design.json").read_text())["name"] == name
    go.touch()
    assert [registry.get(rid).wait(WAIT) for rid in rids] == ["finished", "finished"]

    for sid, name, rid, other in zip(sids, names, rids, reversed(rids)):
        saved = json.loads((tmp_path / "sessions" / f"{sid}.json").read_text())
        assert saved["design"]["name"] == name and saved["run_id"] == rid
        again = AppTest.from_file(app, default_timeout=APP_TIMEOUT)
        again.query_params["session"] = sid  # a refresh of that tab
        again.run()
        assert not again.exception
        assert again.session_state["design"].name == name and again.session_state["run_id"] == rid
        line = " ".join(m.value for m in again.markdown if "kd-status" in m.value)
        assert name in line and f"{rid} · ✔ finished" in line and other not in line


# ---- the command line ----------------------------------------------------------------------------
def test_bench_help_works_without_running_a_benchmark():
    command = Path(sys.executable).with_name("keras-designer")
    argv = [str(command)] if command.is_file() else [sys.executable, "-m", "designer.cli"]
    out = subprocess.run(
        [*argv, "bench", "--help"], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("usage: keras-designer bench") and "--epochs" in out.stdout


def test_bench_json_prints_the_details_only_when_asked(tmp_path):
    """--details adds the measurements behind the figures; without it the object is the
    figures alone (a stand-in tools/bench.py, so that no benchmark runs)."""
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "bench.py").write_text(
        "import json\n"
        "def run(pairs, epochs, log, students):\n"
        "    return {'fit_ratio': 0.9, 'details': {'fit': {'plain_stolen_s': [0.5]}}}\n"
        "def to_json(results):\n"
        "    return json.dumps(results)\n"
    )
    command = Path(sys.executable).with_name("keras-designer")
    argv = [str(command)] if command.is_file() else [sys.executable, "-m", "designer.cli"]
    base = [*argv, "bench", "--json", "--checkout", str(tmp_path)]
    plain = subprocess.run(base, capture_output=True, text=True, timeout=120)
    full = subprocess.run([*base, "--details"], capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0 and full.returncode == 0, plain.stderr + full.stderr
    assert json.loads(plain.stdout) == {"fit_ratio": 0.9}
    assert json.loads(full.stdout)["details"]["fit"]["plain_stolen_s"] == [0.5]


# ---- a full disk, for real -----------------------------------------------------------------------
def test_a_full_disk_while_saving_fails_the_run_and_keeps_the_last_good_files(disk_full_job):
    job, registry = disk_full_job
    assert job.wait(WAIT) == "failed", job.snapshot()
    snap = job.snapshot()
    assert "disk is full" in snap.last_error and "resume" in snap.last_error
    run = job.run_dir
    status = json.loads((run / "status.json").read_text())  # valid JSON, not half a file
    assert status["status"] == "failed" and "disk is full" in status["error"]
    assert status["model_epoch"] == 1 and status["epochs_done"] == 2
    assert read_status(run)["status"] == "failed"
    with (run / "history.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2] and all(float(r["loss"]) > 0 for r in rows)
    # The half-written file went away; it never replaced the model of epoch 1.
    assert not [p.name for p in run.iterdir() if p.name.startswith(".")]
    for name in ("model.keras", "best.keras"):
        with zipfile.ZipFile(run / name) as archive:
            assert archive.testzip() is None and "config.json" in archive.namelist()
    assert not (run / "metrics.json").exists()

    # Space freed, the user resumes: training goes on from the saved model of epoch 1.
    again = resume_training(run, epochs=1, registry=registry)
    assert again.wait(WAIT) == "finished", again.snapshot().last_error
    assert [r["epoch"] for r in read_history(run)] == [1, 2]
    assert read_status(run)["model_epoch"] == 2 and again.snapshot().initial_epoch == 1
    assert json.loads((run / "metrics.json").read_text())["n"] > 0
