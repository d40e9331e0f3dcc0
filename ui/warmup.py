"""Import Keras in the background after the first paint, so the Design page opens quickly;
and keep Streamlit's clean-up after each script run cheap once Keras is in the process.

TensorFlow takes several seconds to import; the Home page never needs it, but the next page
usually does. Set KERAS_DESIGNER_PREWARM=0 to turn this off (tests that check what the Home
page imports do).
"""

from __future__ import annotations

import sys
import threading
import time

from streamlit.runtime.scriptrunner import script_runner

import designer.model.build  # noqa: F401 - the import is the point
from designer import settings

_lock = threading.Lock()
_started = False


def enabled() -> bool:
    return settings.flag(settings.PREWARM)


def start(delay: float = 0.2) -> None:
    """Start the warm-up once per server process (later calls do nothing)."""
    global _started
    with _lock:
        if _started or not enabled():
            return
        _started = True
    threading.Thread(target=_warm, args=(delay,), name="keras-warmup", daemon=True).start()


def _warm(delay: float) -> None:
    # The first page's script has ended (start() is its last line); a moment for its last
    # messages to leave, then the import that the next page waits for (4-6 s here, the
    # first Design page's whole wait).
    time.sleep(delay)
    try:
        import keras  # noqa: F401

    except Exception:  # noqa: BLE001 - only an optimisation; the page imports it itself
        pass


def light_cleanup() -> None:
    """After every script run and fragment tick Streamlit calls ``keras.backend.clear_session()``,
    whose default ``free_memory=True`` is a full garbage collection: on a server holding
    TensorFlow that was most of the server's time once 10 sessions watched a polling page
    (the Class page's leaderboard, Train's progress). Keras' own docs advise
    ``free_memory=False`` when it is called often: the global state is reset just the same,
    and Python's generational collector frees memory as usual. (The per-run ``gc.collect``
    of Streamlit itself is off in .streamlit/config.toml, ``runner.postScriptGC``.)

    Streamlit's clean-up is a module function looked up at each call; if a later Streamlit
    moves it, this does nothing and the default stays."""
    default = getattr(script_runner, "_clean_problem_modules", None)
    if default is None or getattr(default, "light", False):
        return

    def clean() -> None:
        # A module another thread is still importing (the warm-up's Keras, or matplotlib
        # imported by a page or a job's thread) sits half built in sys.modules, without the
        # function used here: nothing has been made with it yet, so there is nothing to clear.
        clear = getattr(getattr(sys.modules.get("keras"), "backend", None), "clear_session", None)
        if clear is not None:
            clear(free_memory=False)
        close = getattr(sys.modules.get("matplotlib.pyplot"), "close", None)
        if close is not None:
            close("all")

    clean.light = True
    script_runner._clean_problem_modules = clean
