"""A run as the pages and the command line see it: one picture, whether it is training now or
was trained by an earlier server (or from the command line) and lives only on disk.

:meth:`RunSnapshot.of_run_dir` builds it from a run directory; :meth:`Job.snapshot` from a live
job. Both build the same type here, so a page reads ``snap.status`` the same way for either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer.design import spec
from designer.design.spec import Design, DesignFileError
from designer.training import rundir


@dataclass(frozen=True)
class RunSnapshot:
    run_id: str
    run_dir: str
    status: str | None
    phase: str  # "queued", "loading data", ..., "training", "saving", "done"
    done: bool
    epoch: int  # epochs done
    epochs: int  # epochs the run will have when it ends
    history: list[dict[str, float]] = field(default_factory=list)
    initial_epoch: int = 0  # epochs done before this job (a resumed run)
    batch: int = 0  # batch of the epoch in progress (1-based; 0 between epochs)
    batches: int | None = None
    elapsed: float | None = None  # seconds spent training (pauses left out)
    eta_s: float | None = None
    batch_metrics: list[dict[str, float]] = field(default_factory=list)
    last_error: str | None = None
    error_kind: str | None = None  # "data" | "design" | "training" | "nan" | "interrupted"
    problems: list[list[str]] = field(default_factory=list)  # [node id, message]
    warnings: list[str] = field(default_factory=list)
    metrics: dict[str, Any] | None = None  # the test evaluation, once the run ended
    grid: dict[str, Any] | None = None  # 2-D data: the latest decision boundary
    task: str | None = None
    kind: str | None = None  # the data's kind: image, points2d, tabular, sequence
    class_names: list[str] = field(default_factory=list)
    samples: dict[str, int] | None = None
    replicas: int | None = None
    dataset: str | None = None
    limit: int | None = None  # at most this many samples per split (run.json), None: all
    where: str = ""  # "local", "ray: <node>"; "" while queued
    queue_position: int | None = None
    pid: int | None = None
    stop_requested: bool = False
    pause_requested: bool = False
    created: float | None = None

    @property
    def active(self) -> bool:
        """Queued, running or paused, and not ended."""
        return self.status in rundir.ACTIVE and not self.done

    def trained_design(self) -> Design | None:
        """The design as this run trained it (its design.json); None when unreadable."""
        try:
            return spec.load(Path(self.run_dir) / rundir.DESIGN_FILE)
        except DesignFileError:
            return None

    @classmethod
    def of_run_dir(cls, path: str | Path) -> RunSnapshot | None:
        """The picture a run directory gives (None when there is no such directory)."""
        path = Path(path)
        if not path.is_dir():
            return None
        status = rundir.read_status(path)
        history = rundir.read_history(path)
        metrics = rundir.read_json(path / rundir.METRICS_FILE)
        metrics = metrics if isinstance(metrics, dict) else None
        design = rundir.read_json(path / rundir.DESIGN_FILE) or {}
        started = rundir.read_json(path / rundir.RUN_FILE) or {}
        return cls(
            run_id=path.name,
            run_dir=str(path),
            status=status.get("status"),
            phase="done",
            done=status.get("status") not in rundir.ACTIVE,
            epoch=len(history),
            epochs=status.get("epochs") or len(history),
            history=history,
            last_error=status.get("error"),
            metrics=metrics,
            task=(metrics or {}).get("task"),
            class_names=(metrics or {}).get("class_names", []),
            dataset=(design.get("data") or {}).get("dataset"),
            limit=started.get("limit") if isinstance(started, dict) else None,
            where=rundir.status_where(status),
        )
