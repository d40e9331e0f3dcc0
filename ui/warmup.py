"""Import Keras in the background after the first paint, so the Design page opens quickly.

TensorFlow takes several seconds to import; the Home page never needs it, but the next page
usually does. Set KERAS_DESIGNER_PREWARM=0 to turn this off (tests that check what the Home
page imports do).
"""

from __future__ import annotations

import threading
import time

import designer.model.build  # noqa: F401 - the import is the point
from designer import settings

_lock = threading.Lock()
_started = False


def enabled() -> bool:
    return settings.flag(settings.PREWARM)


def start(delay: float = 1.5) -> None:
    """Start the warm-up once per server process (later calls do nothing)."""
    global _started
    with _lock:
        if _started or not enabled():
            return
        _started = True
    threading.Thread(target=_warm, args=(delay,), name="keras-warmup", daemon=True).start()


def _warm(delay: float) -> None:
    time.sleep(delay)  # let the first page reach the browser before the CPU is busy
    try:
        import keras  # noqa: F401

    except Exception:  # noqa: BLE001 - only an optimisation; the page imports it itself
        pass
