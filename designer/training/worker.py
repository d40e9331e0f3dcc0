"""The training process: load the data, check the design against it, build, fit, evaluate.

:func:`child_main` is the entry point of the child process a job drives (started with the
"spawn" method: forking a process that has imported TensorFlow is unsafe). It reports over a
pipe with plain dicts (see :mod:`designer.training.job` for the event types) and writes the run
directory as it goes, so the run survives the death of the process that started it.

:func:`train` is the same work without the process around it, for tests and scripts. Do not
call it from a Streamlit script or a thread of the Streamlit server: Streamlit clears the
Keras session after every rerun, which breaks Keras work running in that process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import math
import os
import signal
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from designer.design import compile_catalog, compiling
from designer.design.spec import Design
from designer.model.augmentation import (
    augmentation_problems,
    build_training_model,
    set_bases_trainable,
)
from designer.model.build import analyze, compile_model
from designer.text import error_line
from designer.training import rundir
from designer.training.devices import strategy_for
from designer.training.request import TrainRequest


def _warm_up() -> None:
    """Import the heavy modules before a request arrives (a spare process is ready sooner)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras  # noqa: F401
    import sklearn.metrics  # noqa: F401

    import designer.training.callbacks  # noqa: F401


def _redirect_output(path: Path | None) -> None:
    # TensorFlow writes to the process' file descriptors 1 and 2; pointing them at the run's
    # log keeps a terminal progress bar (and the Streamlit console) clean, and keeps the
    # details of a crash with the run.
    target = os.open(str(path) if path else os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    for fd in (1, 2):
        os.dup2(target, fd)
    os.close(target)


# Training yields the CPU to the app server: on a small class server, jobs at the server's
# priority (TensorFlow keeps both cores busy with several threads) left each page waiting
# tens of seconds. At a lower priority a job still gets every cycle nobody else wants.
NICENESS = 10


def child_main(conn, stop_event, pause_event, step_event) -> None:
    """Body of the training process: warm up, receive one request, train, report, exit."""
    # First, so TensorFlow's threads (started by the import below) inherit it.
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    # Ctrl-C in a terminal reaches the whole process group; the parent turns it into a clean
    # stop request instead of letting it kill the training mid-save.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _redirect_output(None)
    warm_error = None
    try:
        _warm_up()
    except Exception as exc:  # noqa: BLE001 - reported as the job's failure below
        warm_error = exc
    try:
        request: TrainRequest = conn.recv()
    except (EOFError, OSError):
        return  # a spare process whose parent went away
    run_dir = Path(request.run_dir)
    _redirect_output(run_dir / rundir.LOG_FILE)
    connected = [True]

    def emit(event: dict) -> None:
        # If the parent (the app server) is gone, keep training: the run directory is the
        # record, and a restarted server finds the run there.
        if connected[0]:
            try:
                conn.send(event)
            except (OSError, ValueError):
                connected[0] = False

    if warm_error is not None:
        message = f"the training process could not start: {error_line(warm_error)}"
        rundir.write_status(run_dir, "failed", pid=os.getpid(), error=message)
        emit({"type": "done", "status": "failed", "error": message, "error_kind": "training"})
        return
    from designer.training.callbacks import Control

    train(request, emit, Control(stop_event, pause_event, run_dir, step_event))
    try:
        conn.close()
    except OSError:
        pass


def train(request: TrainRequest, emit, control) -> dict:
    """Run one training job; returns the final ``done`` event (also emitted)."""
    run_dir = Path(request.run_dir)
    request = dataclasses.replace(request, host=request.host or socket.gethostname())
    rundir.write_status(
        run_dir,
        "running",
        pid=os.getpid(),
        error=None,
        executor=request.executor,
        host=request.host,
    )
    (run_dir / rundir.STOP_FILE).unlink(missing_ok=True)
    state: dict[str, Any] = {"history": rundir.read_history(run_dir) if request.resume else []}
    try:
        done = _train(request, emit, control, run_dir, state)
    except Exception as exc:  # noqa: BLE001 - any failure becomes the run's status and message
        with contextlib.suppress(OSError):  # log.txt may be on the disk that just filled up
            traceback.print_exc(file=sys.stderr)
        kind = "data" if type(exc).__name__ == "DataError" else "training"
        error = error_line(exc)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            error = (
                f"the disk is full (no space left on device) while writing to {run_dir}: "
                "free some space, then resume the run"
            )
        done = {"type": "done", "status": "failed", "error": error, "error_kind": kind}
    # A full disk may refuse the log and even status.json: the job still hears the verdict
    # below, and the last complete status.json stays (every write is atomic).
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    with contextlib.suppress(OSError):
        rundir.write_status(
            run_dir,
            done["status"],
            error=done.get("error"),
            epochs_done=len(state["history"]),
            finished=rundir.now_iso(),
            problems=done.get("problems", []),
        )
    emit(done)
    return done


def _problems(design, info, resume: bool) -> list[tuple[str, str]]:
    from designer.data import check_fit

    analysis = analyze(design)
    problems = list(analysis.problems)
    problems += compiling.problems(design.compile)
    if analysis.ok:

        def shapes(ids: list[str]) -> dict[str, tuple]:
            return {i: tuple(analysis.nodes[i].output_shape[1:]) for i in ids}

        problems += check_fit(info, shapes(design.input_ids()), shapes(design.output_ids()))
        if not resume:
            problems += augmentation_problems(design)
    return problems


def _train(request: TrainRequest, emit, control, run_dir: Path, state: dict) -> dict:
    from designer.data import load_dataset

    design = Design.from_dict(request.design)
    # First, before anything in this process starts TensorFlow's runtime (see devices.py).
    device_warnings: list[str] = []
    strategy = strategy_for(design.training.devices, device_warnings)
    for warning in device_warnings:
        emit({"type": "warning", "message": warning})
    emit({"type": "phase", "phase": "loading data"})
    data = load_dataset(design.data, limit=request.limit)
    info = data.info
    for warning in data.warnings:
        emit({"type": "warning", "message": warning})

    emit({"type": "phase", "phase": "checking"})
    problems = _problems(design, info, request.resume)
    if problems:
        lines = [f"{node_id}: {msg}" for node_id, msg in problems]
        return {
            "type": "done",
            "status": "failed",
            "error": "; ".join(lines)[:1000],
            "error_kind": "design",
            "problems": [list(p) for p in problems],
        }

    import keras
    import numpy as np

    from designer.data import encode_labels_for_loss
    from designer.training import callbacks as cb

    emit({"type": "phase", "phase": "building"})
    t = design.training
    keras.utils.set_random_seed(t.seed)
    resolved = compiling.resolve(design, info.task)
    # Variables made in the strategy's scope are mirrored on every device; fit() then splits
    # each batch across them.
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = _model(request, design, resolved, run_dir)

    def enc(y):
        return encode_labels_for_loss(y, resolved.loss, info.num_classes)

    has_val = len(data.y_val) > 0
    history = state["history"]
    initial = len(history)
    total = initial + request.epochs
    batches = max(1, -(-len(data.y_train) // t.batch_size))
    progress = cb.Progress(emit, control, run_dir, batches, request.batch_interval, request.hooks)
    grid = None
    if info.kind == "points2d" and info.task != "regression":
        grid = cb.DecisionGrid(np.concatenate([data.x_train, data.x_val, data.x_test]))
    writer = cb.RunWriter(emit, run_dir, history, total, progress, t.checkpoint, grid)
    warnings: list[str] = []
    probe = np.random.default_rng(t.seed).permutation(len(data.y_train))[: cb.distributions.PROBE]
    measure = cb.Distributions(emit, run_dir, data.x_train[probe], enc(data.y_train[probe]))
    callbacks = [progress, writer, measure]
    callbacks += cb.design_callbacks(t, run_dir, has_val, history, warnings)
    for warning in warnings:
        emit({"type": "warning", "message": warning})
    rundir.write_status(run_dir, "running", epochs=total, epochs_done=initial)
    emit(
        {
            "type": "start",
            "pid": os.getpid(),
            "epochs": total,
            "initial_epoch": initial,
            "batches": batches,
            "task": info.task,
            "kind": info.kind,
            "class_names": list(info.class_names),
            "history": list(history),
            "samples": {
                "train": len(data.y_train),
                "val": len(data.y_val),
                "test": len(data.y_test),
            },
            "learning_rate": cb.current_lr(model),
            "host": request.host,
            "replicas": strategy.num_replicas_in_sync if strategy else 1,
        }
    )
    if control.should_stop():  # stopped while loading or building: nothing to train
        return {"type": "done", "status": "stopped", "error": None}
    emit({"type": "phase", "phase": "training"})
    model.fit(
        data.x_train,
        enc(data.y_train),
        validation_data=(data.x_val, enc(data.y_val)) if has_val else None,
        batch_size=t.batch_size,
        epochs=total,
        initial_epoch=initial,
        callbacks=callbacks,
        verbose=0,
        shuffle=True,
    )

    if progress.nan_at is not None:
        epoch, batch = progress.nan_at
        return {
            "type": "done",
            "status": "nan",
            "error_kind": "nan",
            "error": f"the loss became NaN at epoch {epoch}, batch {batch}: lower the "
            "learning rate, scale the data, or add BatchNormalization",
        }
    status = "stopped" if progress.stopped else "finished"
    emit({"type": "phase", "phase": "saving"})
    cb.save_model(model, run_dir / rundir.MODEL_FILE)
    rundir.write_status(run_dir, "running", model_epoch=len(history))
    emit({"type": "phase", "phase": "evaluating"})
    metrics = _test_metrics(model, data, resolved, enc)
    rundir.write_json(run_dir / rundir.METRICS_FILE, metrics)
    return {"type": "done", "status": status, "error": None, "metrics": metrics}


def _model(request: TrainRequest, design, resolved, run_dir: Path):
    import keras

    if not request.resume:
        model = build_training_model(design, offline=request.offline)
        compile_model(model, resolved)
        return model
    # Loading with compile=True keeps the optimizer's state (Adam's moments), so a resumed
    # run continues the same descent instead of restarting it.
    model = keras.saving.load_model(run_dir / rundir.MODEL_FILE, safe_mode=True)
    if request.fine_tune:
        from designer.training.callbacks import current_lr

        set_bases_trainable(model, design)
        # Lower the rate the run had reached (ReduceLROnPlateau may have lowered it already).
        lr = current_lr(model)
        if not math.isfinite(lr):
            params = compile_catalog.OPTIMIZERS[resolved.optimizer].params
            lr = resolved.optimizer_params.get("learning_rate") or next(
                p.default for p in params if p.name == "learning_rate"
            )
        resolved.optimizer_params["learning_rate"] = float(lr) * request.lr_factor
        # Changing what is trainable needs a fresh compile; a new optimizer at a lower rate
        # is the usual fine-tuning recipe anyway.
        compile_model(model, resolved)
    return model


def _test_metrics(model, data, resolved, enc) -> dict:
    """metrics.json: designer.report.evaluate's report on the test split (validation if none)."""
    from designer.report import evaluate

    split = "test" if len(data.y_test) else "validation"
    x, y = (data.x_test, data.y_test) if split == "test" else (data.x_val, data.y_val)
    if not len(y):
        return {"split": None, "n": 0}
    started = time.monotonic()
    outputs = model.predict(x, batch_size=256, verbose=0)
    metrics = evaluate.report(data.info.task, y, outputs, data.info.class_names)
    keras_values = model.evaluate(x, enc(y), batch_size=256, verbose=0, return_dict=True)
    metrics["keras"] = {k: float(v) for k, v in keras_values.items()}
    metrics["split"], metrics["n"] = split, int(len(y))
    metrics["seconds"] = round(time.monotonic() - started, 3)
    return metrics
