"""The Settings page's window on where training runs: a thin adapter over the job registry's
executor (``designer.training``). Nothing here imports TensorFlow or, until asked, Ray."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import pandas as pd

from designer import settings
from designer.training import TrainingError, default_registry
from designer.training.registry import use_executor
from ui import runs


def ray_installed() -> bool:
    return importlib.util.find_spec("ray") is not None


def locked() -> bool:
    """The server's owner can forbid switching (a classroom server): every session shares it."""
    return settings.flag(settings.SETTINGS_LOCKED)


def registry() -> Any:
    return default_registry()


def current() -> tuple[str, str, str]:
    """(executor name, its description, the Ray address or "")."""
    ex = registry().executor
    return ex.name, ex.describe(), getattr(ex, "address", None) or ""


def default_address() -> str:
    return current()[2] or settings.RAY_ADDRESS.get()


def use(name: str, address: str) -> str:
    """Switch the server's executor; returns its description (TrainingError with a reason)."""

    if locked():
        raise TrainingError("the settings of this server are locked")
    return use_executor(name, address.strip() or None).describe()


def resources() -> pd.DataFrame:
    """One row per machine new runs can train on, with its free CPUs and GPUs."""
    ex = registry().executor
    if ex.name == "ray":
        rows = [
            {
                "node": n.address,
                "status": "alive" if n.alive else "dead",
                "CPUs free": f"{n.free_cpus:g} of {n.cpus:g}",
                "GPUs free": f"{n.free_gpus:g} of {n.gpus:g}",
                "memory": f"{n.memory_gb:.1f} GiB",
            }
            for n in ex.nodes()
        ]
        return pd.DataFrame(rows)
    import psutil

    busy = len([j for j in registry().active() if j.executor is ex])
    return pd.DataFrame(
        [
            {
                "node": "this machine",
                "status": "alive",
                "CPUs free": f"{os.cpu_count()} cores, {busy} training",
                "GPUs free": "-",
                "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
            }
        ]
    )


def live_jobs() -> pd.DataFrame:
    """This session's jobs that are queued or training, and where."""
    rows = []
    for job in registry().active():
        if not runs.mine(job.run_dir):
            continue
        snap = job.snapshot()
        rows.append(
            {
                "run": job.run_id,
                "status": snap.status,
                "phase": snap.phase,
                "where": snap.where,
            }
        )
    return pd.DataFrame(rows)
