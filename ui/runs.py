"""The pages' window on training runs: a thin adapter over ``designer.training``.

Live runs are read from the process-wide job registry (so a refresh or a second tab sees the
same job); finished runs, and runs of an earlier server, from their run directories. Nothing
here imports TensorFlow: the training itself happens in a child process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ui import state


def root() -> Path:
    """Where the app's runs live: $KERAS_DESIGNER_RUNS, else <workspace>/runs."""
    env = os.environ.get("KERAS_DESIGNER_RUNS")
    return Path(env) if env else state.workspace() / "runs"


def run_path(run_id: str) -> Path:
    return root() / run_id


def exists(run_id: str | None) -> bool:
    return bool(run_id) and run_path(run_id).is_dir()


def job(run_id: str | None):
    if not run_id:
        return None
    from designer.training import default_registry

    return default_registry().get(run_id)


def is_active(snap: dict[str, Any] | None) -> bool:
    from designer.training import ACTIVE

    return bool(snap) and snap.get("status") in ACTIVE and not snap.get("done")


def snapshot(run_id: str | None) -> dict[str, Any] | None:
    """The job's live snapshot, or the same picture rebuilt from the run directory."""
    if not run_id:
        return None
    live = job(run_id)
    if live is not None:
        return live.snapshot()
    path = run_path(run_id)
    if not path.is_dir():
        return None
    from designer.training import rundir

    status = rundir.read_status(path)
    history = rundir.read_history(path)
    metrics = rundir.read_json(path / rundir.METRICS_FILE)
    design = rundir.read_json(path / rundir.DESIGN_FILE) or {}
    return {
        "run_id": run_id, "run_dir": str(path), "status": status.get("status"),
        "phase": "done", "done": status.get("status") not in rundir.ACTIVE,
        "epoch": len(history), "epochs": status.get("epochs") or len(history),
        "batch": 0, "batches": None, "eta_s": None, "elapsed": None,
        "history": history, "last_error": status.get("error"), "error_kind": None,
        "problems": [], "warnings": [], "metrics": metrics if isinstance(metrics, dict) else None,
        "grid": None, "queue_position": None, "task": (metrics or {}).get("task") if isinstance(metrics, dict) else None,
        "class_names": (metrics or {}).get("class_names", []) if isinstance(metrics, dict) else [],
        "dataset": (design.get("data") or {}).get("dataset"), "where": rundir.status_where(status),
    }  # fmt: skip


def brief(run_id: str) -> dict[str, Any] | None:
    """{"status", "progress"} of a run for the status line, or None if it is gone."""
    try:
        snap = snapshot(run_id)
    except Exception:  # noqa: BLE001 - the status line must never break a page
        return None
    if snap is None:
        return None
    done, total = snap.get("epoch"), snap.get("epochs")
    progress = f"epoch {done}/{total}" if isinstance(done, int) and total else ""
    return {"status": snap.get("status"), "progress": progress}


def mine(path: Path) -> bool:
    """Does this session see the run (or sweep, or bag) at ``path``?

    Sessions don't see each other's runs; runs without an owner (started with the command
    line, or by an older version) are everyone's.
    """
    from designer.training import rundir

    owner = rundir.read_owner(path)
    return owner is None or owner == state.session_id()


def claim(path: Path) -> None:
    """Make a folder this session creates (a sweep, a bag) its own."""
    from designer.training import rundir

    rundir.write_owner(path, state.session_id())


def all_runs() -> list[Any]:
    """This session's runs (``RunInfo``), newest first; live jobs as the registry sees them now
    (their status file is only rewritten once per epoch)."""
    try:
        from designer.training import list_runs

        return [_live(r) for r in reversed(list_runs(root())) if mine(r.path)]
    except Exception:  # noqa: BLE001
        return []


def _live(info: Any) -> Any:
    live = job(info.id)
    if live is None:
        return info
    import dataclasses

    from designer.training import rundir

    snap = live.snapshot()
    history = snap.get("history") or []
    return dataclasses.replace(info, status=snap.get("status") or info.status, epochs=len(history),
                               best=rundir.best_metric(history) or info.best, where=snap["where"])  # fmt: skip


def recent(limit: int = 8) -> list[Any]:
    return all_runs()[:limit]


def history(run_id: str) -> list[dict[str, Any]]:
    snap = snapshot(run_id)
    return list(snap.get("history") or []) if snap else []


# ---- actions -------------------------------------------------------------------------------------
def start(design, epochs: int) -> str:
    """Start training ``design``; returns the new run id (TrainingError with a reason)."""
    from designer.training import start_training

    return start_training(design, root=root(), epochs=int(epochs), owner=state.session_id()).run_id


def stop(run_id: str) -> None:
    live = job(run_id)
    if live is not None:
        live.stop()
    else:
        from designer.training import request_stop

        request_stop(run_path(run_id))


def resume(run_id: str, epochs: int) -> str:
    from designer.training import resume_training

    return resume_training(run_path(run_id), epochs=int(epochs)).run_id


def can_resume(run_id: str) -> bool:
    return (run_path(run_id) / "model.keras").is_file()


def executor_text() -> str:
    """Where new runs train, for captions: "this machine", "a local Ray instance"..."""
    from designer.training import default_registry

    return default_registry().executor.describe()


def prewarm() -> None:
    """Start a spare training process, so the first Start trains at once."""
    if os.environ.get("KERAS_DESIGNER_PREWARM", "1") == "0":
        return
    try:
        from designer.training import default_registry

        registry = default_registry()
        if not registry.active():
            registry.prewarm()
    except Exception:  # noqa: BLE001 - only an optimisation
        pass
