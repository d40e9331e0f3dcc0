"""The graph a reading builds: nodes (with the line each came from), edges, the models the code
made, the settings it gave, and what the reader has to tell (notes and problems by line)."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from designer.codeimport import layers as code_layers
from designer.codeimport import names
from designer.codeimport.values import Application, InputSpec, Layer, Sequential, Tensor, Unknown
from designer.design import catalog
from designer.design.spec import Edge, Node

DEFAULT_IMAGE_SHAPE = [224, 224, 3]  # what keras.applications bases are made for


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # node id -> line
    notes: list[tuple[int, str]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    models: list[Any] = field(default_factory=list)  # Sequential / Functional, as made
    applications: dict[str, Application] = field(default_factory=dict)  # node id -> base
    subclassed: list[tuple[int, str]] = field(default_factory=list)
    unimported: set = field(default_factory=set)
    star_keras: bool = False  # `from keras.layers import *`: Keras names need no note
    option_notes: list[tuple[int, str, Any]] = field(default_factory=list)
    options_said: set = field(default_factory=set)
    datasets: list[tuple[int, str, str]] = field(default_factory=list)  # (line, id, how)
    seed: tuple[int, int] | None = None
    test_split: float | None = None
    data_seed: int | None = None
    changes: int = 0  # moves on with every node and every setting read
    taken: set = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)
    sequence_length: tuple[int, int] | None = None  # (line, maxlen) of pad_sequences
    augmentation: tuple | None = None  # (the augmentation Sequential, the Input it follows)

    def note(self, line: int, text: str) -> None:
        if (line, text) not in self.notes:
            self.notes.append((line, text))

    def problem(self, line: int, text: str) -> None:
        if (line, text) not in self.problems:
            self.problems.append((line, text))

    # ---- ids ------------------------------------------------------------------------------------
    def new_id(self, wanted: str | None, layer_type: str, line: int, *, say: bool = True) -> str:
        """The layer's ``name=`` when it has one, else Keras' own automatic name."""
        if wanted:
            base = re.sub(r"[^A-Za-z0-9_.\-]", "_", wanted)[:100] or "layer"
            node_id, i = base, 2
            while node_id in self.taken:
                node_id, i = f"{base}_{i}", i + 1
            if node_id != wanted and say:
                self.note(line, f"layer name {wanted!r} is node {node_id!r}")
        else:
            base = "input" if layer_type == "Input" else names.snake(layer_type)
            n = self.counts.get(base, 0)
            node_id = base if n == 0 else f"{base}_{n}"
            while node_id in self.taken:
                n += 1
                node_id = f"{base}_{n}"
            self.counts[base] = n + 1
        self.taken.add(node_id)
        return node_id

    def add(self, node: Node, inputs: list[Tensor], line: int) -> Tensor:
        self.nodes.append(node)
        self.edges += [Edge(t.node_id, node.id) for t in inputs]
        self.lines[node.id] = line
        self.changes += 1
        return Tensor(node.id)

    # ---- nodes -----------------------------------------------------------------------------
    def input_node(self, shape: Any, dtype: Any, name: Any, line: int) -> Tensor:
        params: dict[str, Any] = {}
        if isinstance(shape, (list, tuple)) and all(
            s is None or (isinstance(s, int) and not isinstance(s, bool)) for s in shape
        ):
            params["shape"] = list(shape)
        elif isinstance(shape, int) and not isinstance(shape, bool):
            params["shape"] = [shape]
        else:
            params["shape"] = list(catalog.LAYERS["Input"].param("shape").default)
            self.note(line, f"the input's shape cannot be known: {tuple(params['shape'])} is used")
        if dtype is not None:
            wanted = "int32" if isinstance(dtype, str) and "int" in dtype else "float32"
            if dtype not in ("float32", "int32"):
                self.note(line, f"input dtype {dtype!r} is read as {wanted}")
            if wanted != "float32":
                params["dtype"] = wanted
        node_id = self.new_id(name if isinstance(name, str) else None, "Input", line)
        return self.add(Node(node_id, "Input", params), [], line)

    def call_layer(
        self, layer: Layer, inputs: list[Tensor], line: int, *, merged: bool = False
    ) -> Tensor:
        """``layer(inputs)``: a node (a layer called twice becomes two nodes, reported)."""
        if layer.skip:
            self.problem(layer.line, layer.skip)
            return inputs[0]
        node_id = self.new_id(layer.name, layer.type, layer.line)
        node, problems = code_layers.layer_node(layer, node_id)
        for p in problems:
            self.problem(layer.line, f"{node_id}: {p}")
        layer.nodes.append(node_id)
        if len(layer.nodes) == 2:
            self.problem(
                line,
                f"{layer.nodes[0]}: a layer used twice (shared weights) is imported as separate "
                "nodes that no longer share weights",
            )
        return self.add(node, inputs, layer.line)

    def application_output(self, app: Application, given: Tensor | None, line: int) -> Tensor:
        """The base's output node (and, without an input given, an Input node shaped by its
        ``input_shape``)."""
        if app.output is not None:
            if given is not None:
                self.problem(line, f"the {app.type} base is used twice: read once")
            return app.output
        if given is None:
            shape = app.kwargs.get("input_shape")
            if not _shape(shape):
                shape = DEFAULT_IMAGE_SHAPE
                self.note(
                    app.line,
                    f"{app.type} has no input_shape: {tuple(shape)} is used (the size it was "
                    "made for)",
                )
            app.input = given = self.input_node(list(shape), None, None, app.line)
        node_id = self.new_id(app.kwargs.get("name"), app.type, app.line)
        app.output = self.add(Node(node_id, app.type, {}), [given], app.line)
        self.applications[node_id] = app
        return app.output

    def expand(self, model: Any, inputs: list[Tensor], line: int) -> list[Tensor]:
        """A functional model called on ``inputs`` as a layer: a copy of its nodes, fed by
        them (a second call makes a second copy, which does not share the first's weights)."""
        mapping = {m.node_id: t.node_id for m, t in zip(model.inputs, inputs)}
        inside = self.ancestors([t.node_id for t in model.outputs]) - set(mapping)
        model.calls += 1
        if model.calls == 2:
            self.problem(
                line,
                "a model called twice (shared weights) is imported as separate copies that no "
                "longer share weights",
            )
        for node in list(self.nodes):
            if node.id not in inside:
                continue
            copy_id = self.new_id(node.id, node.type, line, say=False)
            sources = [Tensor(mapping[e.source]) for e in self.edges if e.target == node.id]
            self.add(Node(copy_id, node.type, copy.deepcopy(node.params)), sources, line)
            if node.id in self.applications:
                self.applications[copy_id] = self.applications[node.id]
            mapping[node.id] = copy_id
        return [Tensor(mapping[t.node_id]) for t in model.outputs]

    def ancestors(self, node_ids: list[str]) -> set[str]:
        preds: dict[str, list[str]] = {}
        for e in self.edges:
            preds.setdefault(e.target, []).append(e.source)
        seen: set[str] = set()
        stack = list(node_ids)
        while stack:
            node_id = stack.pop()
            if node_id not in seen:
                seen.add(node_id)
                stack += preds.get(node_id, [])
        return seen

    # ---- a Sequential model as nodes ------------------------------------------------------------
    def lay_out(self, model: Sequential, given: Tensor | None = None) -> Tensor | None:
        """The Sequential's items as a chain of nodes from ``given`` (or its own input)."""
        if model.output is not None and given is None:
            return model.output
        items = list(model.items)
        current = given
        if current is None:
            current, items = self._sequential_input(model, items)
        if current is None:
            return None
        model.input = model.input or current
        for k, item in enumerate(items):
            if isinstance(item, Layer):
                current = self.call_layer(item, [current], item.line)
            elif isinstance(item, Application):
                current = self.application_output(item, current, item.line)
            elif isinstance(item, Sequential):
                if item in self.models:
                    self.models.remove(item)  # a part of this model, not a model of its own
                if k == 0 and given is None and augmentation_block(item):
                    self.augmentation = (item, current)
                    self.note(item.line, "the random augmentation is the design's augmentation")
                    continue
                self.note(item.line, "a nested Sequential model is opened up into its layers")
                current = self.lay_out(item, current) or current
            elif isinstance(item, (Tensor, InputSpec)):
                self.problem(model.line, "an Input in the middle of a Sequential is not read")
            elif isinstance(item, Unknown):
                self.problem(item.line, f"{item.said()}; left out of the model")
        if given is None:
            model.output = current
        return current

    def _sequential_input(self, model: Sequential, items: list) -> tuple[Tensor | None, list]:
        first = items[0] if items else None
        if isinstance(first, Tensor):
            return first, items[1:]
        if isinstance(first, InputSpec):
            return self.input_node(first.shape, first.dtype, first.name, first.line), items[1:]
        if isinstance(first, Layer) and first.input_shape is not None:
            self.note(
                first.line,
                "the input shape given to the first layer (Keras 2) is an Input node (Keras 3)",
            )
            return self.input_node(first.input_shape, first.input_dtype, None, first.line), items
        if isinstance(first, Application):  # the base brings its own Input
            return self.application_output(first, None, first.line), items[1:]
        if model.build_shape is not None:
            return self.input_node(model.build_shape[1:], None, None, model.line), items
        words = isinstance(first, Layer) and first.type == "Embedding"  # word ids come in
        shape, source = self.dataset_shape(), "the data set's"
        if words and self.sequence_length is not None:
            shape, source = [self.sequence_length[1]], "the length pad_sequences gives"
        if shape is not None:
            self.note(
                model.line,
                f"the model does not say its input shape: {tuple(shape)}, {source}, is used",
            )
        else:
            shape = list(catalog.LAYERS["Input"].param("shape").default)
            self.note(model.line, f"the model does not say its input shape: {tuple(shape)} is used")
        return self.input_node(shape, "int32" if words else None, None, model.line), items

    def dataset_shape(self) -> list | None:
        if not self.datasets:
            return None
        from designer.data import get_info

        try:
            return list(get_info(self.datasets[0][1]).input_shape)
        except ValueError:
            return None


def _shape(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    )


_AUGMENT = {e.type for e in catalog.LAYERS.values() if e.category == "augmentation"}
_AUGMENT -= {"RandomCrop", "Resizing", "CenterCrop"}  # these act at inference too


def augmentation_block(model: Sequential) -> bool:
    return bool(model.items) and all(
        isinstance(i, Layer) and i.type in _AUGMENT for i in model.items
    )
