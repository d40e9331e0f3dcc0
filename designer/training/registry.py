"""The process-wide job registry: runs jobs through an executor, a few at a time.

It lives at module level, not in ``st.session_state``, so a browser refresh or a second tab
finds the running job again by its run id. Each job has a thread that waits for a free slot
(jobs beyond :attr:`Registry.max_concurrent` wait with status ``queued``), then hands the job
to the registry's executor, which trains it somewhere and records what it reports into the
job: ``local`` (:mod:`designer.training.local`, child processes of this machine, the default)
or ``ray`` (:mod:`designer.training.remote`, tasks on a Ray cluster). Either way the job, its
events and its run directory on this machine look the same.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from designer import settings
from designer.design.spec import DataSpec, Design, TrainSpec, load
from designer.model.augmentation import unfreeze_bases
from designer.training import rundir
from designer.training.executor import Executor
from designer.training.job import Job
from designer.training.local import LocalExecutor, write_status_quietly
from designer.training.remote import RayExecutor
from designer.training.request import TrainRequest

EXECUTORS = ("local", "ray")


def make_executor(name: str = "local", address: str | None = None) -> Executor:
    """An executor by name; ``ray`` without ``address`` starts a local Ray instance on first
    use. Raises TrainingError (one line) for an unknown name or a missing Ray extra."""
    if name == "local":
        if address:
            raise rundir.TrainingError("--address goes with --executor ray")
        return LocalExecutor()
    if name == "ray":
        return RayExecutor(address)
    raise rundir.TrainingError(f"unknown executor {name!r}: choose {' or '.join(EXECUTORS)}")


class Registry:
    """Training jobs keyed by run id (the run directory's name)."""

    def __init__(
        self,
        max_concurrent: int | None = None,
        stop_grace: float = 60.0,
        executor: Executor | None = None,
    ):
        self._cond = threading.Condition()
        self._jobs: dict[str, Job] = {}
        self._queue: list[Job] = []
        self._running: set[Job] = set()
        self._max = max_concurrent or settings.max_jobs(1)
        # After a stop request, a worker silent this long (a huge batch on a slow machine, or
        # a hang) is terminated; the job then ends "stopped" with the files of its last epoch.
        self.stop_grace = stop_grace
        self.executor = executor or LocalExecutor()
        self._tell_waiting(self.executor)

    # ---- configuration -------------------------------------------------------------------------
    @property
    def max_concurrent(self) -> int:
        return self._max

    @max_concurrent.setter
    def max_concurrent(self, value: int) -> None:
        with self._cond:
            self._max = max(1, int(value))
            self._cond.notify_all()

    def use(self, executor: Executor, max_concurrent: int | None = None) -> None:
        """Send the jobs submitted from now on to ``executor`` (jobs already submitted stay
        where they are); the old executor's spare resources are released."""
        self._tell_waiting(executor)
        with self._cond:
            old, self.executor = self.executor, executor
        if old is not executor and not any(j.executor is old for j in self.active()):
            old.shutdown()
        if max_concurrent is not None:
            self.max_concurrent = max_concurrent

    def _tell_waiting(self, executor: Executor) -> None:
        """An executor that keeps a spare worker learns how many jobs wait (see local.py)."""
        if hasattr(executor, "waiting"):
            executor.waiting = lambda: len(self._queue)

    # ---- jobs ----------------------------------------------------------------------------------
    def submit(self, request: TrainRequest, history: list[dict] | None = None) -> Job:
        """Queue a job for ``request.run_dir`` and return it at once (status ``queued``)."""
        run_id = os.path.basename(os.path.normpath(request.run_dir))
        with self._cond:
            old = self._jobs.get(run_id)
            if old is not None and not old.done:
                raise rundir.TrainingError(f"run {run_id} is already training")
            job = Job(run_id, request, history)
            job.executor = self.executor
            self._jobs[run_id] = job
            self._queue.append(job)
            self._renumber()
            slots_full = len(self._running) >= self._max
        if slots_full and hasattr(job.executor, "waiting"):
            # The job waits: have its process start now (a job already training may have
            # checked for waiting jobs before this one came), so its import overlaps that training.
            threading.Thread(
                target=job.executor.prewarm, name="keras-designer-spare", daemon=True
            ).start()
        thread = threading.Thread(
            target=self._drive, args=(job,), name=f"train-{run_id}", daemon=True
        )
        thread.start()
        return job

    def get(self, run_id: str) -> Job | None:
        with self._cond:
            return self._jobs.get(run_id)

    def jobs(self) -> list[Job]:
        """Every job this process has seen, oldest first."""
        with self._cond:
            return list(self._jobs.values())

    def active(self) -> list[Job]:
        return [j for j in self.jobs() if not j.done]

    def prewarm(self) -> None:
        """Have a worker ready (TensorFlow takes seconds to import) so the next job starts
        training at once."""
        self.executor.prewarm()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every job and release the executors' workers (for tests and clean exits)."""
        jobs = self.jobs()
        for job in jobs:
            job.stop()
        deadline = time.monotonic() + timeout
        for job in jobs:
            job.wait(max(0.0, deadline - time.monotonic()))
        for executor in {id(e): e for e in [self.executor, *(j.executor for j in jobs)]}.values():
            executor.shutdown()

    # ---- scheduling ----------------------------------------------------------------------------
    def _renumber(self) -> None:
        for i, queued in enumerate(self._queue):
            queued.queue_position = i + 1

    def _acquire(self, job: Job) -> bool:
        """Wait for a free slot in FIFO order; False if the job was stopped while queued."""
        with self._cond:
            while True:
                if job.stop_requested:
                    self._queue.remove(job)
                    self._renumber()
                    self._cond.notify_all()
                    return False
                if self._queue[0] is job and len(self._running) < self._max:
                    self._queue.pop(0)
                    self._renumber()
                    self._running.add(job)
                    return True
                self._cond.wait(0.2)

    def _release(self, job: Job) -> None:
        with self._cond:
            self._running.discard(job)
            self._cond.notify_all()

    # ---- the job's thread ----------------------------------------------------------------------
    def _drive(self, job: Job) -> None:
        if not self._acquire(job):
            write_status_quietly(job, "stopped", error=None, pid=None)
            job.finish("stopped")
            return
        try:
            job.executor.run(job, self.stop_grace)
        except Exception as exc:  # noqa: BLE001 - a broken pipe or spawn failure ends the job
            message = f"the training process failed to start: {type(exc).__name__}: {exc}"
            write_status_quietly(job, "failed", error=message)
            job.finish("failed", message, "training")
        finally:
            self._release(job)


_DEFAULT: Registry | None = None
_DEFAULT_LOCK = threading.Lock()


def default_registry() -> Registry:
    """The registry of this process (one per app server), created on first use.

    Its executor comes from $KERAS_DESIGNER_EXECUTOR (local or ray), and is ray when
    $KERAS_DESIGNER_RAY_ADDRESS names a cluster; the app's Settings page can change it.
    """
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            address = settings.RAY_ADDRESS.get() or None
            name = settings.EXECUTOR.get() or ("ray" if address else "local")
            try:
                executor = make_executor(name, address if name == "ray" else None)
            except rundir.TrainingError:
                executor = LocalExecutor()  # the Settings page says why when Ray is chosen there
            # On Ray, jobs the cluster cannot take yet wait in Ray's queue ("waiting for a Ray
            # worker"); the registry's own slots then only bound the jobs handed over.
            slots = None if executor.name == "local" else settings.max_jobs(64)
            _DEFAULT = Registry(max_concurrent=slots, executor=executor)
        return _DEFAULT


def use_executor(
    name: str, address: str | None = None, registry: Registry | None = None
) -> Executor:
    """Send the registry's new jobs to the executor ``name`` (at ``address``), connecting
    first so that a cluster that cannot be joined is reported here (TrainingError) and the
    current executor stays. With Ray, as many jobs run at once as the cluster has CPUs (Ray
    queues what does not fit); locally, $KERAS_DESIGNER_MAX_JOBS (default 1)."""
    registry = registry or default_registry()
    executor = make_executor(name, address or None)
    if name == "ray":
        slots = max(1, executor.total_cpus())
    else:
        slots = settings.max_jobs(1)
    registry.use(executor, slots)
    return executor


def start_training(
    design: Design,
    *,
    data: DataSpec | str | None = None,
    run_dir: str | os.PathLike | None = None,
    root: str | os.PathLike | None = None,
    epochs: int | None = None,
    limit: int | None = None,
    offline: bool = False,
    hooks: dict | None = None,
    registry: Registry | None = None,
    owner: str | None = None,
) -> Job:
    """Start training ``design`` (a Design) in a new run directory; returns the queued job.

    ``data`` (a DataSpec or a data-set id) replaces the design's data section; ``run_dir``
    defaults to a fresh ``<root>/<design name>-<time>``; ``epochs`` to the design's.
    ``owner`` (the app's session id) is written before anything else, so no other session
    ever lists the run.
    """

    design = design.copy()
    if isinstance(data, str):
        data = DataSpec(
            dataset=data,
            seed=design.data.seed,
            validation_split=design.data.validation_split,
            test_split=design.data.test_split,
            scaling=design.data.scaling,
        )
    if data is not None:
        design.data = data
    inputs = design.input_ids()
    if len(inputs) > 1:
        raise rundir.TrainingError(
            f"this design has {len(inputs)} inputs ({', '.join(inputs)}) and the built-in data "
            "sets and uploads feed one: export the Python script and train it on your own "
            "paired data"
        )
    _check_data(design.data)
    _check_devices(design.training)
    if run_dir is None:
        path = rundir.new_run_dir(root, design.name)
    else:
        path = Path(run_dir)
        if path.is_dir() and rundir.is_run_dir(path):
            raise rundir.TrainingError(
                f"{path} already holds a run: resume it or choose another directory"
            )
        path.mkdir(parents=True, exist_ok=True)
    if owner:
        rundir.write_owner(path, owner)
    epochs = int(epochs if epochs is not None else design.training.epochs)
    if epochs < 1:
        raise rundir.TrainingError(f"epochs must be at least 1, got {epochs}")
    design.save(path / rundir.DESIGN_FILE)
    rundir.write_json(
        path / rundir.RUN_FILE, {"created": rundir.now_iso(), "limit": limit, "offline": offline}
    )
    rundir.write_status(path, "queued", pid=os.getpid(), epochs=epochs, epochs_done=0, error=None)
    request = TrainRequest(
        str(path), design.to_dict(), epochs, limit=limit, offline=offline, hooks=dict(hooks or {})
    )
    return (registry or default_registry()).submit(request)


def _check_devices(t: TrainSpec) -> None:
    if not 1 <= t.devices <= 64:
        raise rundir.TrainingError(f"devices must be between 1 and 64, got {t.devices}")
    if t.batch_size < t.devices:
        raise rundir.TrainingError(
            f"a batch of {t.batch_size} cannot be split over {t.devices} devices: "
            f"make the batch size at least {t.devices} (it is the global batch)"
        )


def _check_data(spec: DataSpec) -> None:
    """Catch the data mistakes that need no loading before a process is started for them."""
    from designer.data import DataError, get_info

    if spec.dataset in (None, "", "upload"):
        if not spec.path:
            raise rundir.TrainingError("no data yet: choose a data set or upload a file")
        if not Path(spec.path).is_file():
            raise rundir.TrainingError(f"cannot read {spec.path}: no such file")
        return
    try:
        get_info(spec.dataset)
    except DataError as exc:
        raise rundir.TrainingError(str(exc)) from None


def resume_training(
    run_dir: str | os.PathLike,
    *,
    epochs: int,
    fine_tune: bool = False,
    lr_factor: float = 0.1,
    hooks: dict | None = None,
    registry: Registry | None = None,
) -> Job:
    """Continue a run for ``epochs`` more epochs, appending to its history.

    ``fine_tune`` unfreezes the design's pretrained bases (saved so in the run's design.json)
    and trains on at the design's learning rate times ``lr_factor``.
    """

    path = Path(run_dir)
    registry = registry or default_registry()
    current = registry.get(path.name)
    if (current is not None and not current.done) or rundir.read_status(path)[
        "status"
    ] in rundir.ACTIVE:
        raise rundir.TrainingError(f"run {path.name} is still training")
    if not (path / rundir.MODEL_FILE).is_file() or not (path / rundir.DESIGN_FILE).is_file():
        raise rundir.TrainingError(f"{path} has no saved model to continue from")
    if int(epochs) < 1:
        raise rundir.TrainingError(f"epochs must be at least 1, got {epochs}")
    design = load(path / rundir.DESIGN_FILE)
    if fine_tune:
        design = unfreeze_bases(design)
        design.save(path / rundir.DESIGN_FILE)
    settings = rundir.read_json(path / rundir.RUN_FILE) or {}
    history = rundir.read_history(path)
    model_epoch = rundir.read_status(path).get("model_epoch")
    if isinstance(model_epoch, int) and 0 < model_epoch < len(history):
        # An interrupted run's model.keras can be an epoch or two behind its history (saves
        # are throttled); continue from the model, so rows match the weights that exist.
        history = history[:model_epoch]
        rundir.write_history(path, history)
    rundir.write_status(
        path,
        "queued",
        pid=os.getpid(),
        error=None,
        epochs=len(history) + int(epochs),
        epochs_done=len(history),
    )
    request = TrainRequest(
        str(path),
        design.to_dict(),
        int(epochs),
        resume=True,
        fine_tune=fine_tune,
        lr_factor=lr_factor,
        limit=settings.get("limit"),
        offline=bool(settings.get("offline")),
        hooks=dict(hooks or {}),
    )
    return registry.submit(request, history)
