"""Keras callbacks of a training run: live progress, control (stop/pause), files, and the ones
the design asks for (early stopping, checkpoints, learning-rate schedule, TensorBoard).

Imported only by the training process (it imports Keras at module level).
"""

from __future__ import annotations

import errno
import importlib.util
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from designer import settings
from designer.design.spec import TrainSpec
from designer.report import distributions, neurons
from designer.text import one_line
from designer.training import rundir

Emit = Callable[[dict], None]


class Control:
    """Stop, pause and step requests, from the job's events and from a ``stop`` file in the run
    directory (so that a run can be stopped even by a server restarted since it began).

    A step asks for a pause at the end of the epoch under way (or the next one to begin): the
    training side sets the pause event itself, so the pause falls exactly on the epoch's end
    whatever the delay of the side that asked."""

    def __init__(
        self,
        stop_event=None,
        pause_event=None,
        run_dir: str | Path | None = None,
        step_event=None,
    ):
        self._stop, self._pause, self._step = stop_event, pause_event, step_event
        self._stop_file = Path(run_dir) / rundir.STOP_FILE if run_dir else None
        self._checked = 0.0

    def should_stop(self) -> bool:
        if self._stop is not None and self._stop.is_set():
            return True
        now = time.monotonic()
        if self._stop_file is not None and now - self._checked > 0.25:
            self._checked = now
            return self._stop_file.exists()
        return False

    def paused(self) -> bool:
        return self._pause is not None and self._pause.is_set()

    def pause_if_stepping(self) -> bool:
        """At an epoch's end: a step was asked for, so pause now (True when it did)."""
        if self._step is None or self._pause is None or not self._step.is_set():
            return False
        self._step.clear()
        self._pause.set()
        return True


def _floats(logs: dict | None) -> dict[str, float]:
    out = {}
    for key, value in (logs or {}).items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue
    return out


class Progress(keras.callbacks.Callback):
    """Streams batch events, obeys stop/pause within one batch and notices a NaN loss.

    ``model.stop_training`` set in ``on_train_batch_end`` ends the epoch's batch loop at once
    in Keras 3 (the fit loop checks it after every batch), then Keras runs that epoch's
    validation and ``on_epoch_end`` as usual, so the partial epoch is recorded like any other.
    """

    def __init__(
        self,
        emit: Emit,
        control: Control,
        run_dir: Path,
        batches: int,
        interval: float = 0.05,
        hooks: dict | None = None,
    ):
        super().__init__()
        self.emit, self.control, self.run_dir = emit, control, run_dir
        self.batches, self.interval, self.hooks = batches, interval, hooks or {}
        self.epoch = 0
        self.stopped = False
        self.nan_at: tuple[int, int] | None = None
        self.paused_s = 0.0  # paused time inside the current epoch (excluded from durations)
        self._last = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.paused_s = 0.0
        if self.hooks.get("raise_at_epoch") == self.epoch:
            raise RuntimeError(f"injected failure at epoch {self.epoch} (test hook)")
        # Paused between epochs (after a step, or asked before training began): wait here,
        # after every callback has recorded the epoch before.
        if self.control.paused() and not self.control.should_stop():
            self._wait_while_paused()
            self.paused_s = 0.0

    def on_epoch_end(self, epoch, logs=None):
        self.control.pause_if_stepping()

    def on_train_batch_end(self, batch, logs=None):
        values = _floats(logs)
        loss = values.get("loss")
        if loss is not None and not math.isfinite(loss) and self.nan_at is None:
            self.nan_at = (self.epoch, batch + 1)
            self.model.stop_training = True
        now = time.monotonic()
        last = batch + 1 >= self.batches
        if batch == 0 or last or now - self._last >= self.interval:
            self._last = now
            self.emit(
                {
                    "type": "batch",
                    "epoch": self.epoch,
                    "batch": batch + 1,
                    "batches": self.batches,
                    "logs": values,
                }
            )
        if self.hooks.get("batch_delay"):
            time.sleep(float(self.hooks["batch_delay"]))
        if self.control.paused() and not self.control.should_stop():
            self._wait_while_paused()
        if self.control.should_stop():
            self.stopped = True
            self.model.stop_training = True

    def _wait_while_paused(self) -> None:
        start = time.monotonic()
        rundir.write_status(self.run_dir, "paused")
        self.emit({"type": "status", "status": "paused"})
        while self.control.paused() and not self.control.should_stop():
            time.sleep(0.1)
        self.paused_s += time.monotonic() - start
        rundir.write_status(self.run_dir, "running")
        self.emit({"type": "status", "status": "running"})


class Budget:
    """Periodic work beside training (a checkpoint, a measurement) held to a share of the time:
    after one run of the work that cost ``c`` seconds, the next is due ``c / share`` seconds
    later, and never sooner than ``floor`` nor later than ``ceiling`` seconds. The first run is
    due at once. The share is the runner's overhead: the whole runner is meant to cost under
    3 % of a plain ``model.fit`` (BENCHMARKS.md, ``fit_ratio``)."""

    def __init__(
        self, share: float, floor: float = 0.0, ceiling: float = math.inf, clock=time.monotonic
    ):
        self.share, self.floor, self.ceiling, self.clock = share, floor, ceiling, clock
        self._cost = 0.0
        self._done_at: float | None = None

    def due(self) -> bool:
        if self._done_at is None:
            return True
        wait = min(self.ceiling, max(self.floor, self._cost / self.share))
        return self.clock() - self._done_at >= wait

    def start(self) -> float:
        return self.clock()

    def spent(self, since: float) -> None:
        """The work that began at ``since`` (a :meth:`start`) has just ended."""
        self._done_at = self.clock()
        self._cost = self._done_at - since


# Saving a .keras file takes 0.05-0.1 s even for a small model: on every epoch of a fast run
# that was several percent of the training time. Each of model.keras and best.keras gets half
# a percent of it: saved 2 s to a minute apart by what a save costs, and always at the end.
# A crash loses at most that minute; status.json says which epoch the saved model is from
# ("model_epoch").
def save_budget() -> Budget:
    return Budget(share=0.005, floor=2.0, ceiling=60.0)


class RunWriter(keras.callbacks.Callback):
    """At each epoch's end: history.csv, model.keras (unless the weights went NaN), status.json
    and the epoch event (with the decision-boundary grid for 2-D data)."""

    def __init__(
        self,
        emit: Emit,
        run_dir: Path,
        history: list[dict],
        epochs: int,
        progress: Progress,
        save_last: bool,
        grid: DecisionGrid | None = None,
    ):
        super().__init__()
        self.emit, self.run_dir, self.history = emit, run_dir, history
        self.epochs, self.progress, self.save_last, self.grid = epochs, progress, save_last, grid
        self._t0 = time.monotonic()
        self._saves = save_budget()

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        duration = time.monotonic() - self._t0 - self.progress.paused_s
        row: dict[str, Any] = {"epoch": epoch + 1} | _floats(logs)
        if "learning_rate" not in row:
            row["learning_rate"] = current_lr(self.model)
        self.history.append(row)
        rundir.write_history(self.run_dir, self.history)
        status: dict[str, Any] = {"epochs_done": epoch + 1, "epochs": self.epochs}
        full = self.progress.hooks.get("disk_full_at_epoch") == epoch + 1  # test hook
        if self.save_last and self.progress.nan_at is None and (full or self._saves.due()):
            start = self._saves.start()
            save_model(self.model, self.run_dir / rundir.MODEL_FILE, simulate_full_disk=full)
            self._saves.spent(start)
            status["model_epoch"] = epoch + 1
        rundir.write_status(self.run_dir, "running", **status)
        event = {
            "type": "epoch",
            "epoch": epoch + 1,
            "epochs": self.epochs,
            "logs": row,
            "duration": duration,
        }
        if self.grid is not None and self.progress.nan_at is None:
            event["grid"] = self.grid.compute(self.model)
        self.emit(event)


class BestCheckpoint(keras.callbacks.Callback):
    """best.keras: the weights of the best epoch by ``monitor``, kept in memory and written
    within :func:`save_budget` and at the end (Keras' ModelCheckpoint writes on every
    improvement, which is nearly every epoch early on)."""

    def __init__(self, path: Path, monitor: str, best: float | None = None):
        super().__init__()
        self.path, self.monitor = path, monitor
        self.higher = higher_is_better(monitor)
        self.best = best
        self._weights = None
        self._saves = save_budget()

    def on_epoch_end(self, epoch, logs=None):
        value = _floats(logs).get(self.monitor)
        if value is None or not math.isfinite(value):
            return
        if self.best is None or (value > self.best if self.higher else value < self.best):
            self.best = value
            self._weights = [w.copy() for w in self.model.get_weights()]
            self.flush()

    def on_train_end(self, logs=None):
        self.flush(force=True)

    def flush(self, force: bool = False) -> None:
        if self._weights is None or not (force or self._saves.due()):
            return
        start = self._saves.start()
        current = self.model.get_weights()
        self.model.set_weights(self._weights)
        try:
            save_model(self.model, self.path)
        finally:
            self.model.set_weights(current)
        self._weights = None
        self._saves.spent(start)


def higher_is_better(monitor: str) -> bool:
    return any(k in monitor for k in ("acc", "auc", "precision", "recall", "r2"))


def current_lr(model) -> float:
    try:
        return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    except Exception:  # noqa: BLE001 - a schedule or an exotic optimizer: no lr column value
        return math.nan


def save_model(model, path: Path, simulate_full_disk: bool = False) -> None:
    """``model.save`` through a temporary file: a kill mid-save leaves the old model intact,
    and a failed save (a full disk) removes its partial file instead of leaving it behind.

    ``simulate_full_disk`` (the test hook "disk_full_at_epoch") runs out of space halfway
    through writing the file.
    """
    with settings.atomic_path(path) as tmp:
        model.save(tmp)
        if simulate_full_disk:
            os.truncate(tmp, tmp.stat().st_size // 2)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))


class DecisionGrid:
    """Predictions on a coarse grid over 2-D data, for a live decision-boundary picture, and
    every hidden unit's activation on a coarser one (:mod:`designer.report.neurons`)."""

    def __init__(self, x: np.ndarray, size: int = 40):
        self.xs, self.ys = neurons.grid_axes(x, size)
        self.points = neurons.grid_points(self.xs, self.ys)
        self.unit_xs, self.unit_ys = neurons.grid_axes(x, neurons.SIZE)
        self._probe: neurons.UnitProbe | None = None

    def compute(self, model) -> dict[str, Any]:
        # A direct call, not model.predict: 1,600 points, and predict's per-call set-up would
        # cost more than the prediction itself.
        out = keras.ops.convert_to_numpy(model(self.points, training=False))
        out = np.asarray(out[0] if isinstance(out, (list, tuple)) else out, dtype=np.float64)
        if out.ndim == 2 and out.shape[1] == 1:
            out = np.c_[1 - out[:, 0], out[:, 0]]  # one sigmoid unit -> two class probabilities
        n = len(self.ys)
        probs = np.round(out.reshape(n, len(self.xs), -1), 4)
        if self._probe is None:
            self._probe = neurons.UnitProbe(model)  # the same model object all through fit
        return {
            "xs": self.xs.round(4).tolist(),
            "ys": self.ys.round(4).tolist(),
            "probs": probs.tolist(),  # [row for each y][column for each x][class]
            "labels": probs.argmax(axis=-1).tolist(),
            "units": {
                "xs": self.unit_xs.round(4).tolist(),
                "ys": self.unit_ys.round(4).tolist(),
                "layers": self._probe.maps(self.unit_xs, self.unit_ys),
            },
        }


class Distributions(keras.callbacks.Callback):
    """After every epoch: each layer's activations and gradients on one fixed batch of training
    samples (:mod:`designer.report.distributions`), appended to distributions.jsonl.

    Measuring costs a forward and a backward pass on the batch: epochs are skipped so that it
    takes at most :data:`SHARE` of the training time (the first and the last epoch are always
    measured; building the probe, once, is not counted). A measurement that fails (a model it
    cannot read) turns the measuring off with a warning: it never fails the training."""

    SHARE = 0.01  # of the time since the last measurement, at most

    def __init__(self, emit: Emit, run_dir: Path, x: np.ndarray, y: np.ndarray):
        super().__init__()
        self.emit, self.run_dir, self.x, self.y = emit, run_dir, x, y
        self._probe: distributions.LayerProbe | None = None
        self._off = False
        self._budget = Budget(self.SHARE)

    def on_epoch_end(self, epoch, logs=None):
        last = epoch + 1 == (self.params or {}).get("epochs")
        if self._off or not (last or self._budget.due()):
            return
        try:
            if self._probe is None:
                self._probe = distributions.LayerProbe(self.model, self.x, self.y)
            start = self._budget.start()
            layers = self._probe.measure()
            rundir.append_distributions(self.run_dir, epoch + 1, layers)
            self._budget.spent(start)
        except Exception as exc:  # noqa: BLE001 - a picture, never a reason to stop training
            self._off = True
            self.emit(
                {
                    "type": "warning",
                    "message": "the activation and gradient distributions are off for this run: "
                    f"{type(exc).__name__}: {one_line(exc, 200)}",
                }
            )


def design_callbacks(
    t: TrainSpec, run_dir: Path, has_validation: bool, history: list[dict], warnings: list[str]
) -> list:
    """The callbacks the design's training section asks for (``warnings`` gets what could
    not be honoured)."""
    monitor = t.monitor
    if monitor.startswith("val_") and not has_validation:
        monitor = monitor[4:]  # no validation split: watch the training value instead
    out: list = [keras.callbacks.TerminateOnNaN()]
    if t.early_stopping:
        out.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, patience=t.patience, restore_best_weights=True
            )
        )
    if t.checkpoint:
        out.append(
            BestCheckpoint(run_dir / rundir.BEST_FILE, monitor, _previous_best(history, monitor))
        )
    if t.reduce_lr:
        # Halve the rate well before early stopping would give up, so it gets a chance to help.
        out.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitor, factor=0.5, patience=max(1, t.patience // 2), min_lr=1e-6
            )
        )
    if t.tensorboard:
        # Keras' TensorBoard callback writes through the tensorboard package; without it the
        # first summary raises mid-fit. A missing extra must not cost the user the run.
        if importlib.util.find_spec("tensorboard") is None:
            warnings.append(
                "TensorBoard logging needs the tensorboard package "
                "(pip install tensorboard); logs/ was not written"
            )
        else:
            out.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / rundir.LOGS_DIR)))
    return out


def _previous_best(history: list[dict], monitor: str) -> float | None:
    """On resume, best.keras must only be replaced by a model better than the one it holds."""
    values = [
        r[monitor]
        for r in history
        if isinstance(r.get(monitor), float) and math.isfinite(r[monitor])
    ]
    if not values:
        return None
    return max(values) if higher_is_better(monitor) else min(values)
