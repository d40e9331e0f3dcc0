"""The submissions log: one JSON line per scored submission, and the leaderboard it gives.

Appending is one ``write`` of one whole line to a file opened with ``O_APPEND``, then
``fsync``: the line is on disk before the score is shown, so a crash (even ``kill -9``) never
loses a confirmed submission, and two writers never interleave their lines. A line cut short
by a crash in the middle of a write was never confirmed; readers skip it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

LOG = "submissions.jsonl"
# 1-32 characters of letters, digits, spaces and -_. (no markup, no path, no control char).
NAME_RE = re.compile(r"^[\w .-]{1,32}$")
RATE_LIMIT_S = 10.0  # one submission per name per this many seconds (assignment.json may say)
CSV_COLUMNS = ("name", "score", "params", "epochs", "run", "submitted_at")

# One writer at a time within this process (the server's sessions are threads); O_APPEND
# keeps lines whole between processes.
_WRITE = threading.Lock()


def check_name(name: str) -> str | None:
    """Why ``name`` cannot be a display name (None: it can)."""
    if not NAME_RE.match(name or ""):
        return "a name is 1 to 32 letters, digits, spaces or - _ . and nothing else"
    if not name.strip():
        return "a name needs at least one letter or digit"
    return None


@dataclass(frozen=True)
class Submission:
    name: str
    score: float
    params: int
    epochs: int
    run: str
    submitted_at: float  # seconds since the epoch
    metric: str = "accuracy"

    def at_text(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(self.submitted_at))

    def clock_text(self) -> str:
        """The time of day it was submitted (a class happens within one day)."""
        return time.strftime("%H:%M:%S", time.localtime(self.submitted_at))


class TooSoon(ValueError):
    """The name submitted less than the rate limit ago; ``wait`` seconds are left."""

    def __init__(self, name: str, wait: float):
        super().__init__(f"{name} submitted moments ago: wait {wait:.0f} s more")
        self.wait = wait


def append(folder: str | Path, sub: Submission, *, limit_s: float | None = None) -> None:
    """Record ``sub``; with ``limit_s``, refuse (TooSoon) when its name submitted less than
    that long ago (checked and written under one lock: two clicks cannot both pass)."""
    line = (json.dumps(asdict(sub), sort_keys=True) + "\n").encode("utf-8")
    path = Path(folder) / LOG
    with _WRITE:
        if limit_s is not None:
            wait = wait_left(read_submissions(folder), sub.name, limit_s, sub.submitted_at)
            if wait > 0:
                raise TooSoon(sub.name, wait)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def read_submissions(folder: str | Path) -> list[Submission]:
    """Every recorded submission, oldest first (a half-written last line is skipped)."""
    path = Path(folder) / LOG
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    out: list[Submission] = []
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            out.append(Submission(**data))
        except (ValueError, TypeError):
            continue
    return out


def wait_left(subs: list[Submission], name: str, limit_s: float, now: float) -> float:
    """Seconds ``name`` must still wait before its next submission (0: it may submit)."""
    last = max((s.submitted_at for s in subs if s.name == name), default=None)
    return 0.0 if last is None else max(0.0, last + limit_s - now)


@dataclass(frozen=True)
class Standing:
    rank: int
    name: str
    best: Submission
    submissions: int

    def line(self) -> str:
        return f"{self.rank} {self.best.score:.4f} {self.submissions} {self.name}"


def leaderboard(subs: list[Submission]) -> list[Standing]:
    """Best score per name, best first; a tie goes to whoever reached it first."""
    best: dict[str, Submission] = {}
    count: dict[str, int] = {}
    for s in subs:
        count[s.name] = count.get(s.name, 0) + 1
        held = best.get(s.name)
        if held is None or s.score > held.score:
            best[s.name] = s
    order = sorted(best.values(), key=lambda s: (-s.score, s.submitted_at))
    return [Standing(i, s.name, s, count[s.name]) for i, s in enumerate(order, start=1)]


def csv_text(subs: list[Submission]) -> str:
    """Every submission as CSV (``CSV_COLUMNS``): the CLI's --csv and the teacher's download."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in subs:
        writer.writerow([s.name, f"{s.score:.6f}", s.params, s.epochs, s.run, s.at_text()])
    return out.getvalue()
