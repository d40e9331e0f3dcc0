"""A training job as the app sees it: a thread-safe buffer of what the training process said.

The training process sends plain dicts; the job's thread (see :mod:`designer.training.registry`)
records them here, and the UI polls :meth:`Job.snapshot` (the current picture) or
:meth:`Job.events_since` (everything new since its last look). Event types:

``phase``   {"phase": "loading data" | "checking" | "building" | "training" | "saving" |
             "evaluating"}
``start``   {"pid", "epochs", "initial_epoch", "batches", "task", "kind", "class_names",
             "history", "samples", "learning_rate", "replicas" (devices training the model),
             "host" (the machine it trains on)}
``batch``   {"epoch" (1-based, in progress), "batch" (1-based), "batches", "logs"}
``epoch``   {"epoch" (epochs done), "epochs", "logs" (the history row), "duration",
             "grid" (2-D data only: {"xs", "ys", "probs" [y][x][class], "labels" [y][x],
             "units": {"xs", "ys", "layers": designer.report.neurons.UnitProbe.maps}})}
``status``  {"status": "paused" | "running"}
``warning`` {"message"}
``done``    {"status", "error", "error_kind" ("data" | "design" | "training" | "nan" |
             "interrupted"), "problems" [[node_id, message]], "metrics"}

Every recorded event also gets ``seq`` (its position) and ``time`` (seconds since the epoch).
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from designer.training import rundir
from designer.training.request import TrainRequest
from designer.training.snapshot import RunSnapshot

if TYPE_CHECKING:  # the executor drives a Job: only the annotation points back
    from designer.training.executor import Executor

MAX_EVENTS = 5000  # older batch events are dropped first; epochs and the rest are kept
RECENT_BATCHES = 300


class Job:
    def __init__(self, run_id: str, request: TrainRequest, history: list[dict] | None = None):
        self.run_id = run_id
        self.request = request
        self.run_dir = Path(request.run_dir)
        self._lock = threading.RLock()
        self._done = threading.Event()
        self._events: list[dict] = []
        self._seq = 0  # the next event's number; dropped events keep theirs taken
        self._status = "queued"
        self._phase = "queued"
        self._history: list[dict] = list(history or [])
        self._batch_metrics: deque[dict] = deque(maxlen=RECENT_BATCHES)
        self._initial = len(self._history)
        self._epochs = self._initial + request.epochs
        self._batch = 0
        self._batches: int | None = None
        self._error: str | None = None
        self._error_kind: str | None = None
        self._problems: list[list[str]] = []
        self._warnings: list[str] = []
        self._metrics: dict | None = None
        self._grid: dict | None = None
        self._info: dict[str, Any] = {}
        self._pid: int | None = None
        self._created = time.time()
        self._started: float | None = None  # monotonic, when a process took the job
        self._ended: float | None = None
        self._paused_since: float | None = None
        self._paused_total = 0.0
        self._epoch_durations: list[float] = []
        self._stop_requested = False
        self._stop_reason: str | None = None  # why it was stopped, when not by a person
        self._pause_requested = False
        self._step_requested = False
        # multiprocessing Events (or the Ray executor's stand-ins), once a worker took the job
        self._stop_event = self._pause_event = self._step_event = None
        self.queue_position: int | None = None  # maintained by the registry
        self.executor: Executor | None = None  # what trains it (set by the registry)

    # ---- control (any thread) ----------------------------------------------------------------
    def stop(self, reason: str | None = None) -> None:
        """Ask the job to stop: at once if queued, within one batch if training.

        ``reason`` (a search pruning the run, say) becomes the stopped run's message: its
        ``error`` and ``reason`` in status.json and a line in its log."""
        with self._lock:
            if self._done.is_set():
                return
            self._stop_requested = True
            self._stop_reason = self._stop_reason or reason
            self._pause_requested = False
            if self._stop_event is not None:
                self._stop_event.set()

    def pause(self) -> None:
        with self._lock:
            self._pause_requested = True
            if self._pause_event is not None:
                self._pause_event.set()

    def resume(self) -> None:
        with self._lock:
            self._pause_requested = False
            if self._pause_event is not None:
                self._pause_event.clear()

    def step(self) -> None:
        """Train to the end of the current epoch (one whole epoch when paused between two, or
        the first when not started yet), then pause. Continue with :meth:`resume`."""
        with self._lock:
            if self._done.is_set():
                return
            self._step_requested = True
            if self._step_event is not None:
                self._step_event.set()  # before the pause is lifted: no epoch ends unseen
        self.resume()

    def wait(self, timeout: float | None = None) -> str:
        """Block until the job ends (or ``timeout``); returns the status."""
        self._done.wait(timeout)
        return self.status

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def status(self) -> str:
        with self._lock:
            return self._status

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    # ---- reading (the UI) --------------------------------------------------------------------
    def events_since(self, cursor: int = 0) -> tuple[list[dict], int]:
        """Events with ``seq >= cursor`` and the cursor to pass next time. Batch events older
        than the last :data:`MAX_EVENTS` may have been dropped; the snapshot has the state."""
        with self._lock:
            start = bisect.bisect_left(self._events, cursor, key=lambda ev: ev["seq"])
            return [dict(ev) for ev in self._events[start:]], self._seq

    def snapshot(self) -> RunSnapshot:
        with self._lock:
            now = time.monotonic()
            return RunSnapshot(
                run_id=self.run_id,
                run_dir=str(self.run_dir),
                status=self._status,
                phase=self._phase,
                done=self._done.is_set(),
                stop_requested=self._stop_requested,
                pause_requested=self._pause_requested,
                queue_position=self.queue_position,
                pid=self._pid,
                epoch=len(self._history),
                epochs=self._epochs,
                initial_epoch=self._initial,
                batch=self._batch,
                batches=self._batches,
                elapsed=round(self._elapsed(now), 3),
                eta_s=self._eta(),
                history=[dict(r) for r in self._history],
                batch_metrics=list(self._batch_metrics),
                last_error=self._error,
                error_kind=self._error_kind,
                problems=[list(p) for p in self._problems],
                warnings=list(self._warnings),
                metrics=self._metrics,
                grid=self._grid,
                task=self._info.get("task"),
                kind=self._info.get("kind"),
                class_names=self._info.get("class_names") or [],
                samples=self._info.get("samples"),
                replicas=self._info.get("replicas"),
                dataset=(self.request.design.get("data") or {}).get("dataset"),
                limit=self.request.limit,
                where=self._where(),
                created=self._created,
            )

    def _where(self) -> str:
        """Where it trains (see rundir.where); "" while queued, when that is not known yet."""
        if self._status == "queued":
            return ""
        return rundir.where(
            self.executor.name if self.executor else "local", self._info.get("host")
        )

    def _elapsed(self, now: float) -> float:
        if self._started is None:
            return 0.0
        end = self._ended if self._ended is not None else now
        paused = self._paused_total + (now - self._paused_since if self._paused_since else 0.0)
        return max(0.0, end - self._started - paused)

    def _eta(self) -> float | None:
        """Seconds left: the mean epoch time so far times the epochs to go, minus the part of
        the current epoch already done. None until the first epoch ends."""
        if self._done.is_set():
            return 0.0
        if not self._epoch_durations or self._status not in ("running", "paused"):
            return None
        per_epoch = sum(self._epoch_durations) / len(self._epoch_durations)
        left = self._epochs - len(self._history)
        fraction = self._batch / self._batches if self._batches and self._batch else 0.0
        if self._batch and self._batches and self._batch >= self._batches:
            fraction = 0.0  # the last batch event of a finished epoch, before the epoch event
        return round(max(0.0, per_epoch * (left - fraction)), 1)

    # ---- the executor's side (the job's thread; see designer.training.executor) -------------
    def attach(self, pid: int, stop_event, pause_event, step_event=None) -> None:
        """A worker (process ``pid``) took the job; the three events reach it (a worker without
        ``step_event`` cannot step: a step then only lifts a pause)."""
        with self._lock:
            self._pid = pid
            self._stop_event, self._pause_event = stop_event, pause_event
            self._step_event = step_event
            if self._step_requested and step_event is not None:
                step_event.set()
            self._started = time.monotonic()
            self._status, self._phase = "running", "starting"
            self.queue_position = None
            if self._stop_requested:
                stop_event.set()
            if self._pause_requested:
                pause_event.set()

    def record(self, event: dict) -> None:
        """One event the worker sent (see the types at the top of this module)."""
        with self._lock:
            event = dict(event)
            event["seq"] = self._seq
            self._seq += 1
            event["time"] = time.time()
            self._events.append(event)
            if len(self._events) > MAX_EVENTS:
                self._trim()
            kind = event.get("type")
            handler = getattr(self, f"_on_{kind}", None)
            if handler:
                handler(event)

    def _trim(self) -> None:
        # Drop the oldest batch events; the other events are few and tell the run's story.
        excess = len(self._events) - MAX_EVENTS
        keep = []
        for i, ev in enumerate(self._events):
            if excess > 0 and ev.get("type") == "batch" and i < len(self._events) - 100:
                excess -= 1
                continue
            keep.append(ev)
        self._events = keep

    def _on_phase(self, ev: dict) -> None:
        self._phase = ev["phase"]

    def _on_start(self, ev: dict) -> None:
        self._pid = ev.get("pid", self._pid)
        self._epochs = ev["epochs"]
        self._initial = ev["initial_epoch"]
        self._batches = ev["batches"]
        self._history = [dict(r) for r in ev.get("history", [])]
        self._info = {
            k: ev.get(k) for k in ("task", "kind", "class_names", "samples", "replicas", "host")
        }

    def _on_batch(self, ev: dict) -> None:
        self._batch, self._batches = ev["batch"], ev["batches"]
        done_before = (ev["epoch"] - 1) * (ev["batches"] or 0)
        self._batch_metrics.append(
            {"epoch": ev["epoch"], "batch": ev["batch"], "step": done_before + ev["batch"]}
            | ev.get("logs", {})
        )

    def _on_epoch(self, ev: dict) -> None:
        self._history.append(dict(ev["logs"]))
        self._epoch_durations.append(float(ev.get("duration") or 0.0))
        self._batch = 0
        if ev.get("grid") is not None:
            self._grid = ev["grid"]

    def _on_status(self, ev: dict) -> None:
        now = time.monotonic()
        if ev["status"] == "paused" and self._paused_since is None:
            self._paused_since = now
        elif ev["status"] == "running" and self._paused_since is not None:
            self._paused_total += now - self._paused_since
            self._paused_since = None
        if not self._done.is_set():
            self._status = ev["status"]

    def _on_warning(self, ev: dict) -> None:
        self._warnings.append(ev["message"])

    def _on_done(self, ev: dict) -> None:
        self._error = ev.get("error")
        self._error_kind = ev.get("error_kind")
        self._problems = [list(p) for p in ev.get("problems") or []]
        self._metrics = ev.get("metrics")
        self.finish(ev["status"])

    def finish(self, status: str, error: str | None = None, kind: str | None = None) -> None:
        """End the job with ``status`` (the first end wins: later calls do nothing)."""
        with self._lock:
            if self._done.is_set():
                return
            now = time.monotonic()
            if self._paused_since is not None:
                self._paused_total += now - self._paused_since
                self._paused_since = None
            self._ended = now
            self._status = status
            self._phase = "done"
            self._error = self._error or error
            self._error_kind = self._error_kind or kind
            if status == "stopped" and self._stop_reason:
                # Written before waiters wake: whoever waited for the job reads the reason.
                self._error = self._stop_reason
                rundir.record_stop_reason(self.run_dir, self._stop_reason)
            self.queue_position = None
            self._done.set()
