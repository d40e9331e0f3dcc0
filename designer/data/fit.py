"""Does a design fit its data set? Messages are pinned to the node to change, with the fix."""

from __future__ import annotations

from collections.abc import Sequence

from .types import DatasetInfo


def _matches(got: Sequence, want: Sequence) -> bool:
    # None is a free dimension (e.g. variable-length sequences): it accepts any size.
    return len(got) == len(want) and all(g is None or g == w for g, w in zip(got, want))


def _fmt(shape: Sequence) -> str:
    return str(tuple(shape))


def check_fit(
    info: DatasetInfo,
    input_shapes: dict[str, Sequence],
    output_shapes: dict[str, Sequence],
) -> list[tuple[str, str]]:
    """(node_id, message) for every input and output that does not match the data set.

    Shapes exclude the batch dimension. An empty list means the design fits.
    """
    label = info.label
    problems: list[tuple[str, str]] = []
    want = tuple(info.input_shape)
    inputs = list(input_shapes.items())
    for node_id, _ in inputs[1:]:
        problems.append(
            (
                node_id,
                f"data set '{label}' feeds one input, but the design has {len(inputs)} "
                "Input layers: remove this one",
            )
        )
    if inputs:
        node_id, got = inputs[0]
        if not _matches(tuple(got), want):
            problems.append(
                (
                    node_id,
                    f"Input shape is {_fmt(got)} but data set '{label}' gives "
                    f"{_fmt(want)}: set the Input shape to {list(want)}",
                )
            )

    outputs = list(output_shapes.items())
    for node_id, _ in outputs[1:]:
        problems.append(
            (
                node_id,
                f"data set '{label}' has one target, but the design has {len(outputs)} "
                "outputs: connect this layer onward or remove it",
            )
        )
    if outputs:
        node_id, shape = outputs[0]
        message = _output_problem(info, tuple(shape))
        if message:
            problems.append((node_id, message))
    return problems


def _output_problem(info: DatasetInfo, shape: tuple) -> str | None:
    label = info.label
    if len(shape) != 1:
        return (
            f"the output has shape {_fmt(shape)} but '{label}' needs one vector per sample: "
            "add Flatten or GlobalAveragePooling before the last Dense layer"
        )
    units = shape[0]
    if units is None:
        return None
    if info.task == "regression":
        if units != 1:
            return f"the output has {units} units but '{label}' predicts one number: set units to 1"
        return None
    k = info.num_classes
    if units == k or (k == 2 and units == 1):
        return None
    fix = "set units to 2 (softmax) or 1 (sigmoid)" if k == 2 else f"set units to {k}"
    return f"the output has {units} units but '{label}' has {k} classes: {fix}"
