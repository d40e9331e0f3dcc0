"""Keras' answers about single layers, kept on disk, so a fresh server can show a design's
shapes and counts before TensorFlow has loaded (the first Design page waited for the import).

An answer depends only on the layer's type, parameters and input shapes (the key of
:mod:`designer.model.build`'s in-memory cache), on Keras, and on the code that asks Keras.
Two files:

* ``layer_answers.json`` next to this module: the answers for every template and the blank
  design, written by ``tools/write_layer_answers.py``. It is read only while the code
  that asks Keras is the code that wrote it (a digest of that code is in the file), and
  ``tests/test_layer_cache.py`` checks every answer against the Keras installed (it fails,
  saying how to write the file again, when the code or an answer changed). Keras' version is
  not part of its stamp: ``keras>=3.8`` is not pinned, and these layers' shapes and counts
  are what the test checks on each new install.
* ``<workspace>/cache/layer_answers.jsonl``: the answers this workspace's servers computed
  for any layer, one JSON line each, appended as they are computed, each stamped with the
  Keras version (read from the package's metadata, without importing Keras) and the code's
  digest: after an upgrade or a change of the catalog, Keras is asked again.

A damaged line or file is skipped: the cost is one question to Keras, never a wrong answer
(a line is written whole with one ``write``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

from designer import settings

SHIPPED = Path(__file__).with_name("layer_answers.json")
# The code whose change can change an answer: how a node becomes a layer (catalog, params,
# names, arguments kept from an imported file) and how an answer is made (build).
_SOURCES = ("model/build.py", "model/modelfile.py", "design/catalog.py", "design/params.py",
            "design/graph.py", "text.py")  # fmt: skip
_MAX_LINES_BYTES = 8 * 2**20  # the workspace file starts again beyond this

_lock = threading.Lock()


@functools.cache
def code_digest() -> str:
    """A digest of the code that makes the answers (once a process)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha1()
    for name in _SOURCES:
        digest.update((root / name).read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def keras_version() -> str:
    """From the package's metadata: Keras itself is not imported."""
    try:
        return metadata.version("keras")
    except metadata.PackageNotFoundError:
        return "none"


def stamp() -> str:
    """The Keras version and the code's digest: what a workspace answer is valid for."""
    return f"keras {keras_version()} · code {code_digest()}"


def _workspace_file() -> Path:
    return settings.workspace() / "cache" / "layer_answers.jsonl"


def read() -> dict[str, list[Any]]:
    """Every answer on disk with the current stamp: key -> the answer's fields."""
    now = stamp()
    found: dict[str, list[Any]] = {}
    try:
        shipped = json.loads(SHIPPED.read_text(encoding="utf-8"))
        if shipped.get("code") == code_digest():
            found.update(shipped["answers"])
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    try:
        lines = _workspace_file().read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            line_stamp, key, answer = json.loads(line)
        except ValueError:
            continue
        if line_stamp == now:
            found[key] = answer
    return found


def append(key: str, answer: list[Any]) -> None:
    """Keep one new answer in the workspace's file (best effort: a read-only workspace only
    means the next server asks Keras again)."""
    path = _workspace_file()
    line = json.dumps([stamp(), key, answer]) + "\n"
    with _lock:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() and path.stat().st_size > _MAX_LINES_BYTES:
                path.unlink()
            # One write of a whole line in append mode: readers see it whole or not at all.
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
        except OSError:
            pass


def write_shipped(answers: dict[str, list[Any]]) -> None:
    """Write :data:`SHIPPED` (``tools/write_layer_answers.py`` asks Keras for the answers)."""
    lines = ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(answers.items()))
    # One answer a line, so that a change to the file reads as the answers that changed.
    head = f'"code": "{code_digest()}", "made_with": "keras {keras_version()}"'
    text = f'{{{head},\n"answers": {{\n{lines}\n}}}}\n'
    SHIPPED.write_text(text, encoding="utf-8")
