"""Design -> ``.keras`` file that plain ``keras.models.load_model()`` opens (safe mode on).

The model is the one the trainer builds (:func:`designer.model.augmentation.build_training_model`):
the design's graph with layers named after node ids, plus the augmentation block after the
input; Keras' random layers do nothing at inference, so the file serves for prediction as is.
It is compiled with the design's resolved settings so that ``load_model`` gives a model that
can be trained further straight away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer.design import catalog
from designer.design.compiling import resolve
from designer.design.spec import Design
from designer.errors import DesignerError
from designer.model import sidecar
from designer.model.augmentation import build_training_model
from designer.model.build import DesignInvalid, build_model, compile_model
from designer.model.validate import validate
from designer.text import one_line


@dataclass
class ExportReport:
    path: Path
    params: int
    restored: list[str] = field(default_factory=list)  # nodes that got stored weights
    fresh: dict[str, str] = field(default_factory=dict)  # node id -> why it starts fresh
    notes: list[str] = field(default_factory=list)


def check(design: Design) -> Any:
    """The design's analysis; :class:`designer.model.build.DesignInvalid` with every problem that
    keeps it from being exported (graph, compile settings, augmentation), per node."""

    analysis = validate(design)
    if not analysis.ok:
        raise DesignInvalid(analysis)
    return analysis


def build_export_model(design: Design, *, offline: bool = True) -> Any:
    """The compiled ``keras.Model`` of ``design`` (augmentation included)."""
    from designer.data import builtin_task  # numpy: only when a model is built anyway

    model = build_training_model(design, offline=offline)
    compile_model(model, resolve(design, builtin_task(design.data.dataset)))
    # With its slots built, the optimizer saves whole and load_model() reloads it quietly.
    model.optimizer.build(model.trainable_variables)
    return model


def export_keras(
    design: Design,
    path: str | Path,
    *,
    weights_path: str | Path | None = None,
    offline: bool = True,
    model: Any = None,
) -> ExportReport:
    """Write ``design`` as a ``.keras`` file.

    ``weights_path``: a sidecar (``DESIGN.weights.h5``) whose weights go into every layer
    whose definition did not change. ``offline``: pretrained bases not covered by the sidecar
    get random weights instead of an ImageNet download. ``model``: an already trained model
    of this design (the trainer's), saved as it is instead of being rebuilt.
    Raises :class:`designer.model.build.DesignInvalid` for a design that does not build.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path.name}: the file name must end in .keras (Keras requires it)")
    model, report = _prepared(design, path, weights_path, offline, model)
    model.save(path)
    return report


# The deploy formats: the CLI's name -> Keras' model.export format, and what the path must be.
DEPLOY_FORMATS = {"savedmodel": "tf_saved_model", "litert": "litert", "onnx": "onnx"}
DEPLOY_SUFFIX = {"savedmodel": "", "litert": ".tflite", "onnx": ".onnx"}


class DeployError(DesignerError):
    """A design a deploy format cannot hold, or a format whose converter is not installed."""


def export_deployable(
    design: Design,
    path: str | Path,
    fmt: str,
    *,
    weights_path: str | Path | None = None,
    offline: bool = True,
    model: Any = None,
) -> ExportReport:
    """Write ``design`` for inference outside Keras through Keras' own ``model.export``:
    ``savedmodel`` (a directory), ``litert`` (``.tflite``) or ``onnx`` (``.onnx``): the
    design's inference model (no augmentation block, not compiled).

    Same weights rules as :func:`export_keras`. Raises :class:`DeployError` with one line
    when the format cannot hold the model (or its converter is missing).
    """
    path = Path(path)
    suffix = DEPLOY_SUFFIX[fmt]
    if suffix and path.suffix != suffix:
        raise ValueError(f"{path.name}: a {fmt} file must end in {suffix}")
    if model is None:  # augmentation does nothing at inference, but its random ops would
        check(design)  # reach the graph (ONNX has no StatelessRandomUniformV2): left out
        model = build_model(design, offline=offline)
    model, report = _prepared(design, path, weights_path, offline, model)
    _call_once(model)
    try:
        model.export(str(path), format=DEPLOY_FORMATS[fmt], verbose=False)
    except ImportError as exc:
        raise DeployError(
            f"{fmt} export needs {exc.name or 'a converter'}: "
            "install keras-designer[deploy] (./run.sh installs it)"
        ) from None
    except Exception as exc:  # noqa: BLE001 - the converter's complaint, as one line
        why = one_line(exc, 200)
        raise DeployError(f"this design cannot be exported as {fmt}: {why}") from None
    if fmt == "litert":
        _check_litert(path)
    return report


def _call_once(model: Any) -> None:
    """Keras' ONNX export refuses a model that was never called (a freshly built functional
    one): one call on a batch of zeros, which changes no weight."""
    import numpy as np

    zeros = [np.zeros([1] + [d or 1 for d in x.shape[1:]], x.dtype) for x in model.inputs]
    model(zeros if len(zeros) > 1 else zeros[0], training=False)


def _check_litert(path: Path) -> None:
    """The converter falls back to TensorFlow ("Flex") ops for what LiteRT lacks (an LSTM's
    loop): such a file needs a TensorFlow-linked runtime, so it is not a LiteRT model. The
    interpreter is the judge; the file is removed when it refuses."""
    import tensorflow as tf

    try:
        tf.lite.Interpreter(model_path=str(path)).allocate_tensors()
    except RuntimeError as exc:
        path.unlink(missing_ok=True)
        flex = sorted(set(re.findall(r"\((Flex\w+)\)", str(exc))))
        if flex:
            why = f"it needs TensorFlow ops ({', '.join(flex)}) that the LiteRT runtime lacks"
        else:
            why = one_line(exc, 160)
        raise DeployError(f"this design cannot be exported as litert: {why}") from None


def _prepared(design, path, weights_path, offline, model) -> tuple[Any, ExportReport]:
    """The model to write (built and given the sidecar's weights unless passed in)."""
    report_notes: list[str] = []
    if model is None:
        check(design)
        model = build_export_model(design, offline=offline)
    restored: list[str] = []
    fresh: dict[str, str] = {}
    if weights_path is not None:
        applied = sidecar.apply(model, design, weights_path)
        restored, fresh = applied.restored, applied.fresh
    for node in design.nodes:
        spec = catalog.get(node.type)
        wants_imagenet = node.params.get("weights", "imagenet") == "imagenet"
        if spec and spec.module == "applications" and offline and wants_imagenet:
            if node.id not in restored:
                report_notes.append(
                    f"{node.id}: built with random weights (offline); "
                    "ImageNet weights need a download"
                )
    return model, ExportReport(path, int(model.count_params()), restored, fresh, report_notes)
