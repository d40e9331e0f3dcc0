"""The ``local`` executor: each job in a child process of this machine (the default).

Why a child process: Streamlit calls ``keras.backend.clear_session()`` after every script
rerun, which breaks Keras work running in a thread of the server process. A process of its own
is out of reach of that, and also isolates crashes and frees all TensorFlow memory at the end.
It is started with "spawn", because forking a process that imported TensorFlow is unsafe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from designer.training import rundir, spawn
from designer.training.job import Job
from designer.training.worker import child_main


class LocalExecutor:
    name = "local"
    # What the child process runs, given (conn, stop, pause, step): a test swaps it.
    child_target = staticmethod(child_main)

    def __init__(self) -> None:
        self._ctx = spawn.context()
        self._lock = threading.Lock()
        self._spare: tuple | None = None
        # How many jobs wait for a slot (the registry that uses this executor sets it): while
        # some do, each job that takes the spare starts the next one, so TensorFlow's import
        # (seconds) overlaps the training before it instead of adding up along the queue.
        self.waiting: Callable[[], int] = lambda: 0

    def describe(self) -> str:
        return "this machine"

    def prewarm(self) -> None:
        """Start a spare training process now (TensorFlow takes seconds to import), so the
        next job starts training at once. Does nothing if a spare is ready."""
        with self._lock:
            if self._spare is None or not self._spare[0].is_alive():
                self._spare = self._start_process()

    def shutdown(self) -> None:
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            spare[1].close()
            spare[0].join(2)
            if spare[0].is_alive():
                spare[0].kill()

    def _start_process(self) -> tuple:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        events = self._ctx.Event(), self._ctx.Event(), self._ctx.Event()  # stop, pause, step
        proc = spawn.TrainingProcess(
            target=self.child_target,
            args=(child_conn, *events),
            name="keras-designer-train",
            daemon=True,
        )
        proc.start()
        # Our copy of the child's end must go, or reading would never see the child's death.
        child_conn.close()
        return proc, parent_conn, events

    def _take_process(self) -> tuple:
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None and spare[0].is_alive():
            return spare
        return self._start_process()

    def run(self, job: Job, stop_grace: float) -> None:
        """Train ``job`` in a child process and record what it says until it ends."""
        proc = conn = None
        try:
            proc, conn, events = self._take_process()
            if self.waiting():
                threading.Thread(
                    target=self.prewarm, name="keras-designer-spare", daemon=True
                ).start()
            job.attach(proc.pid, *events)
            conn.send(job.request)
            self._pump(job, proc, conn, stop_grace)
        finally:
            if conn is not None:
                conn.close()
            if proc is not None:
                proc.join(5)
                if proc.is_alive():
                    proc.kill()
                    proc.join(5)

    def _pump(self, job: Job, proc, conn, stop_grace: float) -> None:
        """Move events from the child into the job until it reports ``done`` or dies."""
        terminated = False
        quiet_since = time.monotonic()
        while True:
            try:
                if conn.poll(0.2):
                    event = conn.recv()
                    job.record(event)
                    quiet_since = time.monotonic()
                    if event.get("type") == "done":
                        return
                    continue
            except (EOFError, OSError):
                break  # the child's end closed: it exited or was killed
            if not proc.is_alive():
                break
            # A stopping child still reports (saving, evaluating); only one that stays
            # silent for the whole grace period after a stop request is terminated.
            if job.stop_requested and time.monotonic() - quiet_since > stop_grace:
                proc.terminate()
                terminated = True
                proc.join(5)
                break
        proc.join(5)
        written = rundir.read_json(job.run_dir / rundir.STATUS_FILE) or {}
        if written.get("status") in rundir.FINAL and written.get("pid") == proc.pid:
            # The child finished and wrote its verdict, but its last message was lost.
            job.finish(written["status"], written.get("error"))
            return
        code = proc.exitcode
        if terminated:
            end_lost(job, "stopped", "stopped by force after the grace period", None)
        else:
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            end_lost(job, "interrupted", f"the training process ended unexpectedly ({how})")


def end_lost(job: Job, status: str, error: str, kind: str | None = "interrupted") -> None:
    """End a job whose worker is gone without a verdict: status.json says so, with the
    epochs its history holds."""
    history = rundir.read_history(job.run_dir)
    write_status_quietly(job, status, error=error, epochs_done=len(history))
    job.finish(status, error, kind)


def write_status_quietly(job: Job, status: str, **fields) -> None:
    """status.json from the job's thread. A full (or read-only) disk must not keep the job
    from ending: the job's own state is what the app shows, and the last complete
    status.json stays behind (writes are atomic)."""
    try:
        rundir.write_status(job.run_dir, status, **fields)
    except OSError:
        pass
