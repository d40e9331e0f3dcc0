"""TensorFlow's start-up lines, kept off a command's stderr.

While its libraries load, TensorFlow 2.20 and later write a few lines to file descriptor 2::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:1796174806.922965    3617 port.cc:153] oneDNN custom operations are on. ...

absl writes them before its logging is initialised, so ``TF_CPP_MIN_LOG_LEVEL`` does not hold
them back (abseil/abseil-cpp#1718) and they bypass ``sys.stderr``. A command's stderr is for
its own messages: :func:`install` makes the first ``import tensorflow`` of the process run with
file descriptor 2 pointing at a temporary file, then writes back to stderr whatever else landed
there (a Python warning, the details of a failed import). Nothing is imported by ``install``
itself, so ``--help`` stays instant.

Training processes need none of this: their output goes to the run's ``log.txt``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import sys
import tempfile
from typing import Any

# absl's own notice, and its lines of severity INFO or WARNING ("I0000 00:00:1796174806.92 3617
# port.cc:153] ..."), which TF_CPP_MIN_LOG_LEVEL=2 would have hidden had absl been initialised.
_STARTUP_LINE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"
    r"|[IW]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] "
)


@contextlib.contextmanager
def _startup_lines_dropped():
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines = sink.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(ln for ln in lines if not _STARTUP_LINE.match(ln)))
            sys.stderr.flush()


class _QuietLoader:
    """Runs TensorFlow's own loader with its start-up lines dropped; otherwise the same."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        with _startup_lines_dropped():
            self._loader.exec_module(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _Finder:
    """Finds ``tensorflow`` the usual way (once: it then leaves ``sys.meta_path``) and hands
    back its spec with the loader wrapped."""

    def find_spec(self, name, path, target=None):
        if name != "tensorflow":
            return None
        uninstall()
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


_FINDER = _Finder()


def install() -> None:
    """Drop TensorFlow's start-up lines when (and if) this process imports it. A user who asks
    for TensorFlow's log (``TF_CPP_MIN_LOG_LEVEL`` 0 or 1) gets every line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules or _FINDER in sys.meta_path:
        return
    if os.environ["TF_CPP_MIN_LOG_LEVEL"].strip() in ("0", "1"):
        return
    sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    with contextlib.suppress(ValueError):
        sys.meta_path.remove(_FINDER)
