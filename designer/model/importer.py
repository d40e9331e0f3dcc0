"""``.keras`` file or ``keras.Model`` -> Design (+ the weights, + what could not be kept).

    >>> result = import_keras("model.keras")        # checked, then loaded in safe mode
    >>> result.lines()                              # ["dense: cannot be represented: ..."]
    >>> result.write("model.json")                  # model.json + model.weights.h5

The graph is read from the model's own serialization (``get_config()``: layers with their
``inbound_nodes``), the format Keras itself reloads from, so branches, merges, several inputs
and outputs come out as they are. Nested models are opened up into their layers, except a
pretrained ``keras.applications`` base of the catalog, which stays one node, and a leading
``Sequential`` of random augmentation layers, which becomes the design's augmentation. A layer
used twice (shared weights) becomes two nodes that start from the same weights, and is
reported: a design has no way to tie weights.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer.design import catalog, graph
from designer.design.spec import Design, Edge, Node
from designer.model import import_layers as importer_layers
from designer.model import modelfile, sidecar
from designer.model.build import analyze, layer_name
from designer.model.import_layers import plain
from designer.model.modelfile import ModelFileError

__all__ = ["ImportResult", "ModelFileError", "import_keras", "import_model"]

INPUT_DTYPES = {"float32": "float32", "int32": "int32"}
_AUGMENT = {e.type for e in catalog.LAYERS.values() if e.category == "augmentation"}
# Shape-changing members of the category stay graph nodes: they act at inference too.
_AUGMENT -= {"RandomCrop", "Resizing", "CenterCrop"}
X_GAP, Y_GAP = 180.0, 100.0


@dataclass
class ImportResult:
    design: Design
    # (node id, message): what the design does not capture of the model.
    problems: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was done, for the user to know
    weights: dict[str, list[Any]] = field(default_factory=dict)  # node id -> arrays

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        return [f"{node_id}: {msg}" for node_id, msg in self.problems]

    def write(self, design_path: str | Path, *, weights: bool = True) -> Path | None:
        """Save the design, and its weights as the sidecar beside it; returns that path.

        Without weights, a sidecar left beside the file by an earlier import is removed: it
        belongs to the design just overwritten, and export would otherwise pick it up.
        """
        self.design.save(design_path)
        path = sidecar.sidecar_path(design_path)
        if not weights:
            path.unlink(missing_ok=True)
            return None
        sidecar.write(path, self.design, self.weights)
        return path


def import_keras(path: str | Path) -> ImportResult:
    """Import a ``.keras`` file: checked first (:mod:`designer.model.modelfile`), nothing in it
    runs."""
    config = modelfile.read_config(path)
    # A thread of its own for the load and the walk: see _load_and_walk.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="keras-import") as pool:
        name, walker, outputs = pool.submit(_load_and_walk, path).result()
    return _result(name, walker, outputs, config.get("compile_config"))


def _load_and_walk(path: str | Path) -> tuple[str, _Walker, list[str]]:
    """Load a checked file and walk its model, without drawing weights the file replaces.

    Keras creates a loaded model's variables with freshly drawn random values, then overwrites
    them with the file's: for ResNet50 the drawing is about a third of the load, and checking
    whether a nested model is a catalog base builds a fresh base whose weights are never read.
    In ``keras.StatelessScope(initialize_variables=False)`` variables are created without
    values, and what the file assigns is recorded by the scope, where the walk collects it
    (``scope.get_current_value``, as Keras documents). Any weight the scope did not record
    sends the file down Keras' usual path; so does a load the scope makes fail (a layer that
    makes a variable from a value, a stateful RNN), and that load's error is the user's.

    Keras keeps the variables still to initialise in a per-thread list, and the next scope to
    close in that thread (any symbolic layer call, e.g. the design's analysis) would initialise
    them all: the same cost, only later. Hence the thread of its own (see :func:`import_keras`):
    the list goes away with it, and the design is analysed back in the caller's thread.
    """
    import keras

    with keras.StatelessScope(initialize_variables=False) as scope:
        try:
            model = modelfile.load_checked(path)
        except ModelFileError:
            model = None
        if model is not None:
            try:
                return (model.name, *_walk(model, _recorded_weights(scope)))
            except _NotRecorded:
                pass
    model = modelfile.load_checked(path)
    return (model.name, *_walk(model))


class _NotRecorded(Exception):
    """A weight the stateless scope holds no value for."""


def _recorded_weights(scope: Any) -> Callable[[Any], list[Any]]:
    """``layer.get_weights()`` for a model loaded in ``scope``, read from the scope itself: the
    scope Keras consults is per thread and ``keras.backend.clear_session()`` (which Streamlit
    calls after every script run, in any session) drops it, after which an uninitialised
    variable would read as fresh random values."""
    import keras

    def read(layer: Any) -> list[Any]:
        values = [scope.get_current_value(v) for v in layer.weights]
        if any(v is None for v in values):
            raise _NotRecorded(layer.name)
        return [keras.ops.convert_to_numpy(v) for v in values]

    return read


def import_model(model: Any) -> ImportResult:
    """Import a live ``keras.Model`` (Sequential or Functional)."""
    import keras

    if not isinstance(model, keras.Model):
        raise ModelFileError(f"not a Keras model: {type(model).__name__}")
    modelfile.check(keras.saving.serialize_keras_object(model), f"model {model.name!r}")
    compile_config = model.get_compile_config() if getattr(model, "compiled", False) else None
    return _import(model, compile_config)


def _import(model: Any, compile_config: dict | None) -> ImportResult:
    return _result(model.name, *_walk(model), compile_config)


def _walk(
    model: Any, read_weights: Callable[[Any], list[Any]] | None = None
) -> tuple[_Walker, list[str]]:
    """The walker holding the model's nodes, edges and weights, and the output node ids."""
    walker = _Walker(read_weights)
    match = importer_layers.match_application(model)
    if match:  # a bare base at the top level: an Input and one base node
        first = model.layers[0]
        name = first.name if type(first).__name__ == "InputLayer" else "input"
        t = model.inputs[0]
        input_id = walker.input_node(name, {"batch_shape": list(t.shape), "dtype": t.dtype})
        outputs = [walker.base_node(model, match, [input_id])]
    else:
        outputs = walker.model(model, None)
    return walker, outputs


def _result(
    name: str, walker: _Walker, outputs: list[str], compile_config: dict | None
) -> ImportResult:
    design = Design(
        nodes=walker.nodes,
        edges=walker.edges,
        name=name,
        augmentation=walker.augmentation,
    )
    if outputs != design.output_ids():  # several outputs, or one that also feeds other layers
        design.outputs = outputs
    design.compile, compile_problems = importer_layers.compile_spec(compile_config)
    design.layout = layout(design)
    result = ImportResult(design, walker.problems + compile_problems, walker.notes, walker.weights)
    _check_builds(result)
    return result


def _check_builds(result: ImportResult) -> None:
    """Whatever still keeps the design from building, on the nodes not reported yet."""

    reported = {node_id for node_id, _ in result.problems}
    for node_id, msg in analyze(result.design).problems:
        if node_id not in reported:
            result.problems.append((node_id, msg))


class _Walker:
    """Walks a model's graph, appending nodes and edges; tensors are referred to by node id."""

    def __init__(self, read_weights: Callable[[Any], list[Any]] | None = None) -> None:
        self.read_weights = read_weights or (lambda layer: layer.get_weights())
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.augmentation: list[Node] = []
        self.problems: list[tuple[str, str]] = []
        self.notes: list[str] = []
        self.weights: dict[str, list[Any]] = {}
        self.taken: set[str] = set()

    def new_id(self, name: str) -> str:
        base = layer_name(name)
        node_id, i = base, 2
        while node_id in self.taken:
            node_id, i = f"{base}_{i}", i + 1
        self.taken.add(node_id)
        return node_id

    # ---- models ------------------------------------------------------------------------
    def model(self, model: Any, inputs: list[str] | None) -> list[str]:
        """Expand ``model`` called on ``inputs`` (None: the top level); its output node ids."""
        config = model.get_config()
        if type(model).__name__ == "Sequential":
            return self._sequential(model, config, inputs)
        if "layers" not in config or "input_layers" not in config:
            raise ModelFileError(f"model {model.name!r} is not Sequential or Functional")
        tensors: dict[tuple, str] = {}
        in_refs = _refs(config["input_layers"])
        if inputs is not None and len(inputs) != len(in_refs):
            raise ModelFileError(f"nested model {model.name!r}: unexpected number of inputs")
        by_name = {layer.name: layer for layer in model.layers}
        for k, ref in enumerate(in_refs):
            if inputs is None:
                entry = next(e for e in config["layers"] if e["name"] == ref[0])
                tensors[ref] = self.input_node(ref[0], entry["config"])
            else:
                tensors[ref] = inputs[k]
        for entry in config["layers"]:
            if entry["class_name"] == "InputLayer":
                continue
            layer = by_name[entry["name"]]
            calls = entry.get("inbound_nodes") or []
            ids = []
            for index, call in enumerate(calls):
                args, shapes = _call_inputs(call, tensors, layer.name)
                extra = _extra_arguments(call, entry["class_name"])
                outs = self._call(layer, entry["class_name"], entry["config"], args, shapes)
                for t, node_id in enumerate(outs):
                    tensors[(layer.name, index, t)] = node_id
                if extra and outs:
                    self.problems.append(
                        (outs[0], f"cannot be represented: {layer.name}: called with {extra}")
                    )
                ids.append(outs[0] if outs else "?")
            if len(calls) > 1:
                self._shared(layer.name, ids)
        missing = [r for r in _refs(config["output_layers"]) if r not in tensors]
        if missing:
            raise ModelFileError(f"model {model.name!r}: output {missing[0][0]!r} is not reached")
        return [tensors[r] for r in _refs(config["output_layers"])]

    def _sequential(self, model: Any, config: dict, inputs: list[str] | None) -> list[str]:
        try:
            model_inputs = model.inputs
        except (AttributeError, ValueError):
            model_inputs = None
        if not model_inputs:
            raise ModelFileError(f"model {model.name!r} has no input shape: build it first")
        if inputs is None:
            first = config["layers"][0] if config.get("layers") else {}
            is_input = first.get("class_name") == "InputLayer"
            name = first["config"]["name"] if is_input else "input"
            t = model.inputs[0]
            cfg = first["config"] if is_input else {"batch_shape": list(t.shape), "dtype": t.dtype}
            inputs = [self.input_node(name, cfg)]
        current, shape = inputs[0], tuple(model.inputs[0].shape)
        for layer in model.layers:
            outs = self._call(layer, type(layer).__name__, layer.get_config(), [current], [shape])
            current = outs[0]
            try:
                shape = tuple(layer.output.shape)
            except (AttributeError, ValueError):
                shape = tuple(layer.compute_output_shape(shape))
        return [current]

    # ---- one call of one layer -------------------------------------------------------------
    def _call(
        self, layer, class_name: str, config: dict, args: list[str], shapes: list
    ) -> list[str]:
        import keras

        if isinstance(layer, keras.Model):
            match = importer_layers.match_application(layer)
            if match:
                return [self.base_node(layer, match, args)]
            if self._is_augmentation(layer, args):
                self.augmentation = [self._augmentation_node(a) for a in layer.layers]
                self.notes.append(f"{layer.name}: imported as the design's augmentation")
                return list(args)
            note = f"{layer.name}: nested model opened up into its layers"
            if note not in self.notes:
                self.notes.append(note)
            return self.model(layer, args)
        node_id = self.new_id(layer.name)
        rank = len(shapes[0]) if shapes and shapes[0] is not None else None
        node, problems = importer_layers.layer_node(node_id, class_name, config, rank)
        self.nodes.append(node)
        self.edges += [Edge(a, node_id) for a in args]
        self.problems += [(node_id, f"cannot be represented: {layer.name}: {p}") for p in problems]
        if layer.weights:
            self.weights[node_id] = self.read_weights(layer)
        return [node_id]

    def base_node(self, layer, match: tuple[str, dict], args: list[str]) -> str:
        app_type, params = match
        node_id = self.new_id(layer.name)
        self.nodes.append(Node(node_id, app_type, params))
        self.edges += [Edge(a, node_id) for a in args]
        self.weights[node_id] = self.read_weights(layer)
        self.notes.append(
            f"{node_id}: recognised as a {app_type} base ({len(layer.layers)} layers)"
        )
        if importer_layers.mixed_trainable(layer):
            self.problems.append(
                (
                    node_id,
                    f"cannot be represented: {layer.name}: only some of its layers are "
                    f"trainable (imported as trainable = {params['trainable']})",
                )
            )
        return node_id

    def _is_augmentation(self, layer, args: list[str]) -> bool:
        """A ``Sequential`` of random augmentation layers applied straight to an Input."""
        inputs = {n.id for n in self.nodes if n.type == "Input"}
        return (
            type(layer).__name__ == "Sequential"
            and not self.augmentation
            and bool(layer.layers)
            and all(type(a).__name__ in _AUGMENT for a in layer.layers)
            and len(args) == 1
            and args[0] in inputs
        )

    def _augmentation_node(self, layer) -> Node:
        node_id = self.new_id(layer.name)
        node, problems = importer_layers.layer_node(
            node_id, type(layer).__name__, layer.get_config(), 4
        )
        self.problems += [(node_id, f"cannot be represented: {layer.name}: {p}") for p in problems]
        return node

    def input_node(self, name: str, config: dict) -> str:
        node_id = self.new_id(name)
        shape = list((config.get("batch_shape") or config.get("batch_input_shape") or [None])[1:])
        dtype = str(config.get("dtype") or "float32")
        wanted = INPUT_DTYPES.get(dtype, "int32" if "int" in dtype else "float32")
        self.nodes.append(Node(node_id, "Input", {"shape": shape, "dtype": wanted}))
        if wanted != dtype:
            self.problems.append(
                (
                    node_id,
                    f"cannot be represented: {name}: dtype = {dtype!r} (imported as {wanted})",
                )
            )
        for flag in ("sparse", "ragged"):
            if config.get(flag):
                self.problems.append((node_id, f"cannot be represented: {name}: {flag} = true"))
        return node_id

    def _shared(self, name: str, ids: list[str]) -> None:
        self.problems.append(
            (
                ids[0],
                (
                    f"cannot be represented: {name}: a shared layer used {len(ids)} times; "
                    f"imported as separate nodes {', '.join(ids)} that start from the same "
                    "weights but no longer share them"
                ),
            )
        )


def _refs(value: Any) -> list[tuple]:
    """``input_layers``/``output_layers`` entries as ``(layer, node_index, tensor_index)``."""
    if isinstance(value, dict):
        return [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [(value[0], int(value[1]), int(value[2]))]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def _tensors(value: Any) -> list[dict]:
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [value]
        return [t for v in value.values() for t in _tensors(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


def _call_inputs(call: dict, tensors: dict, layer: str) -> tuple[list[str], list]:
    ids, shapes = [], []
    for t in _tensors(call.get("args", [])):
        ref = tuple(t["config"]["keras_history"])
        if ref not in tensors:
            raise ModelFileError(f"layer {layer!r}: its input {ref[0]!r} is not part of the model")
        ids.append(tensors[ref])
        shapes.append(tuple(t["config"].get("shape") or ()))
    return ids, shapes


def _extra_arguments(call: dict, class_name: str) -> str:
    """Call arguments other than the input tensors (``training=True``, a mask...)."""
    # Keras records training=False for every symbolic call; only a forced mode is a choice.
    # Preprocessing and augmentation layers are recorded with training=True whatever the
    # call said (that is how they know to augment): not a choice either.
    spec = catalog.get(class_name)
    preprocessing = spec is not None and spec.category == "augmentation"
    kwargs = {
        k: v
        for k, v in (call.get("kwargs") or {}).items()
        if v not in (None, False) and not (preprocessing and k == "training" and v is True)
    }
    others = [a for a in call.get("args", []) if not _tensors(a) and a is not None]
    parts = [f"{k}={plain(v)!r}" for k, v in sorted(kwargs.items())] + [
        repr(plain(a)) for a in others
    ]
    return ", ".join(parts)


# ---- layout -------------------------------------------------------------------------------------
def layout(design: Design) -> dict[str, dict[str, float]]:
    """Rows by depth (longest path from an input), each row ordered by where its inputs sit."""
    order, cyclic = graph.topological_order(design)
    depth: dict[str, int] = {}
    for node_id in order + cyclic:
        preds = [depth[p] for p in design.predecessors(node_id) if p in depth]
        depth[node_id] = max(preds) + 1 if preds else 0
    rows: dict[int, list[str]] = {}
    for node_id in order + cyclic:
        rows.setdefault(depth[node_id], []).append(node_id)
    x: dict[str, float] = {}
    out = {}
    for d in sorted(rows):
        row = rows[d]
        wanted = {}
        for i, node_id in enumerate(row):
            preds = [x[p] for p in design.predecessors(node_id) if p in x]
            wanted[node_id] = (sum(preds) / len(preds) if preds else 0.0, i)
        row.sort(key=wanted.__getitem__)
        for i, node_id in enumerate(row):
            x[node_id] = (i - (len(row) - 1) / 2) * X_GAP
            out[node_id] = {"x": x[node_id], "y": d * Y_GAP}
    return out
