"""Design -> ``.keras`` file that plain ``keras.models.load_model()`` opens (safe mode on).

The model is the one the trainer builds (:func:`designer.training.model.build_training_model`):
the design's graph with layers named after node ids, plus the augmentation block after the
input; Keras' random layers do nothing at inference, so the file serves for prediction as is.
It is compiled with the design's resolved settings so that ``load_model`` gives a model that
can be trained further straight away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer import catalog, sidecar
from designer.spec import Design


@dataclass
class ExportReport:
    path: Path
    params: int
    restored: list[str] = field(default_factory=list)  # nodes that got stored weights
    fresh: dict[str, str] = field(default_factory=dict)  # node id -> why it starts fresh
    notes: list[str] = field(default_factory=list)


def check(design: Design) -> Any:
    """The design's analysis; :class:`designer.build.DesignInvalid` with every problem that
    keeps it from being exported (graph, compile settings, augmentation), per node."""
    from designer.build import DesignInvalid
    from designer.validate import validate

    analysis = validate(design)
    if not analysis.ok:
        raise DesignInvalid(analysis)
    return analysis


def build_export_model(design: Design, *, offline: bool = True) -> Any:
    """The compiled ``keras.Model`` of ``design`` (augmentation included)."""
    from designer.codegen_data import dataset_task
    from designer.compiling import compile_model, resolve
    from designer.training.model import build_training_model

    model = build_training_model(design, offline=offline)
    compile_model(model, resolve(design, dataset_task(design)))
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
    Raises :class:`designer.build.DesignInvalid` for a design that does not build.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path.name}: the file name must end in .keras (Keras requires it)")
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
                    f"{node.id}: built with random weights (offline); ImageNet weights need a download"
                )
    model.save(path)
    return ExportReport(path, int(model.count_params()), restored, fresh, report_notes)
