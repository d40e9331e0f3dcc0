"""Design -> Keras: per-node shapes, parameter counts and errors, and the real ``keras.Model``.

Shapes and counts always come from Keras: each node's layer is called on symbolic
``KerasTensor`` inputs and asked for ``count_params()``. Nothing here computes a shape by
formula. A node's result depends only on its type, its parameters and the shapes of its
inputs, so results are cached on exactly that key: after one edit only the changed node and
the nodes whose input shapes changed are rebuilt (a 200-layer chain revalidates in
milliseconds instead of a second).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from designer.design import catalog, graph
from designer.design.compiling import METRIC_CLASSES, optimizer_kwargs
from designer.design.graph import layer_name
from designer.design.params import kept
from designer.design.spec import CompileSpec, Design, Node
from designer.model import layer_cache
from designer.model.modelfile import refusals
from designer.text import shape_text

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@dataclass
class NodeReport:
    id: str
    type: str
    output_shape: tuple | None = None  # with the batch axis first (None), as Keras reports it
    dtype: str = "float32"
    params: int = 0
    trainable_params: int = 0
    error: str | None = None
    warning: str | None = None
    # A one-click fix the editor can apply: {"insert": "Flatten", "before": node_id}
    fix: dict[str, str] | None = None


@dataclass
class Analysis:
    order: list[str]
    nodes: dict[str, NodeReport]
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.nodes.values())

    @property
    def trainable_params(self) -> int:
        return sum(r.trainable_params for r in self.nodes.values())

    def lines(self) -> list[str]:
        """``node_id: message`` lines, one per problem (the CLI's validate output)."""
        return [f"{node_id}: {msg}" for node_id, msg in self.problems]

    def memory_bytes(self, batch_size: int = 32) -> int:
        """Rough training memory: weights, gradients and two Adam moments (4 copies of float32
        parameters), plus activations kept for the backward pass for one batch."""
        activations = 0
        for r in self.nodes.values():
            if r.output_shape:
                size = 1
                for d in r.output_shape[1:]:
                    size *= d or 1
                activations += size
        return 4 * (4 * self.total_params + 2 * batch_size * activations)


class DesignInvalid(ValueError):
    def __init__(self, analysis: Analysis):
        self.analysis = analysis
        super().__init__("\n".join(analysis.lines()))


# ---- making one layer --------------------------------------------------------------------
def make_layer(node: Node, input_shape: tuple | None = None, *, offline: bool = True) -> Any:
    """One Keras layer (or nested application model) for ``node``.

    ``input_shape`` (with batch axis) is needed only for application bases, whose input size is
    fixed at construction. ``offline`` builds them with ``weights=None``: same shapes and
    counts, no download.
    """
    import keras

    spec = catalog.LAYERS[node.type]
    kw = {p.name: p.to_keras(node.params.get(p.name, p.default)) for p in spec.params}
    kw.update(kept_kwargs(node))
    name = layer_name(node.id)
    if spec.module == "applications":
        trainable = kw.pop("trainable")
        weights = None if offline else kw["weights"]
        app = getattr(keras.applications, node.type)
        base = app(
            include_top=False,
            weights=weights,
            input_shape=tuple(input_shape[1:]) if input_shape else None,
            pooling=kw["pooling"],
            name=name,
        )
        base.trainable = trainable
        return base
    if spec.module == "wrapper":
        inner = getattr(keras.layers, kw.pop("layer"))
        rnn = inner(kw.pop("units"), return_sequences=kw.pop("return_sequences"))
        return keras.layers.Bidirectional(rnn, name=name, **kw)
    cls = getattr(keras.layers, node.type)
    return cls(name=name, **kw)


class KeptRefused(ValueError):
    """A kept argument names code that is not Keras' own: the layer is not built."""


def kept_kwargs(node: Node) -> dict[str, Any]:
    """The arguments kept from an imported model, as the constructor takes them.

    Serialized Keras objects stay dicts (the constructor deserializes them, as ``from_config``
    does); they are checked first, as a ``.keras`` file is: a design file may come from
    anyone, and an object naming another module would import it.
    """
    extra = kept(node.params)
    reasons = refusals(list(extra.values()))
    if reasons:
        raise KeptRefused(f"kept arguments refused: {reasons[0].split(' is refused: ')[-1]}")
    return {k: _tuples(v) for k, v in extra.items()}


def _tuples(value: Any) -> Any:
    """JSON lists as the tuples Keras writes (noise_shape, ((0, 1), (0, 1)) paddings)."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


# ---- per-node symbolic evaluation (cached) -----------------------------------------------
_CACHE: OrderedDict[str, tuple] = OrderedDict()
_CACHE_SIZE = 4096
_LOCK = threading.Lock()
_DISK: dict[str, list[Any]] | None = None  # the answers kept on disk, read at the first call


@dataclass(frozen=True)
class LayerResult:
    """What Keras says about one layer given its inputs (cached: shared by equal layers)."""

    output_shape: tuple | None = None
    dtype: str = "float32"
    params: int = 0
    trainable: int = 0
    error: str | None = None
    warning: str | None = None
    fix: dict[str, str] | None = None


def answer_of(result: LayerResult) -> list[Any]:
    """``result`` as JSON keeps it (see :mod:`designer.model.layer_cache`)."""
    return json.loads(json.dumps(dataclasses.astuple(result)))


def _result_of(answer: list[Any]) -> LayerResult:
    shape = tuple(answer[0]) if answer[0] is not None else None
    return LayerResult(shape, *answer[1:])


def _evaluate(node: Node, inputs: list[tuple[tuple, str]]) -> LayerResult:
    """The layer's output shape, parameters and problems, given its inputs' shapes: from
    memory, else from the answers kept on disk (so a fresh server does not wait for Keras),
    else from Keras, kept in both."""
    global _DISK
    key = json.dumps([node.type, node.params, inputs], sort_keys=True, default=str)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        if _DISK is None:
            _DISK = layer_cache.read()
        kept_answer = _DISK.get(key)
    if kept_answer is not None:
        result = _result_of(kept_answer)
    else:
        result = _evaluate_uncached(node, inputs)
        layer_cache.append(key, answer_of(result))
    with _LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def fresh_answers(design: Design) -> dict[str, list[Any]]:
    """Keras' answers for every layer of ``design``, asked now (for the shipped file)."""
    global _CACHE, _DISK
    with _LOCK:
        saved = _CACHE, _DISK
        _CACHE, _DISK = OrderedDict(), {}
    try:
        analyze(design)
        return {key: answer_of(result) for key, result in _CACHE.items()}
    finally:
        with _LOCK:
            _CACHE, _DISK = saved


def _evaluate_uncached(node: Node, inputs: list[tuple[tuple, str]]) -> LayerResult:
    import keras

    spec = catalog.LAYERS[node.type]
    warning = fix = None
    try:
        if spec.module == "input":
            shape = tuple(node.params.get("shape", spec.param("shape").default))
            dtype = node.params.get("dtype", "float32")
            return LayerResult((None, *shape), dtype)
        in_shape = inputs[0][0]
        reason = _rank_problem(node, spec, [s for s, _ in inputs])
        if reason:
            return LayerResult(error=reason[0], fix=reason[1])
        too_big = _too_big(node, spec, in_shape)
        if too_big:
            return LayerResult(error=too_big)
        tensors = [keras.KerasTensor(shape, dtype=dtype) for shape, dtype in inputs]
        try:
            with _weights_without_values():
                layer, out = _built(node, spec, in_shape, tensors)
        except ValueError as exc:
            if "stateless scope" not in str(exc):
                raise
            # The layer makes a variable from a value, which has to be drawn: build it as usual.
            layer, out = _built(node, spec, in_shape, tensors)
        params = int(layer.count_params())
        trainable = int(sum(_size(w.shape) for w in layer.trainable_weights))
        if node.type == "Dense" and len(in_shape) > 2:
            warning = (
                f"Dense after a {len(in_shape)}-D tensor {shape_text(in_shape)} works on the last "
                "axis only: insert Flatten or GlobalAveragePooling2D before it"
            )
            fix = {"insert": "Flatten", "before": node.id}
        return LayerResult(tuple(out.shape), str(out.dtype), params, trainable, None, warning, fix)
    except KeptRefused as exc:
        return LayerResult(error=str(exc))
    except Exception as exc:  # noqa: BLE001 - any Keras complaint becomes a message on the node
        return LayerResult(error=_explain(node, inputs, exc))


def _built(node: Node, spec: catalog.LayerSpec, in_shape: tuple, tensors: list) -> tuple:
    layer = make_layer(node, in_shape)
    return layer, layer(tensors if spec.max_inputs != 1 else tensors[0])


@contextlib.contextmanager
def _weights_without_values() -> Iterator[None]:
    """Build layers whose weights have shapes and no values.

    The analysis needs shapes and counts only. Drawing the initial values (a random
    initializer; after Streamlit's ``clear_session`` at the end of every script run, a new
    seed generator first) was most of an edit's analysis: 35 of 50 ms in the app server. In
    ``keras.StatelessScope(initialize_variables=False)`` a variable gets its shape and no
    value, and Keras lists it, per thread, to be given one when a later scope closes; that
    list is cut back to what it held before, so these values are never drawn at all (Keras
    keeps the list in its private global state: test_analysis_leaves_no_weights_to_draw
    fails if it moves).
    """
    import keras
    from keras.src.backend.common import global_state

    pending = global_state.get_global_attribute("uninitialized_variables") or []
    before = len(pending)
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        pending = global_state.get_global_attribute("uninitialized_variables")
        if pending:
            del pending[before:]


# Building a model allocates its weights (the analysis draws none, but training, exports and
# a layer built the usual way do): a 300-byte design asking for a Dense of 65,536 units on
# 100,000 inputs would take the server down. This rough upper bound refuses it at the
# analysis, before any of those; the counts people see still come from Keras.
MAX_LAYER_PARAMS = 200_000_000
MAX_MODEL_PARAMS = 400_000_000


def _too_big(node: Node, spec: catalog.LayerSpec, in_shape: tuple) -> str | None:
    p = {q.name: node.params.get(q.name, q.default) for q in spec.params}
    width = 1
    for key in ("units", "filters", "output_dim", "input_dim"):
        if isinstance(p.get(key), int):
            width *= p[key]
    kernel = p.get("kernel_size", 1)
    for k in kernel if isinstance(kernel, (list, tuple)) else [kernel]:
        width *= k if isinstance(k, int) else 1
    fan_in = in_shape[-1] if in_shape and isinstance(in_shape[-1], int) else 1
    estimate = width * (1 if node.type == "Embedding" else fan_in)
    if node.type in _RECURRENT:
        estimate *= 8  # gates and both directions, at most
    if estimate > MAX_LAYER_PARAMS:
        return (
            f"{node.type} would have about {estimate:,} parameters (more than "
            f"{MAX_LAYER_PARAMS:,}): too large to build; use fewer units/filters or a smaller input"
        )
    return None


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


_RANK = {"1D": 3, "2D": 4, "3D": 5}
_RECURRENT = {"SimpleRNN", "LSTM", "GRU", "Bidirectional"}


def _rank_problem(node: Node, spec: catalog.LayerSpec, shapes: list[tuple]) -> tuple | None:
    """The common beginner mistake — a layer fed a tensor of the wrong rank — in plain words."""
    rank = len(shapes[0])
    want = None
    for suffix, r in _RANK.items():
        if suffix in node.type:
            want = r
    if node.type in _RECURRENT:
        want = 3
    if spec.category == "pretrained":
        want = 4
    if want is None or rank == want:
        return None
    what = {
        3: "sequences (steps, features)",
        4: "images (height, width, channels)",
        5: "volumes (depth, height, width, channels)",
    }[want]
    got = shape_text(shapes[0])
    if want == 4 and rank == 2:
        return (
            f"{node.type} needs {what} but gets {got}: place it where the data is still an "
            "image (before any Flatten or Dense), or insert a Reshape before it",
            {"insert": "Reshape", "before": node.id},
        )
    return (f"{node.type} needs {what} but gets {got}: insert a Reshape before it", None)


def _explain(node: Node, inputs: list[tuple[tuple, str]], exc: Exception) -> str:
    text = " ".join(str(exc).split())
    shapes = ", ".join(shape_text(s) for s, _ in inputs)
    if "incompatible shapes" in text or "matching shapes" in text or "same shape" in text:
        return f"{node.type} needs inputs of the same shape but gets {shapes}: make them match"
    if "zero or negative" in text or "negative dimension" in text.lower():
        return (
            f"the input {shapes} is too small for this window: use padding 'same', a smaller "
            "kernel/pool size, or a larger input"
        )
    if "total size" in text and node.type == "Reshape":
        return f"cannot reshape {shapes} to {node.params.get('target_shape')}: the sizes differ"
    if (
        "input shape" in text.lower()
        and node.type in catalog.LAYERS
        and (catalog.LAYERS[node.type].category == "pretrained")
    ):
        return f"{node.type} needs colour images of at least 32×32 (3 channels); gets {shapes}"
    return f"{node.type} cannot be applied to {shapes}: {text[:200]}"


# ---- the whole design ------------------------------------------------------------------------
def analyze(design: Design) -> Analysis:
    """Validate ``design`` and report every node's output shape, parameters and problems."""
    problems = graph.structural_problems(design)
    order, cyclic = graph.topological_order(design)
    reports: dict[str, NodeReport] = {}
    broken = {node_id for node_id, _ in problems} | set(cyclic)
    for node_id in order:
        node = design.node(node_id)
        report = NodeReport(node.id, node.type)
        reports[node_id] = report
        if node_id in broken or catalog.get(node.type) is None:
            continue
        preds = design.predecessors(node_id)
        ins = [reports.get(p) for p in preds]
        if any(r is None or r.output_shape is None for r in ins):
            continue  # an upstream node has the problem; it is reported there
        inputs = [(r.output_shape, r.dtype) for r in ins]
        result = _evaluate(node, inputs)
        report.output_shape, report.dtype = result.output_shape, result.dtype
        report.params, report.trainable_params = result.params, result.trainable
        # Cached results are shared by nodes with equal type, params and inputs: the fix must
        # name this node, not the one the result was first computed for.
        report.fix = {**result.fix, "before": node.id} if result.fix else None
        report.error, report.warning = result.error, result.warning
        if result.error:
            problems.append((node_id, result.error))
    total = sum(r.params for r in reports.values())
    if total > MAX_MODEL_PARAMS:
        # Each layer passed its own budget, but together they would not fit in memory to train.
        biggest = max(reports.values(), key=lambda r: r.params)
        problems.append(
            (
                biggest.id,
                f"the model would have {total:,} parameters (more than "
                f"{MAX_MODEL_PARAMS:,}): too large to train here; this is its largest layer",
            )
        )
    for node_id in cyclic:
        reports[node_id] = NodeReport(node_id, design.node(node_id).type)
    # Structural problems go on their nodes' reports too, so the editor can paint them red.
    for node_id, msg in problems:
        if node_id in reports and not reports[node_id].error:
            reports[node_id].error = msg
    position = {n.id: i for i, n in enumerate(design.nodes)}
    problems.sort(key=lambda p: position.get(p[0], -1))
    return Analysis(order=order, nodes=reports, problems=problems)


def build_model(
    design: Design,
    *,
    offline: bool = True,
    wrap_input: Callable[[str, Any], Any] | None = None,
    analysis: Analysis | None = None,
) -> Any:
    """The ``keras.Model`` for a valid design (:class:`DesignInvalid` otherwise).

    Layers get the node ids as names, so the model, the code and the editor agree.
    ``wrap_input(node_id, tensor)`` may replace what an Input feeds downstream (the trainer puts
    its augmentation block there). Pretrained bases are called with ``training=False``, as in
    Keras' transfer-learning guide: their BatchNormalization statistics stay as learned, also
    when the base is unfrozen for fine-tuning.
    """
    import keras

    analysis = analysis or analyze(design)
    if not analysis.ok:
        raise DesignInvalid(analysis)
    tensors: dict[str, Any] = {}
    inputs = []
    for node_id in analysis.order:
        node = design.node(node_id)
        spec = catalog.LAYERS[node.type]
        if spec.module == "input":
            report = analysis.nodes[node_id]
            t = keras.Input(
                shape=report.output_shape[1:], dtype=report.dtype, name=layer_name(node.id)
            )
            inputs.append(t)
            tensors[node_id] = wrap_input(node_id, t) if wrap_input else t
            continue
        ins = [tensors[p] for p in design.predecessors(node_id)]
        layer = make_layer(node, tuple(ins[0].shape), offline=offline)
        x = ins if spec.max_inputs != 1 else ins[0]
        tensors[node_id] = layer(x, training=False) if spec.module == "applications" else layer(x)
    outputs = [tensors[o] for o in design.output_ids()]
    return keras.Model(
        inputs=inputs if len(inputs) > 1 else inputs[0],
        outputs=outputs if len(outputs) > 1 else outputs[0],
        name=layer_name(design.name) or "model",
    )


def summary_rows(design: Design, analysis: Analysis | None = None) -> list[dict[str, Any]]:
    """A Keras-style summary: one row per node in graph order."""
    analysis = analysis or analyze(design)
    rows = []
    for node_id in analysis.order:
        r = analysis.nodes[node_id]
        rows.append(
            {
                "node": node_id,
                "type": r.type,
                "output_shape": str(r.output_shape) if r.output_shape else "?",
                "params": r.params,
                "connected_to": ", ".join(design.predecessors(node_id)),
                "problem": r.error or r.warning or "",
            }
        )
    return rows


def compile_model(model: Any, c: CompileSpec) -> None:
    """``model.compile`` with the resolved settings (``c`` must come from
    :func:`designer.design.compiling.resolve`)."""
    import keras

    optimizer = getattr(keras.optimizers, c.optimizer)(**optimizer_kwargs(c))
    metrics = [
        getattr(keras.metrics, METRIC_CLASSES[m])(name=m) if m in METRIC_CLASSES else m
        for m in c.metrics or []
    ]
    model.compile(optimizer=optimizer, loss=c.loss, metrics=metrics)
