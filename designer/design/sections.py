"""Editing a design's other sections: compile, training, data settings and augmentation.

Pure functions like :mod:`designer.design.editing`: each returns a new design, and a value the
design cannot take raises :class:`~designer.design.editing.EditError` with the reason.
"""

from __future__ import annotations

from typing import Any

from designer.design import catalog
from designer.design.compiling import problems
from designer.design.editing import EditError, _index, default_params
from designer.design.spec import Design, Node, field_problem


def add_augmentation(design: Design, layer_type: str) -> Design:
    spec = catalog.get(layer_type)
    if spec is None or spec.category != "augmentation":
        raise EditError(f"{layer_type} is not an augmentation layer")
    d = design.copy()
    taken = {n.id for n in d.augmentation}
    base = layer_type.lower()
    new_id, i = base, 2
    while new_id in taken:
        new_id, i = f"{base}_{i}", i + 1
    d.augmentation.append(Node(new_id, layer_type, default_params(layer_type)))
    return d


def remove_augmentation(design: Design, aug_id: str) -> Design:
    d = design.copy()
    d.augmentation = [n for n in d.augmentation if n.id != aug_id]
    return d


def set_augmentation_param(design: Design, aug_id: str, name: str, value: Any) -> Design:
    d = design.copy()
    for n in d.augmentation:
        if n.id == aug_id:
            reason = catalog.LAYERS[n.type].param(name).check(value)
            if reason:
                raise EditError(reason)
            n.params[name] = value
            return d
    raise EditError(f"there is no augmentation called {aug_id!r}")


_COMPILE_FIELDS = ("loss", "optimizer", "optimizer_params", "metrics")


def set_compile(design: Design, name: str, value: Any) -> Design:
    """Change one compile setting; choosing another optimizer drops the old one's settings."""

    if name not in _COMPILE_FIELDS:
        raise EditError(f"unknown compile setting {name!r}")
    d = design.copy()
    if name == "optimizer" and value != d.compile.optimizer:
        d.compile.optimizer_params = {}
    setattr(d.compile, name, value)
    found = problems(d.compile)
    if found:
        raise EditError(found[0][1])
    return d


def set_optimizer_param(design: Design, name: str, value: Any) -> Design:
    params = dict(design.compile.optimizer_params)
    params[name] = value
    return set_compile(design, "optimizer_params", params)


def set_section(design: Design, section: str, name: str, value: Any) -> Design:
    """Change one field of the ``training`` or ``data`` section (type-checked like the file)."""
    if section not in ("training", "data"):
        raise EditError(f"unknown section {section!r}")
    d = design.copy()
    obj = getattr(d, section)
    if not hasattr(obj, name):
        raise EditError(f"unknown {section} setting {name!r}")
    problem = field_problem(type(obj), section, name, value)
    if problem:
        raise EditError(problem)
    setattr(obj, name, value)
    return d


def use_upload(design: Design, path: str) -> Design:
    """Train on an uploaded file: the data set becomes ``upload`` (its target chosen anew)."""
    d = set_section(design, "data", "dataset", "upload")
    d = set_section(d, "data", "path", path)
    return set_section(d, "data", "target", None)


def set_name(design: Design, name: str) -> Design:
    name = name.strip()
    if not name:
        raise EditError("a design needs a name")
    if len(name) > 100:
        raise EditError("a design name has at most 100 characters")
    d = design.copy()
    d.name = name
    return d


def fit_to_data(design: Design, input_shape: tuple | list, task: str, num_classes: int) -> Design:
    """Set the first Input's shape and the output layer's units to what a data set needs.

    Classification gets ``num_classes`` softmax units (1 sigmoid unit is kept as is for two
    classes); regression one linear unit. Only a Dense output can be adjusted.
    """
    d = design.copy()
    inputs = d.input_ids()
    if not inputs:
        raise EditError("the design has no Input layer to fit")
    node = d.nodes[_index(d, inputs[0])]
    node.params["shape"] = [int(s) if s is not None else None for s in input_shape]
    outputs = [o for o in d.output_ids() if o in d.node_ids()]
    if outputs:
        out = d.nodes[_index(d, outputs[0])]
        if out.type == "Dense":
            if task == "regression":
                out.params["units"] = 1
                out.params.pop("activation", None)
            elif not (num_classes == 2 and out.params.get("units") == 1):
                out.params["units"] = int(num_classes)
                out.params["activation"] = "softmax"
    return d
