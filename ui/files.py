"""Opening what people upload as a design: a design file (.json), a Keras model (.keras) or
Keras code (.py, read and never run; also what the Design page's Paste code box reads)."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import streamlit as st

from designer.codeimport import SourceError, import_source
from designer.design.spec import MAX_FILE_BYTES, Design, DesignFileError
from designer.errors import DesignerError
from designer.model import sidecar
from designer.model.importer import import_keras
from designer.text import error_line, one_line
from ui import state

MAX_KERAS_BYTES = 300 * 1024 * 1024


def importer_available() -> bool:
    return importlib.util.find_spec("designer.model.importer") is not None


def open_design(name: str, data: bytes, weights_to: Path | None = None) -> tuple[Design, list[str]]:
    """The design in an uploaded file and notes for the person (what an import could not keep).

    ``weights_to``: where a .keras file's weights are kept as a sidecar (for a later export).
    ValueError with one line for the person when the file cannot be opened.
    """
    lower = name.lower()
    if lower.endswith(".json"):
        if len(data) > MAX_FILE_BYTES:
            raise DesignerError(
                f"{name} is larger than {MAX_FILE_BYTES // 2**20} MB: not a design file"
            )
        try:
            design = Design.from_json(data)
        except DesignFileError as exc:
            raise DesignerError(f"{name}: {exc}") from None
        return design, forget_foreign_upload(design)
    if lower.endswith(".keras"):
        if len(data) > MAX_KERAS_BYTES:
            raise DesignerError(f"{name} is larger than {MAX_KERAS_BYTES // 2**20} MB")
        if not importer_available():
            raise DesignerError(
                "opening .keras files is not available yet: open a design .json instead"
            )
        return _import_keras(name, data, weights_to)
    if lower.endswith(".py"):
        return read_code(data, Path(name).stem, name)
    raise DesignerError(
        f"cannot open {name}: choose a design (.json), a Keras model (.keras) or Keras code (.py)"
    )


def read_code(source: str | bytes, name: str, shown: str = "the code") -> tuple[Design, list[str]]:
    """The design in Keras code and its ``line N: ...`` notes (what was assumed, then what was
    not read). DesignerError with one line when no design comes out of it."""
    try:
        result = import_source(source, name)
    except SourceError as exc:
        raise DesignerError(f"{shown} could not be read: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - code the reader trips on is a message, not a traceback
        raise DesignerError(f"{shown} could not be read: {error_line(exc)}") from None
    lines = result.note_lines() + result.problem_lines()
    if result.design is None:
        raise DesignerError(f"{shown} gives no design:\n" + "\n".join(f"- {n}" for n in lines))
    return result.design, lines


def forget_foreign_upload(design: Design) -> list[str]:
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
    return [
        f"the design's data file {Path(path).name!r} is not one of your uploads here: "
        "choose the data again on the Data page"
    ]


def _import_keras(name: str, data: bytes, weights_to: Path | None) -> tuple[Design, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (Path(name).stem + ".keras")
        path.write_bytes(data)
        try:
            result = import_keras(path)
        except Exception as exc:  # noqa: BLE001 - a bad upload is a message, never a traceback
            text = one_line(exc, 300) or type(exc).__name__
            raise DesignerError(f"{name} could not be opened: {text}") from None
    design = result.design
    if not design.name or design.name == "untitled":
        design.name = Path(name).stem
    notes = list(result.notes) + result.lines()
    if weights_to is not None and result.weights:
        try:
            weights_to.parent.mkdir(parents=True, exist_ok=True)
            sidecar.write(weights_to, design, result.weights)
            notes.append(
                "its trained weights are kept: Export writes them back into the .keras file"
            )
        except Exception as exc:  # noqa: BLE001
            notes.append(f"its weights could not be kept ({type(exc).__name__})")
    return design, notes


# ---- the Design page's Paste code box ------------------------------------------------------------
PASTE_KEY = "paste_code"  # the text area
PASTE_NEWS = "paste_code_news"  # (kind, message, line notes) of the last press, shown in the box


def paste_code() -> None:
    """The Paste code button: the pasted code's design replaces the current one (through the
    one write path, so Undo brings the old one back); bad code keeps the design as it is."""
    source = st.session_state.get(PASTE_KEY) or ""
    if not source.strip():
        st.session_state[PASTE_NEWS] = ("warning", "Paste some Keras code first.", [])
        return
    try:
        design, notes = read_code(source, "pasted-model")
    except DesignerError as exc:
        head, _, rest = str(exc).partition("\n")
        lines = [r.removeprefix("- ") for r in rest.splitlines()]
        st.session_state[PASTE_NEWS] = ("error", f"{head} The design is unchanged.", lines)
        return
    state.replace(design)
    message = f"Read {len(design.nodes)} layers from the code; Undo brings the old design back."
    st.session_state[PASTE_NEWS] = ("success", message, notes)


def paste_news() -> tuple[str, str, list[str]] | None:
    return st.session_state.get(PASTE_NEWS)
