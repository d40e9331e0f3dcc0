"""Opening what people upload as a design: a design file (.json) or a Keras model (.keras)."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

from designer.spec import MAX_FILE_BYTES, Design, DesignFileError
from ui import state

MAX_KERAS_BYTES = 300 * 1024 * 1024


def importer_available() -> bool:
    return importlib.util.find_spec("designer.importer") is not None


def open_design(name: str, data: bytes, weights_to: Path | None = None) -> tuple[Design, list[str]]:
    """The design in an uploaded file and notes for the person (what an import could not keep).

    ``weights_to``: where a .keras file's weights are kept as a sidecar (for a later export).
    ValueError with one line for the person when the file cannot be opened.
    """
    lower = name.lower()
    if lower.endswith(".json"):
        if len(data) > MAX_FILE_BYTES:
            raise ValueError(
                f"{name} is larger than {MAX_FILE_BYTES // 2**20} MB: not a design file"
            )
        try:
            design = Design.from_json(data)
        except DesignFileError as exc:
            raise ValueError(f"{name}: {exc}") from None
        return design, _forget_foreign_upload(design)
    if lower.endswith(".keras"):
        if len(data) > MAX_KERAS_BYTES:
            raise ValueError(f"{name} is larger than {MAX_KERAS_BYTES // 2**20} MB")
        if not importer_available():
            raise ValueError(
                "opening .keras files is not available yet: open a design .json instead"
            )
        return _import_keras(name, data, weights_to)
    raise ValueError(f"cannot open {name}: choose a design (.json) or a Keras model (.keras)")


def _forget_foreign_upload(design: Design) -> list[str]:
    """A design from someone else may name any file of the server as its data (``data.path``):
    the app reads uploads only from this session's own upload folder (see SECURITY.md)."""
    path = design.data.path
    if not path:
        return []
    own = state.uploads_dir().resolve()
    if Path(path).resolve().is_relative_to(own):
        return []
    design.data.path = None
    if design.data.dataset in (None, "upload"):
        design.data.dataset = None
    return [f"the design's data file {Path(path).name!r} is not one of your uploads here: "
            "choose the data again on the Data page"]  # fmt: skip


def _import_keras(name: str, data: bytes, weights_to: Path | None) -> tuple[Design, list[str]]:
    from designer.importer import import_keras

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (Path(name).stem + ".keras")
        path.write_bytes(data)
        try:
            result = import_keras(path)
        except Exception as exc:  # noqa: BLE001 - a bad upload is a message, never a traceback
            text = " ".join(str(exc).split())[:300] or type(exc).__name__
            raise ValueError(f"{name} could not be opened: {text}") from None
    design = result.design
    if not design.name or design.name == "untitled":
        design.name = Path(name).stem
    notes = list(result.notes) + result.lines()
    if weights_to is not None and result.weights:
        try:
            from designer import sidecar

            weights_to.parent.mkdir(parents=True, exist_ok=True)
            sidecar.write(weights_to, design, result.weights)
            notes.append(
                "its trained weights are kept: Export writes them back into the .keras file"
            )
        except Exception as exc:  # noqa: BLE001
            notes.append(f"its weights could not be kept ({type(exc).__name__})")
    return design, notes
