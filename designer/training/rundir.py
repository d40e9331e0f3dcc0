"""Run directories: everything a training run leaves on disk, written as training goes.

A run directory holds::

    design.json    the design as trained (its ``data`` section is the data actually used)
    run.json       how the run was started (limit, offline), for resuming it the same way
    owner.txt      the app session that started it (optional; see write_owner)
    status.json    {"status", "pid", "pid_created", "started", "updated", "finished",
                    "epochs_done", "epochs", "model_epoch", "error", "problems", "reason"}:
                    rewritten at every transition and every epoch; "reason" says why a run
                    was stopped by a program (a search's pruner) rather than by a person
    history.csv    one row per epoch: ``epoch`` (1-based count) then Keras' metric names
                   (loss, accuracy, val_loss, val_accuracy...) and learning_rate
    metrics.json   final test metrics (see designer.report.evaluate.report)
    model.keras    the last model (saved 2 s to 1 min apart, by its cost, and at the end;
                   ``model_epoch`` says which epoch it holds); best.keras the best one by
                   the monitored metric
    distributions.jsonl  one line per epoch: each layer's outputs and gradients measured on
                   a fixed batch (designer.report.distributions); appended, not replaced
    logs/          TensorBoard event files;  log.txt  the training process' stderr
    stop           present while a stop is requested (see request_stop)

Every file is replaced atomically (write a temporary file, then rename), so a process killed
at any moment leaves the previous complete version behind, never half a file. A status that
says a process is working is only believed while that process is alive: a run whose process
died is reported as ``interrupted``.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from designer import settings
from designer.errors import DesignerError

DESIGN_FILE = "design.json"
RUN_FILE = "run.json"
OWNER_FILE = "owner.txt"  # the app session that started a run, sweep or bag (absent: everyone's)
STATUS_FILE = "status.json"
HISTORY_FILE = "history.csv"
METRICS_FILE = "metrics.json"
MODEL_FILE = "model.keras"
BEST_FILE = "best.keras"
LOGS_DIR = "logs"
LOG_FILE = "log.txt"
STOP_FILE = "stop"  # its presence asks the training process to stop (works across restarts)
# One JSON line per epoch: each layer's activations and gradients (designer.report.distributions)
DISTRIBUTIONS_FILE = "distributions.jsonl"

ACTIVE = ("queued", "running", "paused")
FINAL = ("finished", "stopped", "failed", "nan", "interrupted")
STATUSES = ACTIVE + FINAL


class TrainingError(DesignerError):
    """A run cannot be started or continued; the message is one line meant for the user."""


def runs_root(root: str | Path | None = None) -> Path:
    """Where runs go and are listed: ``root``, else the one runs folder of the app and the
    command line (:func:`designer.settings.runs_dir`)."""
    return Path(root) if root else settings.runs_dir()


def now_iso() -> str:
    return _dt.datetime.now().isoformat(timespec="seconds")


def write_owner(path: str | Path, owner: str) -> None:
    """Mark a run (or a sweep or bag folder) as one app session's: other sessions don't list it."""
    settings.atomic_write_text(Path(path) / OWNER_FILE, owner)


def read_owner(path: str | Path) -> str | None:
    try:
        return (Path(path) / OWNER_FILE).read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def new_run_dir(root: str | Path | None, name: str) -> Path:
    """A fresh, empty directory ``<root>/<name>-<YYYYmmdd-HHMMSS>`` (suffixed if taken)."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "run"
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    parent = runs_root(root)
    parent.mkdir(parents=True, exist_ok=True)
    for i in range(1, 1000):
        path = parent / (f"{base}-{stamp}" + (f"-{i}" if i > 1 else ""))
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise TrainingError(f"cannot find a free run directory name under {parent}")


def write_json(path: Path, data: Any) -> None:
    settings.atomic_write_text(path, json.dumps(_finite(data), indent=2) + "\n")


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def append_distributions(run_dir: Path, epoch: int, layers: dict[str, Any]) -> None:
    """One epoch's measurements, appended (a resumed run goes on in the same file)."""
    line = json.dumps(_finite({"epoch": epoch, "layers": layers}), separators=(",", ":"))
    with open(Path(run_dir) / DISTRIBUTIONS_FILE, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def read_distributions(run_dir: str | Path) -> list[dict[str, Any]]:
    """The measurements per epoch, in epoch order (the last line of an epoch wins: a resumed
    run measured again; a half-written last line, of a run that died, is left out)."""
    try:
        text = (Path(run_dir) / DISTRIBUTIONS_FILE).read_text(encoding="utf-8")
    except OSError:
        return []
    found: dict[int, dict[str, Any]] = {}
    for line in text.splitlines():
        try:
            entry = json.loads(line)
            found[int(entry["epoch"])] = entry
        except (ValueError, KeyError, TypeError):
            continue
    return [found[e] for e in sorted(found)]


def _finite(value: Any) -> Any:
    # JSON has no NaN/Infinity; a NaN loss is recorded as null so every reader can parse it.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


# ---- status ----------------------------------------------------------------------------------
def process_created(pid: int) -> float | None:
    """The start time of process ``pid`` (None if there is no such process)."""
    try:
        import psutil

        return psutil.Process(pid).create_time()
    except Exception:  # noqa: BLE001 - no such process, or no permission: both mean "not ours"
        return None


def pid_alive(pid: Any, created: float | None = None) -> bool:
    """Is ``pid`` a live (non-zombie) process, and the same one that wrote the status?

    ``created`` (the process start time recorded with the pid) guards against the pid having
    been reused by an unrelated process after a reboot or a long time.
    """
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        import psutil

        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return created is None or abs(proc.create_time() - float(created)) < 2.0
    except Exception:  # noqa: BLE001 - NoSuchProcess, AccessDenied...
        return False


def write_status(run_dir: str | Path, status: str, **fields: Any) -> dict:
    """Merge ``fields`` into status.json with ``status`` and a fresh ``updated`` time."""
    path = Path(run_dir) / STATUS_FILE
    current = read_json(path)
    data = current if isinstance(current, dict) else {}
    data.setdefault("started", now_iso())
    data.update(fields)
    data["status"] = status
    data["updated"] = now_iso()
    if "pid" in fields and "pid_created" not in fields:
        pid = fields["pid"]
        data["pid_created"] = process_created(pid) if isinstance(pid, int) else None
    write_json(path, data)
    return data


def read_status(run_dir: str | Path) -> dict:
    """status.json as a dict; an active status whose process is gone reads ``interrupted``."""
    data = read_json(Path(run_dir) / STATUS_FILE)
    if not isinstance(data, dict) or data.get("status") not in STATUSES:
        # No status (or a corrupt one): a directory someone made by hand, or a crash before
        # the first write. Either way nothing is running there.
        return {"status": "interrupted", "error": "no readable status.json", "epochs_done": 0}
    if data["status"] in ACTIVE and not pid_alive(data.get("pid"), data.get("pid_created")):
        data["status"] = "interrupted"
        data["error"] = data.get("error") or "the training process ended unexpectedly"
    return data


def record_stop_reason(run_dir: str | Path, reason: str) -> None:
    """Say why a stopped run was stopped: status.json's ``error`` and ``reason``, and a line at
    the end of its log. Best effort: a full disk must not keep the job from ending."""
    path = Path(run_dir)
    try:
        write_status(path, "stopped", error=reason, reason=reason)
        with open(path / LOG_FILE, "a", encoding="utf-8") as log:
            log.write(f"{now_iso()} stopped: {reason}\n")
    except OSError:
        pass


def request_stop(run_dir: str | Path) -> None:
    """Ask whichever process trains ``run_dir`` to stop (checked once per batch)."""
    (Path(run_dir) / STOP_FILE).touch()


# ---- history ---------------------------------------------------------------------------------
def read_history(run_dir: str | Path) -> list[dict[str, float]]:
    """history.csv as a list of rows; ``epoch`` is an int, the rest floats (nan for blanks)."""
    path = Path(run_dir) / HISTORY_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    rows = []
    for raw in csv.DictReader(io.StringIO(text)):
        row: dict[str, Any] = {}
        for key, value in raw.items():
            if key is None:
                continue
            try:
                row[key] = float(value) if value not in ("", None) else math.nan
            except ValueError:
                row[key] = math.nan
        if "epoch" in row and math.isfinite(row["epoch"]):
            row["epoch"] = int(row["epoch"])
        rows.append(row)
    return rows


def write_history(run_dir: str | Path, rows: list[dict[str, Any]]) -> None:
    """Rewrite history.csv: ``epoch`` first, then every metric in order of first appearance
    (a resumed run that adds a metric gets a column, blank in the earlier rows)."""
    columns = ["epoch"]
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    settings.atomic_write_text(Path(run_dir) / HISTORY_FILE, buf.getvalue())


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)  # repr gives "inf" for inf
    return value


def best_metric(rows: list[dict[str, Any]]) -> tuple[str, float] | None:
    """The best validation value of a history: val_accuracy (max) or val_loss (min), else the
    training accuracy/loss for runs without a validation set."""
    for name, better in (
        ("val_accuracy", max),
        ("val_loss", min),
        ("accuracy", max),
        ("loss", min),
    ):
        values = [
            r[name]
            for r in rows
            if isinstance(r.get(name), (int, float)) and math.isfinite(r[name])
        ]
        if values:
            return name, float(better(values))
    return None


# ---- listing ---------------------------------------------------------------------------------
@dataclass
class RunInfo:
    id: str
    path: Path
    status: str
    epochs: int
    best: tuple[str, float] | None
    started: str | None
    error: str | None
    name: str  # the design's name
    where: str = ""  # what trained it: "local", or "ray: <node>" (see where()); "" while queued

    @property
    def best_text(self) -> str:
        return f"{self.best[0]}={self.best[1]:.4g}" if self.best else "-"


def run_info(run_dir: str | Path) -> RunInfo:
    path = Path(run_dir)
    status = read_status(path)
    rows = read_history(path)
    design = read_json(path / DESIGN_FILE)
    return RunInfo(
        id=path.name,
        path=path,
        status=status["status"],
        epochs=len(rows),
        best=best_metric(rows),
        started=status.get("started"),
        error=status.get("error"),
        name=design.get("name", "") if isinstance(design, dict) else "",
        where=status_where(status),
    )


def where(executor: str, host: str | None) -> str:
    """Where a run trained, for run tables: "local", or "ray" and the worker's machine."""
    if executor == "local" or not host:
        return executor
    return f"{executor}: {host}"


def status_where(status: dict) -> str:
    """What trained the run whose status.json is ``status`` (see :func:`where`)."""
    if status.get("executor"):
        return where(status["executor"], status.get("host"))
    # Runs from before the ray executor existed all trained here.
    return "" if status["status"] == "queued" else "local"


def is_run_dir(path: Path) -> bool:
    return (path / STATUS_FILE).is_file() or (path / DESIGN_FILE).is_file()


def list_runs(
    root: str | Path | None = None, keep: Callable[[Path], bool] | None = None
) -> list[RunInfo]:
    """Every run directory directly under ``root`` (for which ``keep`` holds), oldest first.

    ``keep`` is asked before a run's files are read: a page that shows one session's runs
    on a class server polls every 2 s, and reading all the class's runs each time costs
    the server per session what it should cost per run of that session."""
    parent = runs_root(root)
    if not parent.is_dir():
        return []
    runs = [
        run_info(p)
        for p in parent.iterdir()
        if p.is_dir() and is_run_dir(p) and (keep is None or keep(p))
    ]
    return sorted(runs, key=lambda r: (r.started or "", r.id))
