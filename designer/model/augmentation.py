"""The model that is trained: the design's graph plus its augmentation block.

Augmentation layers (catalog category "augmentation") go in one ``keras.Sequential`` named
``augmentation`` right after the Input. Keras' random layers are identity at inference, so the
same saved model serves training, evaluation and prediction; and the augmentation travels with
the model when it is exported. The rest of the graph is built exactly like
:func:`designer.model.build.build_model` (layers named after node ids).
"""

from __future__ import annotations

from typing import Any

from designer.design import catalog
from designer.design.spec import Design
from designer.model.build import DesignInvalid, analyze, build_model, layer_name, make_layer
from designer.text import one_line

AUGMENTATION_NAME = "augmentation"


def base_node_ids(design: Design) -> list[str]:
    """Nodes that are pretrained application bases (MobileNetV2, ResNet50...)."""
    return [
        n.id
        for n in design.nodes
        if (spec := catalog.get(n.type)) is not None and spec.module == "applications"
    ]


def unfreeze_bases(design: Design) -> Design:
    """A copy of ``design`` with every pretrained base trainable (the fine-tuning step)."""
    out = design.copy()
    for node_id in base_node_ids(out):
        out.node(node_id).params["trainable"] = True
    return out


def augmented_inputs(design: Design, analysis) -> list[str]:
    """The inputs the augmentation applies to: the only Input, or every image Input
    (rank-3 samples) when a design mixes images with other inputs."""
    inputs = design.input_ids()
    if len(inputs) <= 1:
        return inputs
    return [i for i in inputs if len(analysis.nodes[i].output_shape or ()) == 4]


def block_name(design: Design) -> str:
    taken = {layer_name(i) for i in design.node_ids()}
    name, i = AUGMENTATION_NAME, 1
    while name in taken:
        i += 1
        name = f"{AUGMENTATION_NAME}_{i}"
    return name


def augmentation_problems(design: Design) -> list[tuple[str, str]]:
    """(node_id, message) for augmentation nodes that are unknown or do not fit the input."""
    import keras

    problems = []
    analysis = analyze(design)
    targets = augmented_inputs(design, analysis)
    for node in design.augmentation:
        spec = catalog.get(node.type)
        if spec is None or spec.category != "augmentation":
            problems.append((node.id, f"{node.type} is not an augmentation layer"))
            continue
        for input_id in targets:
            shape = analysis.nodes[input_id].output_shape
            if shape is None:
                continue
            try:
                make_layer(node)(keras.KerasTensor(shape))
            except Exception as exc:  # noqa: BLE001 - Keras' complaint becomes the node's message
                text = one_line(exc, 200)
                problems.append((node.id, f"{node.type} cannot be applied to {shape[1:]}: {text}"))
    return problems


def build_training_model(design: Design, *, offline: bool = False) -> Any:
    """The ``keras.Model`` to train: :func:`build_model` plus the augmentation block."""
    if not design.augmentation:
        return build_model(design, offline=offline)
    import keras

    analysis = analyze(design)
    if not analysis.ok:
        raise DesignInvalid(analysis)
    block = keras.Sequential([make_layer(n) for n in design.augmentation], name=block_name(design))
    augmented = set(augmented_inputs(design, analysis))

    # The downstream layers see the augmented tensor; shape-changing layers (Resizing, crops)
    # therefore apply at inference too, as they must for the shapes to agree.
    def wrap(node_id: str, tensor: Any) -> Any:
        return block(tensor) if node_id in augmented else tensor

    return build_model(design, offline=offline, wrap_input=wrap, analysis=analysis)


def set_bases_trainable(model: Any, design: Design) -> list[str]:
    """Make the loaded model's pretrained bases trainable; returns the layer names changed."""
    changed = []
    for node_id in base_node_ids(design):
        try:
            layer = model.get_layer(layer_name(node_id))
        except ValueError:
            continue
        layer.trainable = True
        changed.append(layer.name)
    return changed
