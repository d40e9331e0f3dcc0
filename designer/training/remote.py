"""The ``ray`` executor: each job is a Ray actor on a cluster
(``pip install 'keras-designer[ray]'``).

The actor runs the very same :func:`designer.training.worker.train` as a local child process,
in a scratch directory on whichever node Ray picked. Nothing assumes a shared filesystem: the
job's thread here polls the actor about four times a second for the events it emitted and the
files of its scratch run directory that changed, and writes them into the run directory on this
machine, so the live charts, stop and pause, the statuses and the run directory behave exactly
as with the ``local`` executor. Models (``model.keras``, ``best.keras``), the largest files, are
brought back at most every :data:`MODEL_SYNC_S` seconds and at the end.

Without an address, the first job starts a local Ray instance that lives as long as this
process (good for tests and for one big machine); with one, the process joins that cluster.
Our code goes with each job (Ray's ``py_modules``), so the cluster's nodes need only our
dependencies (installing ``keras-designer`` there gives them).

Multi-worker training of one model (``MultiWorkerMirroredStrategy``, Ray Train's
TensorflowTrainer) is not offered: it fails inside ``model.fit`` with Keras 3
(keras-team/keras#20585). One job uses one node, and several devices of that node through
``training.devices`` (see :mod:`designer.training.devices`).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from designer import settings
from designer.text import one_line
from designer.training import rundir, worker
from designer.training.job import Job
from designer.training.local import end_lost, write_status_quietly
from designer.training.raycluster import Node, connect, import_ray, nodes, resources
from designer.training.request import TrainRequest

POLL_S = 0.25
MODEL_SYNC_S = 10.0
MODEL_FILES = (rundir.MODEL_FILE, rundir.BEST_FILE)
UPLOAD_DIR = "upload"  # where a job's own data file goes in the worker's scratch directory


# ---- the worker's side ---------------------------------------------------------------------------
class Trainer:
    """Lives in a Ray actor (a process on some node): trains one job in a scratch directory and
    hands out its events and changed files when polled. A threaded actor, so that polls and
    stop/pause requests are served while ``train`` runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the events
        self._files_lock = threading.Lock()  # the files sent and what was seen of them
        self._events: list[dict] = []
        self._stop, self._pause, self._step = (
            threading.Event(),
            threading.Event(),
            threading.Event(),
        )
        self._dir = Path(tempfile.mkdtemp(prefix="keras-designer-"))
        self._seen: dict[str, tuple[int, int]] = {}

    def train(self, request: TrainRequest, files: dict[str, bytes]) -> dict:
        import ray

        # A poll may come while the files we were sent are being written: it must not take a
        # half-written one for news and send it back over the launching side's good copy.
        with self._files_lock:
            for name, data in files.items():
                path = self._dir / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            self._seen = self._stat()  # what we were sent is not news
        data = request.design.get("data") or {}
        if data.get("path"):
            data["path"] = str(self._dir / UPLOAD_DIR / Path(data["path"]).name)
        request.run_dir = str(self._dir)
        request.host = ray.util.get_node_ip_address()
        # As in a local training process (worker.child_main): TensorFlow's start-up lines go
        # nowhere, then everything the training writes to fds 1 and 2 goes to the run's log,
        # which comes back with the run's files. Nothing reaches the launching side's stderr.
        worker._redirect_output(None)
        worker._warm_up()
        worker._redirect_output(self._dir / rundir.LOG_FILE)
        from designer.training.callbacks import Control

        control = Control(self._stop, self._pause, self._dir, self._step)
        return worker.train(request, self._emit, control)

    def _emit(self, event: dict) -> None:
        with self._lock:
            self._events.append(event)

    def _stat(self) -> dict[str, tuple[int, int]]:
        out = {}
        for path in self._dir.rglob("*"):
            rel = path.relative_to(self._dir)
            # Temporary files of atomic writes start with a dot; uploads were sent by us.
            if (
                path.is_file()
                and not any(p.startswith(".") for p in rel.parts)
                and rel.parts[0] != UPLOAD_DIR
            ):
                st = path.stat()
                out[str(rel)] = (st.st_mtime_ns, st.st_size)
        return out

    def poll(self, models: bool) -> tuple[list[dict], dict[str, bytes]]:
        """The events since the last poll, then the files changed since (in that order, so
        the files are at least as new as the events: an epoch event finds its history row)."""
        with self._lock:
            events, self._events = self._events, []
        files = {}
        with self._files_lock:
            for name, stamp in self._stat().items():
                if self._seen.get(name) == stamp or (name in MODEL_FILES and not models):
                    continue
                try:
                    files[name] = (self._dir / name).read_bytes()
                except OSError:
                    continue  # replaced between listing and reading: the next poll brings it
                self._seen[name] = stamp
        return events, files

    def stop(self) -> None:
        self._stop.set()

    def pause(self, on: bool) -> None:
        (self._pause.set if on else self._pause.clear)()

    def step(self) -> None:
        self._step.set()

    def cleanup(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


class _Flag:
    """The stop/pause/step events :class:`Job` sets and clears, forwarded to the actor."""

    def __init__(self, set_remote, clear_remote=None):
        self._set, self._clear = set_remote, clear_remote

    def set(self) -> None:
        self._set()

    def clear(self) -> None:
        if self._clear:
            self._clear()


# ---- the launching side --------------------------------------------------------------------------
class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None):
        self.address = address or None
        self.num_cpus = num_cpus  # a local instance's CPUs (default: all of this machine's)
        self._actor_class = None
        # A missing extra is reported when the executor is chosen, not at the first job.
        import_ray()

    def describe(self) -> str:
        return f"Ray cluster at {self.address}" if self.address else "a local Ray instance"

    def connect(self) -> Any:
        ray = connect(self.address, self.num_cpus)
        if self._actor_class is None:
            self._actor_class = ray.remote(max_concurrency=4)(Trainer)
        return ray

    def nodes(self) -> list[Node]:
        self.connect()
        return nodes(self.address)

    def total_cpus(self) -> int:
        return int(sum(n.cpus for n in self.nodes() if n.alive))

    def prewarm(self) -> None:
        # Starting a local instance takes seconds: do it now, in the background.
        threading.Thread(target=self._prewarm, daemon=True).start()

    def _prewarm(self) -> None:
        try:
            self.connect()
        except rundir.TrainingError:
            pass  # the first job reports it

    def shutdown(self) -> None:
        # Each job's actor is killed when the job ends. A local Ray instance stops with this
        # process (Ray's own exit handler); other executors of the process may still use it.
        pass

    def run(self, job: Job, stop_grace: float) -> None:
        ray = self.connect()
        design = job.request.design
        devices = int((design.get("training") or {}).get("devices") or 1)
        options = resources(devices, nodes(self.address))
        # The worker does not have this machine's files: send the run directory's inputs (and
        # an uploaded data file) along.
        request = dataclasses.replace(job.request, executor=self.name, design=copy.deepcopy(design))
        files = _outgoing(job.run_dir, request)
        actor = self._actor_class.options(**options).remote()
        try:
            job.attach(
                None,
                _Flag(actor.stop.remote),
                _Flag(lambda: actor.pause.remote(True), lambda: actor.pause.remote(False)),
                _Flag(actor.step.remote),
            )
            job.record({"type": "phase", "phase": "waiting for a Ray worker"})
            (job.run_dir / rundir.STOP_FILE).unlink(missing_ok=True)
            result = actor.train.remote(request, files)
            self._follow(ray, job, actor, result, stop_grace)
        finally:
            for step in (
                lambda: ray.get(actor.cleanup.remote(), timeout=10),
                lambda: ray.kill(actor, no_restart=True),
            ):
                try:
                    step()
                except Exception:  # noqa: BLE001 - the actor (or its node) is gone already
                    pass

    def _follow(self, ray, job: Job, actor, result, stop_grace: float) -> None:
        quiet_since = last_models = time.monotonic()
        while True:
            ready, _ = ray.wait([result], timeout=POLL_S)
            now = time.monotonic()
            models = bool(ready) or now - last_models >= MODEL_SYNC_S
            try:
                events, files = ray.get(actor.poll.remote(models), timeout=120)
            except Exception as exc:  # noqa: BLE001 - the actor died (its node was lost...)
                return self._lost(ray, job, result, exc)
            if models:
                last_models = now
            _store(job.run_dir, files)
            for event in events:
                job.record(event)
            if events:
                quiet_since = now
            if ready:
                break
            if (job.run_dir / rundir.STOP_FILE).exists() and not job.stop_requested:
                job.stop()  # `request_stop` from another process: it only sees our files
            if job.stop_requested and now - quiet_since > stop_grace:
                ray.kill(actor, no_restart=True)
                end_lost(job, "stopped", "stopped by force after the grace period", None)
                return
        if not job.done:  # train returned without its verdict reaching us, or raised
            self._lost(ray, job, result, None)

    def _lost(self, ray, job: Job, result, exc: BaseException | None) -> None:
        try:
            ray.get(result, timeout=5)
        except Exception as err:  # noqa: BLE001 - the worker's own exception, or Ray's
            exc = err
        if exc is None:
            end_lost(job, "interrupted", "the Ray worker ended without a verdict")
            return
        name = type(exc).__name__
        if "ActorDied" in name or "ActorError" in name or "Unavailable" in name:
            end_lost(job, "interrupted", f"the Ray worker ended unexpectedly: {_ray_error(exc)}")
        else:
            message = f"on the Ray worker: {_ray_error(exc)}"
            write_status_quietly(job, "failed", error=message)
            job.finish("failed", message, "training")


def _ray_error(exc: BaseException) -> str:
    """A RayTaskError's text is the remote traceback: its last line names the error."""
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    return one_line(lines[-1]) if lines else type(exc).__name__


def _outgoing(run_dir: Path, request: TrainRequest) -> dict[str, bytes]:
    """The files the worker needs: the run directory as it is (a resumed run's model and
    history included) and the design's own data file."""
    files = {}
    for name in (
        rundir.DESIGN_FILE,
        rundir.RUN_FILE,
        rundir.STATUS_FILE,
        rundir.HISTORY_FILE,
        *MODEL_FILES,
    ):
        path = run_dir / name
        if path.is_file():
            files[name] = path.read_bytes()
    data_path = (request.design.get("data") or {}).get("path")
    if data_path:
        try:
            files[f"{UPLOAD_DIR}/{Path(data_path).name}"] = Path(data_path).read_bytes()
        except OSError as exc:
            raise rundir.TrainingError(f"cannot read {data_path}: {exc.strerror}") from None
    return files


def _store(run_dir: Path, files: dict[str, bytes]) -> None:
    """Write the worker's files into the run directory here, each atomically.

    status.json names the process that answers for the run on this machine (this one), so
    that readers here see the run as alive while we follow it and as interrupted if we die;
    the worker's own pid is kept as ``worker_pid``."""
    for name, data in files.items():
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts:
            continue  # a run's files stay inside its run directory, whatever a worker sends
        path = run_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if name == rundir.STATUS_FILE:
            try:
                status = json.loads(data)
            except ValueError:
                continue
            status["worker_pid"] = status.get("pid")
            status["pid"] = os.getpid()
            status["pid_created"] = rundir.process_created(os.getpid())
            rundir.write_json(path, status)
            continue
        settings.atomic_write_bytes(path, data)
