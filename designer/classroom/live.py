"""A class while it runs on a server: which assignment the server runs, which submission the
teacher shows to everyone, and who is training now.

The server's class is ``KERAS_DESIGNER_CLASS`` when set; otherwise the assignment a teacher
opened on the Class page, remembered in the workspace's ``class.json`` (so a restart keeps
it). Both the open class and the shown submission are files, not session state: every
session of the server (and every tab) sees the same ones at its next rerun.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from designer import settings
from designer.training import rundir

from . import names, passphrase
from .assignment import ASSIGNMENT_FILE, AssignmentError
from .submissions import Submission, read_submissions

SERVER_CLASS = "class.json"  # in the workspace: the class a teacher opened on the page
REVEALED = "revealed.json"  # in the assignment: the submission shown to the whole class


# ---- which class the server runs ------------------------------------------------------------
def _server_file() -> Path:
    return settings.workspace() / SERVER_CLASS


def class_folder() -> Path | None:
    """The assignment folder this server runs (None: no class)."""
    folder = settings.CLASS.get()
    if folder:
        return Path(folder).expanduser()
    try:
        data = json.loads(_server_file().read_text(encoding="utf-8"))
        return Path(data["folder"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def fixed_by_environment() -> bool:
    """Was the class given by KERAS_DESIGNER_CLASS (the page cannot end it then)?"""
    return bool(settings.CLASS.get())


def open_class(folder: str | Path, secret: str) -> Path:
    """Run the assignment in ``folder`` on this server, given its teacher passphrase."""
    folder = Path(folder).expanduser().resolve()
    if not (folder / ASSIGNMENT_FILE).is_file():
        raise AssignmentError(f"{folder} holds no assignment (make one with `class create`)")
    if not passphrase.verify(folder / "teacher.json", secret):
        raise AssignmentError("that is not this assignment's teacher passphrase")
    settings.atomic_write_text(_server_file(), json.dumps({"folder": str(folder)}) + "\n")
    return folder


def end_class() -> None:
    """Stop running the class a teacher opened on the page (its folder stays as it is)."""
    _server_file().unlink(missing_ok=True)


# ---- the submission shown to everyone ------------------------------------------------------
def reveal(folder: str | Path, sub: Submission) -> None:
    settings.atomic_write_text(Path(folder) / REVEALED, json.dumps(asdict(sub)) + "\n")


def hide(folder: str | Path) -> None:
    (Path(folder) / REVEALED).unlink(missing_ok=True)


def revealed(folder: str | Path) -> Submission | None:
    """The submission the teacher shows to the class, if it is still one of the log's."""
    try:
        sub = Submission(**json.loads((Path(folder) / REVEALED).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    return sub if sub in read_submissions(folder) else None


# ---- who is training now ------------------------------------------------------------------
def training_now(folder: str | Path, runs_root: str | Path) -> list[dict]:
    """One row per class member's queued, running or paused run: name, run, status, epoch."""
    who = names.by_session(folder)
    rows = []
    root = Path(runs_root)
    if not root.is_dir():
        return rows
    for path in root.iterdir():
        owner = rundir.read_owner(path) if path.is_dir() else None
        if owner not in who:
            continue
        status = rundir.read_status(path)
        if status.get("status") not in rundir.ACTIVE:
            continue
        rows.append(
            {
                "name": who[owner],
                "run": path.name,
                "status": status["status"],
                "epoch": int(status.get("epochs_done") or 0),
                "started": str(status.get("started") or ""),
            }
        )
    return sorted(rows, key=lambda r: (r["name"].casefold(), r["run"]))
