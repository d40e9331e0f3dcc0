"""Where things live and how the server behaves: every environment variable and default path in
one place, and the one atomic write.

The README's table of settings lists the same names (a test compares them); change both
together. Each setting is read when it is asked for, so a test (or a person) can change it
between two calls.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str

    def get(self) -> str:
        return os.environ.get(self.name, "") or self.default


HOME = Setting(
    "KERAS_DESIGNER_HOME",
    "./workspace",
    "the workspace: browser sessions, uploads and (unless KERAS_DESIGNER_RUNS says otherwise) runs",
)
RUNS = Setting(
    "KERAS_DESIGNER_RUNS",
    "",
    "where runs are written and listed, by the app and the command line alike "
    "(default: <workspace>/runs)",
)
EXECUTOR = Setting(
    "KERAS_DESIGNER_EXECUTOR",
    "",
    "where the app's runs train: local or ray (default: ray when "
    "KERAS_DESIGNER_RAY_ADDRESS is set, else local)",
)
RAY_ADDRESS = Setting(
    "KERAS_DESIGNER_RAY_ADDRESS", "", "the Ray cluster the app sends runs to (HOST:PORT)"
)
MAX_JOBS = Setting(
    "KERAS_DESIGNER_MAX_JOBS",
    "",
    "runs that train at once (default: 1 on this machine, 64 handed to a Ray cluster)",
)
SETTINGS_LOCKED = Setting(
    "KERAS_DESIGNER_SETTINGS_LOCKED",
    "",
    "1: sessions cannot switch where the server trains (the Settings page is read-only)",
)
PREWARM = Setting(
    "KERAS_DESIGNER_PREWARM",
    "1",
    "0: do not import Keras and start a spare training process in the background after the "
    "first page",
)
NO_BAR = Setting(
    "KERAS_DESIGNER_NO_BAR", "", "1: the command line prints no progress bar, only lines"
)
DEBUG = Setting(
    "KERAS_DESIGNER_DEBUG", "", "1: the command line prints a traceback on unexpected errors"
)
CLASS = Setting(
    "KERAS_DESIGNER_CLASS",
    "",
    "an assignment folder made by `class create`: the app opens on a Class page where "
    "students join, submit and see the leaderboard",
)
EXTRAS = Setting(
    "KERAS_DESIGNER_EXTRAS",
    "test,ray",
    "the extras ./run.sh installs with the project (read by run.sh)",
)

ALL = (
    HOME,
    RUNS,
    EXECUTOR,
    RAY_ADDRESS,
    MAX_JOBS,
    SETTINGS_LOCKED,
    PREWARM,
    NO_BAR,
    DEBUG,
    CLASS,
    EXTRAS,
)


def flag(setting: Setting) -> bool:
    """A yes/no setting: anything but empty or 0 means yes."""
    return setting.get().strip() not in ("", "0")


def workspace() -> Path:
    """The app's folder for sessions, uploads and runs."""
    return Path(HOME.get()).expanduser()


def runs_dir() -> Path:
    """The one runs folder of the app and the command line."""
    return Path(RUNS.get()).expanduser() if RUNS.get() else workspace() / "runs"


def max_jobs(default: int) -> int:
    return max(1, int(MAX_JOBS.get() or default))


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary file name beside ``path`` for a writer that wants a name (``model.save``,
    h5py): renamed over ``path`` when the block ends, removed if it raises. A reader, or a
    crash, never sees half a file.

    The name keeps the suffix (Keras checks it), starts with a dot (folder listings and the Ray
    file sync skip it) and holds the process id (two processes never share one). A rename is
    atomic only within one file system, hence the same folder.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())  # the bytes are on disk before the name points at them


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
