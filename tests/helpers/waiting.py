"""Waiting for a job's state in the tests that drive the registry directly."""

from __future__ import annotations

import time
from collections.abc import Callable

WAIT = 300  # generous: other work may share the 2 cores


def wait_for(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
