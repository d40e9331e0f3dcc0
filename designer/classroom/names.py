"""Display names, each owned by the browser session that claimed it first.

``names.json`` maps a name's folded form (case and surrounding spaces ignored, so "Ada" and
" ada" are one name) to ``{"name", "owner", "claimed"}``. A claim is read-check-write under a
lock and written atomically: two sessions racing for one name cannot both win.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from designer import settings

from .assignment import AssignmentError
from .submissions import check_name

NAMES = "names.json"
_LOCK = threading.Lock()


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def _read(folder: Path) -> dict[str, dict]:
    try:
        data = json.loads((folder / NAMES).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def by_session(folder: str | Path) -> dict[str, str]:
    """session id -> the display name it claimed."""
    return {
        e["owner"]: e["name"]
        for e in _read(Path(folder)).values()
        if isinstance(e, dict) and "owner" in e and "name" in e
    }


def owner(folder: str | Path, name: str) -> str | None:
    entry = _read(Path(folder)).get(_fold(name))
    return entry.get("owner") if entry else None


def claim(folder: str | Path, name: str, who: str) -> str:
    """Give ``name`` to ``who`` (a session id); returns the name as it will be shown.
    AssignmentError when the name is not a valid one or belongs to another session."""
    problem = check_name(name)
    if problem:
        raise AssignmentError(problem)
    shown = " ".join(name.split())
    folder = Path(folder)
    with _LOCK:
        names = _read(folder)
        entry = names.get(_fold(shown))
        if entry and entry.get("owner") != who:
            raise AssignmentError(f"{shown!r} is taken: choose another name")
        if not entry:
            names[_fold(shown)] = {"name": shown, "owner": who, "claimed": time.time()}
            settings.atomic_write_text(folder / NAMES, json.dumps(names, indent=1))
    return entry["name"] if entry else shown
