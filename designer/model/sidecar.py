"""Trained weights beside a design: ``DESIGN.weights.h5`` next to ``DESIGN.json``.

A design is pure data and never holds weights; the sidecar keeps them per node, keyed by the
node id, together with a fingerprint of what the weights were made for: the layer type, its
parameters (defaults filled in) and the shapes of its inputs. When a design is exported, a
node whose fingerprint still matches gets its weights back; a node that was edited (or whose
input shape changed) starts fresh. So importing a model, replacing its head and exporting
again keeps everything the edit did not touch.

Layout (HDF5, written with h5py): ``/nodes/n0, /nodes/n1, ...`` groups with the attributes
``node_id``, ``type`` and ``fingerprint`` and one dataset per weight (``w0, w1, ...``, in
``layer.get_weights()`` order). Node ids are attributes, not group names, because ids are free
text and HDF5 gives ``/`` and ``.`` a meaning.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer import settings
from designer.design import catalog
from designer.design.params import resolved
from designer.design.spec import Design, Node
from designer.errors import DesignerError
from designer.model.build import analyze, layer_name
from designer.text import one_line

FORMAT = "keras-designer-weights"
VERSION = 1
# Parameters that say how a layer is used, not what its weights mean.
_NOT_IN_FINGERPRINT = {"trainable", "weights"}


class SidecarError(DesignerError):
    """The weights file exists but is not one we wrote (or is damaged)."""


def sidecar_path(design_path: str | Path) -> Path:
    """``model.json`` -> ``model.weights.h5`` (in the same folder)."""
    p = Path(design_path)
    stem = p.name[: -len(".json")] if p.name.lower().endswith(".json") else p.name
    return p.with_name(f"{stem}.weights.h5")


def fingerprint(node: Node, input_shapes: list[tuple]) -> str:
    spec = catalog.get(node.type)
    params = resolved(spec.params, node.params) if spec else dict(node.params)
    params = {k: v for k, v in params.items() if k not in _NOT_IN_FINGERPRINT}
    shapes = [list(s) if s is not None else None for s in input_shapes]
    text = json.dumps([node.type, params, shapes], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def fingerprints(design: Design) -> dict[str, str]:
    """Node id -> fingerprint, for every node whose inputs have known shapes."""

    analysis = analyze(design)
    out = {}
    for node in design.nodes:
        preds = design.predecessors(node.id)
        shapes = [analysis.nodes[p].output_shape if p in analysis.nodes else None for p in preds]
        if node.id in analysis.nodes and all(s is not None for s in shapes):
            out[node.id] = fingerprint(node, shapes)
    return out


def write(path: str | Path, design: Design, weights: dict[str, list[Any]]) -> int:
    """Write ``weights`` (node id -> arrays) for ``design``; returns how many nodes were kept."""
    import h5py
    import numpy as np

    prints = fingerprints(design)
    kept = 0
    with settings.atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"], f.attrs["version"] = FORMAT, VERSION
        nodes = f.create_group("nodes")
        for node in design.nodes:
            arrays = weights.get(node.id)
            if not arrays or node.id not in prints:
                continue
            g = nodes.create_group(f"n{kept}")
            g.attrs["node_id"], g.attrs["type"] = node.id, node.type
            g.attrs["fingerprint"] = prints[node.id]
            for i, w in enumerate(arrays):
                g.create_dataset(f"w{i}", data=np.asarray(w))
            kept += 1
    return kept


def save_model_weights(path: str | Path, design: Design, model: Any) -> int:
    """The sidecar of a model built from ``design`` (layers named after node ids): after
    training, this is what lets the design be exported again with its learned weights."""

    weights = {}
    for node in design.nodes:
        try:
            layer = model.get_layer(layer_name(node.id))
        except ValueError:
            continue
        if layer.weights:
            weights[node.id] = layer.get_weights()
    return write(path, design, weights)


def read(path: str | Path) -> dict[str, tuple[str, list[Any]]]:
    """Node id -> (fingerprint, arrays); :class:`SidecarError` if it is not our file."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT or int(f.attrs.get("version", 0)) > VERSION:
                raise SidecarError(f"{Path(path).name} is not a Keras Designer weights file")
            out = {}
            for g in f["nodes"].values():
                count = len(g.keys())
                arrays = [g[f"w{i}"][()] for i in range(count)]
                out[str(g.attrs["node_id"])] = (str(g.attrs["fingerprint"]), arrays)
            return out
    except (OSError, KeyError) as exc:
        raise SidecarError(f"{Path(path).name} is not a readable weights file ({exc})") from None


@dataclass
class Applied:
    """Which nodes got their stored weights back, and which start fresh and why."""

    restored: list[str] = field(default_factory=list)
    fresh: dict[str, str] = field(default_factory=dict)  # node id -> reason

    def lines(self) -> list[str]:
        return [f"{node_id}: {why}" for node_id, why in self.fresh.items()]


def apply(model: Any, design: Design, path: str | Path) -> Applied:
    """Load the sidecar's weights into ``model`` for every node whose fingerprint matches."""

    stored = read(path)
    prints = fingerprints(design)
    result = Applied()
    for node in design.nodes:
        if node.id not in stored:
            continue
        saved_print, arrays = stored[node.id]
        if prints.get(node.id) != saved_print:
            result.fresh[node.id] = "changed since the weights were saved: starts from new weights"
            continue
        try:
            layer = model.get_layer(layer_name(node.id))
            layer.set_weights(arrays)
        except ValueError as exc:
            result.fresh[node.id] = f"stored weights do not fit ({one_line(exc, 120)})"
            continue
        result.restored.append(node.id)
    return result
