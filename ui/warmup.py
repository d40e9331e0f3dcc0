"""Import Keras in the background after the first paint, so the Design page opens quickly.

TensorFlow takes several seconds to import; the Home page never needs it, but the next page
usually does. Set KERAS_DESIGNER_PREWARM=0 to turn this off (tests that check what the Home
page imports do).
"""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_started = False


def enabled() -> bool:
    return os.environ.get("KERAS_DESIGNER_PREWARM", "1") != "0"


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

        import designer.build  # noqa: F401 - the import is the point
    except Exception:  # noqa: BLE001 - only an optimisation; the page imports it itself
        pass
