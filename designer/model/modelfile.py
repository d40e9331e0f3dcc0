"""Opening ``.keras`` files we did not write, without running anything inside them.

A ``.keras`` file is a ZIP with ``config.json`` (the architecture), ``metadata.json`` and
``model.weights.h5``. A config can name arbitrary Python: a ``Lambda`` layer carries the
bytecode of its function, and a custom class names a module that Keras would import. So the
config is read and checked here *before* Keras sees the file: every serialized object must
be one of Keras' own classes, and the classes that wrap user code are refused by layer name.
Only then is the file handed to ``keras.saving.load_model(..., safe_mode=True)``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from designer.errors import DesignerError
from designer.text import one_line

# Bigger files are refused before they are opened: the server holds the model in memory.
MAX_MODEL_BYTES = 500 * 1024 * 1024
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024  # a ZIP bomb stays a refusal, not an OOM kill
MAX_CONFIG_BYTES = 64 * 1024 * 1024

# Keras classes that run code the file supplies (or load code from elsewhere).
CODE_CLASSES = {
    "Lambda": "a Lambda layer holds Python code",
    "TFSMLayer": "a TFSMLayer loads a TensorFlow SavedModel (a program)",
    "TorchModuleWrapper": "a TorchModuleWrapper holds a pickled PyTorch module",
    "JaxLayer": "a JaxLayer holds Python functions",
    "FlaxLayer": "a FlaxLayer holds a Python module",
    "__lambda__": "it holds a Python lambda",
}


class ModelFileError(DesignerError):
    """The file is not a model we can open safely; the message is one line for the user."""


def _is_keras_module(module: Any) -> bool:
    return isinstance(module, str) and (module == "keras" or module.startswith("keras."))


def refusals(config: Any) -> list[str]:
    """Reasons to refuse a serialized model, one per offending object, naming its layer.

    Allowed: objects whose ``module`` is Keras' own and whose ``registered_name`` is empty or
    the class name itself (Keras' built-ins), plus Keras' internal markers (``__tuple__``,
    ``__keras_tensor__``...). Everything else would import or execute code from the file.
    """
    found: list[str] = []

    def walk(obj: Any, layer: str) -> None:
        if isinstance(obj, list):
            for item in obj:
                walk(item, layer)
            return
        if not isinstance(obj, dict):
            return
        cfg = obj.get("config")
        if isinstance(cfg, dict) and isinstance(cfg.get("name"), str) and "class_name" in obj:
            layer = cfg["name"]
        cls, module = obj.get("class_name"), obj.get("module")
        if isinstance(cls, str):
            registered = obj.get("registered_name")
            where = f"layer {layer!r}" if layer else "the model"
            if cls in CODE_CLASSES:
                found.append(
                    f"{where} is refused: {CODE_CLASSES[cls]}, which Keras Designer never runs"
                )
                return
            internal = module is None and cls.startswith("__") and cls.endswith("__")
            if not internal and not _is_keras_module(module):
                found.append(
                    f"{where} is refused: class {cls!r} comes from module {module!r}, "
                    "not from Keras (custom code)"
                )
                return
            if registered not in (None, cls):
                found.append(f"{where} is refused: {registered!r} is a custom registered class")
                return
        for key, value in obj.items():
            if key != "class_name":
                walk(value, layer)

    walk(config, "")
    return found


def read_config(path: str | Path) -> dict[str, Any]:
    """The checked ``config.json`` of a ``.keras`` file (:class:`ModelFileError` otherwise)."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise ModelFileError(f"cannot read {p}: {exc.strerror or exc}") from None
    if size > MAX_MODEL_BYTES:
        raise ModelFileError(f"{p.name} is larger than {MAX_MODEL_BYTES // 2**20} MB: refused")
    if not zipfile.is_zipfile(p):
        hint = " (an old HDF5 model: open it in Keras and save it as .keras)" if _is_hdf5(p) else ""
        raise ModelFileError(f"{p.name} is not a .keras file (not a ZIP archive){hint}")
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
                raise ModelFileError(
                    f"{p.name} unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB: refused"
                )
            names = {i.filename: i for i in infos}
            if "config.json" not in names:
                raise ModelFileError(f"{p.name} is not a .keras file: it has no config.json")
            if names["config.json"].file_size > MAX_CONFIG_BYTES:
                raise ModelFileError(f"{p.name}: config.json is too large: refused")
            raw = zf.read("config.json")
    except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
        raise ModelFileError(f"{p.name} is not a readable .keras file ({exc})") from None
    try:
        config = json.loads(raw)
    except (ValueError, RecursionError):
        raise ModelFileError(f"{p.name}: config.json is not valid JSON") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ModelFileError(f"{p.name}: config.json does not describe a Keras model")
    check(config, p.name)
    return config


def check(config: dict[str, Any], what: str = "the model") -> None:
    """Raise :class:`ModelFileError` listing every refused object of a serialized model."""
    reasons = refusals(config)
    if config.get("class_name") not in ("Functional", "Sequential", "Model"):
        reasons.insert(
            0,
            f"it is a {config.get('class_name')!r} model: only Sequential and "
            "Functional models can be imported (a subclassed model is Python code)",
        )
    if reasons:
        more = f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else ""
        raise ModelFileError(f"{what}: " + "; ".join(reasons[:3]) + more)


def _is_hdf5(p: Path) -> bool:
    try:
        with p.open("rb") as f:
            return f.read(8) == b"\x89HDF\r\n\x1a\n"
    except OSError:
        return False


def load(path: str | Path) -> Any:
    """The ``keras.Model`` in a checked ``.keras`` file, loaded in safe mode, uncompiled."""
    read_config(path)
    return load_checked(path)


def load_checked(path: str | Path) -> Any:
    """:func:`load` for a file :func:`read_config` has just passed (the caller holds its
    config), so that the archive is not opened and checked a second time."""
    import keras

    try:
        return keras.saving.load_model(Path(path), compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises many types; the user needs one line
        text = one_line(exc, 300)
        raise ModelFileError(f"{Path(path).name}: Keras cannot load it: {text}") from None
