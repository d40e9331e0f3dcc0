"""The pages' window on training runs: a thin adapter over ``designer.training``.

Live runs are read from the process-wide job registry (so a refresh or a second tab sees the
same job); finished runs, and runs of an earlier server, from their run directories. Nothing
here imports TensorFlow: the training itself happens in a child process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from designer import settings
from designer.training import (
    default_registry,
    list_runs,
    request_stop,
    resume_training,
    rundir,
    start_training,
)
from designer.training.snapshot import RunSnapshot
from ui import state


def root() -> Path:
    """Where the app's runs live: the runs folder the command line uses too."""
    return settings.runs_dir()


def run_path(run_id: str) -> Path:
    return root() / run_id


def exists(run_id: str | None) -> bool:
    return bool(run_id) and run_path(run_id).is_dir()


def job(run_id: str | None):
    """The live job of a run; ``run_id`` may name a run inside a search (``search/trials/r``),
    which the registry knows by its directory's name."""
    if not run_id:
        return None
    live = default_registry().get(Path(run_id).name)
    if live is None or (
        run_id != live.run_id and live.run_dir.resolve() != run_path(run_id).resolve()
    ):
        return None
    return live


def is_active(snap: RunSnapshot | None) -> bool:
    return snap is not None and snap.active


def snapshot(run_id: str | None) -> RunSnapshot | None:
    """The job's live snapshot, or the same picture from the run directory."""
    if not run_id:
        return None
    live = job(run_id)
    return live.snapshot() if live is not None else RunSnapshot.of_run_dir(run_path(run_id))


def brief(run_id: str) -> dict[str, Any] | None:
    """{"status", "progress"} of a run for the status line, or None if it is gone."""
    try:
        snap = snapshot(run_id)
    except Exception:  # noqa: BLE001 - the status line must never break a page
        return None
    if snap is None:
        return None
    done, total = snap.epoch, snap.epochs
    progress = f"epoch {done}/{total}" if isinstance(done, int) and total else ""
    return {"status": snap.status, "progress": progress}


def mine(path: Path) -> bool:
    """Does this session see the run (or sweep, or bag) at ``path``?

    Sessions don't see each other's runs; runs without an owner (started with the command
    line, or by an older version) are everyone's.
    """

    owner = rundir.read_owner(path)
    return owner is None or owner == state.session_id()


def claim(path: Path) -> None:
    """Make a folder this session creates (a sweep, a bag) its own."""

    rundir.write_owner(path, state.session_id())


def all_runs() -> list[Any]:
    """This session's runs (``RunInfo``), newest first; live jobs as the registry sees them now
    (their status file is only rewritten once per epoch)."""
    try:
        return [_live(r) for r in reversed(list_runs(root(), keep=mine))]
    except Exception:  # noqa: BLE001
        return []


def _live(info: Any) -> Any:
    live = job(info.id)
    if live is None:
        return info
    import dataclasses

    snap = live.snapshot()
    history = snap.history or []
    return dataclasses.replace(
        info,
        status=snap.status or info.status,
        epochs=len(history),
        best=rundir.best_metric(history) or info.best,
        where=snap.where,
    )


def recent(limit: int = 8) -> list[Any]:
    return all_runs()[:limit]


def history(run_id: str) -> list[dict[str, Any]]:
    snap = snapshot(run_id)
    return list(snap.history or []) if snap else []


# ---- actions -------------------------------------------------------------------------------------
def start(design, epochs: int, step: bool = False) -> str:
    """Start training ``design``; returns the new run id (TrainingError with a reason).
    With ``step``, the run pauses after its first epoch."""

    new = start_training(design, root=root(), epochs=int(epochs), owner=state.session_id())
    if step:
        new.step()
    return new.run_id


def step(run_id: str) -> None:
    """The job trains to the end of its epoch, then pauses."""
    live = job(run_id)
    if live is not None:
        live.step()


def pause(run_id: str, on: bool) -> None:
    live = job(run_id)
    if live is not None:
        (live.pause if on else live.resume)()


def stop(run_id: str) -> None:
    live = job(run_id)
    if live is not None:
        live.stop()
    else:
        request_stop(run_path(run_id))


def resume(run_id: str, epochs: int) -> str:
    return resume_training(run_path(run_id), epochs=int(epochs)).run_id


def can_resume(run_id: str) -> bool:
    return (run_path(run_id) / "model.keras").is_file()


def executor_text() -> str:
    """Where new runs train, for captions: "this machine", "a local Ray instance"..."""

    return default_registry().executor.describe()


def prewarm() -> None:
    """Start a spare training process, so the first Start trains at once."""
    if not settings.flag(settings.PREWARM):
        return
    try:
        registry = default_registry()
        if not registry.active():
            registry.prewarm()
    except Exception:  # noqa: BLE001 - only an optimisation
        pass
