"""Starting the training process: multiprocessing's "spawn", without re-running ``__main__``.

A spawned child normally re-executes the parent's main script (as ``__mp_main__``) so that
functions defined there can be unpickled. Under Streamlit, ``sys.modules["__main__"]`` is the
page script that ran last, so every training process would run that page again: Streamlit
calls, widgets, perhaps another Train button. Our target lives in an importable module, so
the child needs none of that; :class:`TrainingProcess` leaves the main module out of what it
sends to the child. (Fork is no alternative: forking a process that has imported TensorFlow
is unsafe.)
"""

from __future__ import annotations

import multiprocessing
import sys
import threading

_CTX = multiprocessing.get_context("spawn")
_LOCK = threading.Lock()


def context():
    return _CTX


if sys.platform == "win32":  # pragma: no cover - the app is served from Linux/macOS
    TrainingProcess = _CTX.Process
else:
    from multiprocessing import popen_spawn_posix, spawn

    def _without_main(get_preparation_data):
        def prepare(name):
            data = get_preparation_data(name)
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
            return data

        return prepare

    class _Popen(popen_spawn_posix.Popen):
        def _launch(self, process_obj):
            # The stdlib offers no switch for this; the swap lasts only while this launch
            # builds its preparation data, under a lock so two launches cannot interleave.
            with _LOCK:
                original = spawn.get_preparation_data
                spawn.get_preparation_data = _without_main(original)
                try:
                    super()._launch(process_obj)
                finally:
                    spawn.get_preparation_data = original

    class TrainingProcess(_CTX.Process):
        @staticmethod
        def _Popen(process_obj):
            return _Popen(process_obj)
