"""A reading -> a design: the model the code trains, its compile and training settings, its
data set, and every note and problem by line."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer.codeimport import layers as code_layers
from designer.codeimport import names
from designer.codeimport.graph import Graph
from designer.codeimport.reader import Reader
from designer.codeimport.values import KerasCall, Ref, Sequential, Unknown
from designer.design import compile_catalog
from designer.design.spec import Design, Node, TrainSpec
from designer.errors import DesignerError
from designer.model import import_layers
from designer.model.build import analyze
from designer.model.importer import layout

MAX_SOURCE_BYTES = 1024 * 1024
# model.fit's positional parameters, in Keras' order.
FIT_ORDER = ("x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split")
_FIT_IGNORED = {"x", "y", "verbose", "shuffle", "validation_data", "validation_steps"}
_FIT_IGNORED |= {"workers", "use_multiprocessing", "max_queue_size", "validation_freq"}
_APP_ARGS = {"include_top", "weights", "input_shape", "pooling", "name", "input_tensor"}
SUBCLASS = (
    "{name} subclasses keras.Model: its call() is Python code, which is not read, so there is "
    "no design. Rewrite it as a functional model (inputs = keras.Input(shape=...), each layer "
    "called on the one before, keras.Model(inputs, outputs)) and import that."
)


class SourceError(DesignerError):
    """Not Python source the reader can parse (exit 2): its message is one line."""


@dataclass
class CodeImport:
    """The design read from code (None when no model could be read), and what to tell."""

    design: Design | None
    notes: list[tuple[int, str]] = field(default_factory=list)  # assumptions made
    problems: list[tuple[int, str]] = field(default_factory=list)  # what was not read

    @property
    def ok(self) -> bool:
        return self.design is not None and not self.problems

    def note_lines(self) -> list[str]:
        return [f"line {max(n, 1)}: {text}" for n, text in sorted(self.notes, key=_by_line)]

    def problem_lines(self) -> list[str]:
        return [f"line {max(n, 1)}: {text}" for n, text in sorted(self.problems, key=_by_line)]


def _by_line(item: tuple[int, str]) -> int:
    return item[0]


def parse(source: str | bytes) -> ast.Module:
    """The module's syntax tree; :class:`SourceError` when it is not Python."""
    if len(source) > MAX_SOURCE_BYTES:
        raise SourceError(f"larger than {MAX_SOURCE_BYTES // 1024} KB: not a model script")
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SourceError("not a Python file (not UTF-8 text)") from None
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise SourceError(f"line {exc.lineno or 1}: syntax error: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise SourceError(f"line 1: syntax error: {type(exc).__name__}") from None


def import_source(source: str | bytes, name: str = "model") -> CodeImport:
    """Read Keras code (never run it) into a design."""
    reader = Reader(parse(source))
    reader.run()
    g = reader.graph
    result = CodeImport(None, g.notes, g.problems)
    if g.subclassed:
        for line, cls in g.subclassed:
            g.problem(line, SUBCLASS.format(name=cls))
        return result
    model = _chosen(g)
    if model is None:
        g.problem(
            1,
            "no Keras model was found (keras.Sequential, a functional keras.Model, or "
            "model.add calls): no design",
        )
        return result
    inputs, outputs = _ends(g, model)
    if not outputs:
        g.problem(model.line, "the model has no layers: no design")
        return result
    result.design = _design(g, model, inputs, outputs, name)
    _check_builds(g, result.design)
    return result


def _chosen(g: Graph) -> Any:
    """The model the code trains (fit, else compile), else the last one it made."""
    parts = {id(i) for m in g.models if isinstance(m, Sequential) for i in m.items}
    g.models = [m for m in g.models if id(m) not in parts]  # a block of another model
    for key in ("fitted", "compiled"):
        found = [m for m in g.models if getattr(m, key)]
        if found:
            chosen = found[-1]
            break
    else:
        chosen = g.models[-1] if g.models else None
    others = [m for m in g.models if m is not chosen]
    if chosen is not None and others:
        g.note(
            chosen.line,
            f"the code makes {len(g.models)} models: this one (the one it "
            f"{'trains' if chosen.fitted else 'compiles' if chosen.compiled else 'makes last'}) "
            "is imported",
        )
    return chosen


def _ends(g: Graph, model: Any) -> tuple[list[str], list[str]]:
    if isinstance(model, Sequential):
        output = g.lay_out(model)
        return ([model.input.node_id] if model.input else []), (
            [output.node_id] if output is not None and output is not model.input else []
        )
    return [t.node_id for t in model.inputs], [t.node_id for t in model.outputs]


def _design(g: Graph, model: Any, inputs: list[str], outputs: list[str], name: str) -> Design:
    keep = g.ancestors(outputs) | set(inputs)
    nodes = [n for n in g.nodes if n.id in keep]
    order = {node_id: i for i, node_id in enumerate(inputs)}
    # The design's inputs are its Input nodes in order: the model's order, as the code says.
    ins = sorted((n for n in nodes if n.type == "Input"), key=lambda n: order.get(n.id, 99))
    nodes = ins + [n for n in nodes if n.type != "Input"]
    for n in nodes:
        if n.id in g.applications:
            n.params = _application_params(g, g.applications[n.id])
    design = Design(
        nodes=nodes,
        edges=[e for e in g.edges if e.source in keep and e.target in keep],
        name=model.name or name,
    )
    if outputs != design.output_ids():
        design.outputs = list(outputs)
    design.augmentation = _augmentation(g, keep)
    _data(g, design)
    if model.compiled:
        _compile(g, design, model.compiled)
    _training(g, design, model.fitted)
    for line, text, value in g.option_notes:
        g.note(line, f"{text} is the option's default, {value!r}")
    design.layout = layout(design)
    return design


def _application_params(g: Graph, app: Any) -> dict:
    kw = app.kwargs
    weights = kw.get("weights", "imagenet")
    if weights not in (None, "imagenet"):
        g.problem(app.line, f"{app.type}: weights = {weights!r} is not read (ImageNet or none)")
        weights = None
    params: dict[str, Any] = {"weights": weights}
    if app.trainable is None:
        g.note(app.line, f"{app.type}: trainable is not set: the base trains too (Keras' default)")
    params["trainable"] = True if app.trainable is None else app.trainable
    pooling = kw.get("pooling")
    if pooling in ("avg", "max"):
        params["pooling"] = pooling
    for key in sorted(set(kw) - _APP_ARGS):
        if key not in ("classes", "classifier_activation") or kw.get("include_top") is not False:
            g.problem(app.line, f"{app.type}: {key}= is not read")
    return params


def _augmentation(g: Graph, keep: set[str]) -> list[Node]:
    if g.augmentation is None:
        return []
    block, given = g.augmentation
    if given.node_id not in keep:
        return []
    out = []
    for layer in block.items:
        node_id = g.new_id(layer.name, layer.type, layer.line)
        node, problems = code_layers.layer_node(layer, node_id)
        g.problems += [(layer.line, f"{node_id}: {p}") for p in problems]
        out.append(node)
    return out


# ---- data ----------------------------------------------------------------------------------------
def _data(g: Graph, design: Design) -> None:
    if not g.datasets:
        return
    # Here, not at the top: the data package brings numpy, and the Home page imports this one.
    from designer.data import builtin

    line, dataset, how = g.datasets[0]
    if dataset not in builtin.ALL:
        g.problem(
            line,
            f"keras.datasets.{dataset} is not a data set of the designer: choose one on the "
            "Data page",
        )
        return
    design.data.dataset = dataset
    info = builtin.ALL[dataset]
    if info.source == "keras":
        stand_in = names.OFFLINE_STAND_INS.get(dataset)
        if stand_in:
            g.note(
                line,
                f"{dataset} is downloaded from the internet the first time; offline, the Data "
                f"page's {stand_in} stands in for it",
            )
        else:
            g.note(line, f"{dataset} is downloaded from the internet the first time it trains")
    if g.test_split is not None and 0 < g.test_split < 1:
        design.data.test_split = g.test_split
    if g.data_seed is not None:
        design.data.seed = g.data_seed


# ---- compile -------------------------------------------------------------------------------------
def _compile(g: Graph, design: Design, compiled: dict) -> None:
    line, args, kw = compiled["line"], compiled["args"], dict(compiled["kwargs"])
    for i, key in enumerate(("optimizer", "loss", "metrics")):
        if i < len(args):
            kw.setdefault(key, args[i])
    config: dict[str, Any] = {}
    if "optimizer" in kw:
        config["optimizer"] = _optimizer(g, kw["optimizer"], line)
    if "loss" in kw:
        config["loss"] = _loss(g, kw["loss"], line)
    if "metrics" in kw:
        metrics = kw["metrics"] if isinstance(kw["metrics"], (list, tuple)) else [kw["metrics"]]
        config["metrics"] = [m for m in (_metric(g, m, line) for m in metrics) if m is not None]
    for key in sorted(set(kw) - {"optimizer", "loss", "metrics"}):
        g.problem(line, f"compile: {key}= is not a setting of the design: left out")
    spec, problems = import_layers.compile_spec({k: v for k, v in config.items() if v is not None})
    g.problems += [
        (line, msg.replace("cannot be represented: ", "compile: ")) for _, msg in problems
    ]
    design.compile = spec


def _optimizer(g: Graph, value: Any, line: int) -> dict | None:
    if isinstance(value, str):
        name = names.OPTIMIZER_NAMES.get(value.lower())
        if name is None:
            g.problem(line, f"compile: optimizer {value!r} is not one the design has: Adam is used")
            return None
        return {"class_name": name, "config": {}}
    if isinstance(value, Ref) and value.path.startswith("keras.optimizers."):
        value = KerasCall(value.path, [], {}, line)
    if not isinstance(value, KerasCall) or not value.path.startswith("keras.optimizers."):
        text = value.text if isinstance(value, Unknown) else "this optimizer"
        g.problem(line, f"compile: {text} cannot be known without running the code: Adam is used")
        return None
    name = value.path.rsplit(".", 1)[1]
    choice = compile_catalog.OPTIMIZERS.get(name)
    if choice is None:
        g.problem(value.line, f"compile: optimizer {name} is not one the design has: Adam is used")
        return None
    kw = dict(value.kwargs)
    if value.args:
        kw.setdefault("learning_rate", value.args[0])
    if "lr" in kw:
        kw.setdefault("learning_rate", kw.pop("lr"))
        g.note(value.line, f"{name}(lr=) is learning_rate= in Keras 3")
    known = {p.name: p for p in choice.params}
    config = {}
    for key, v in kw.items():
        if key in known and isinstance(v, (int, float)) and not known[key].check(v):
            config[key] = v
        elif key in known and not isinstance(v, Unknown) and not known[key].check(v):
            config[key] = v
        else:
            why = "cannot be known" if isinstance(v, Unknown) else "is not a setting the design has"
            g.problem(value.line, f"compile: {name}({key}=) {why}: left out")
    return {"class_name": name, "config": config}


def _loss(g: Graph, value: Any, line: int) -> Any:
    if isinstance(value, str):
        return names.LOSS_ALIASES.get(value, value)
    if isinstance(value, Ref) and value.path.startswith("keras.losses."):
        last = value.last
        return names.LOSS_ALIASES.get(last, last)
    if isinstance(value, KerasCall) and value.path.startswith("keras.losses."):
        name = value.path.rsplit(".", 1)[1]
        for key in sorted(value.kwargs):
            if key == "name" or value.kwargs[key] in (False, 0, None, "sum_over_batch_size"):
                continue  # Keras' own default, or only a name
            g.problem(
                value.line,
                f"compile: {name}({key}=...) is not a setting the design has: the loss is read "
                "without it"
                + (" (end the model with a softmax or sigmoid)" if key == "from_logits" else ""),
            )
        return {"class_name": name, "config": {}}
    text = value.text if isinstance(value, Unknown) else "the loss"
    g.problem(line, f"compile: {text} cannot be known without running the code: left out")
    return None


def _metric(g: Graph, value: Any, line: int) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, Ref) and value.path.startswith("keras.metrics."):
        return value.last
    if isinstance(value, KerasCall) and value.path.startswith("keras.metrics."):
        return {"class_name": value.path.rsplit(".", 1)[1], "config": {}}
    g.problem(line, "compile: a metric that cannot be known without running the code: left out")
    return None


# ---- training ------------------------------------------------------------------------------------
def _training(g: Graph, design: Design, fitted: dict | None) -> None:
    t = design.training
    if g.seed is not None:
        t.seed = g.seed[1]
    if fitted is None:
        return
    line, kw = fitted["line"], dict(fitted["kwargs"])
    for i, value in enumerate(fitted["args"]):
        if i < len(FIT_ORDER):
            kw.setdefault(FIT_ORDER[i], value)
    if "nb_epoch" in kw:
        kw.setdefault("epochs", kw.pop("nb_epoch"))
        g.note(line, "fit(nb_epoch=) is epochs= in Keras 3")
    defaults = TrainSpec()
    for key in ("epochs", "batch_size"):
        if key not in kw:
            continue
        value = kw.pop(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            setattr(t, key, value)
        else:
            text = value.text if isinstance(value, Unknown) else repr(value)
            g.problem(
                line,
                f"fit: {key} = {text} cannot be known: {getattr(defaults, key)} is used",
            )
    split = kw.pop("validation_split", None)
    if isinstance(split, (int, float)) and 0 <= split < 1:
        from designer.codegen.data import DATASETS  # numpy, as in _data

        entry = DATASETS.get(design.data.dataset or "")
        if entry is not None and not entry.fixed_test:  # fit's share of what is left
            split = round(split * (1 - design.data.test_split), 4)
        design.data.validation_split = float(split)
    elif split is not None:
        g.problem(line, "fit: validation_split cannot be known: 0.2 is used")
    if "validation_data" in kw and isinstance(kw.get("validation_data"), (tuple, Unknown)):
        g.note(
            line,
            "fit: validation_data is not read: the design holds out its validation split "
            f"({design.data.validation_split:g} of the data) instead",
        )
    _callbacks(g, t, kw.pop("callbacks", []), line)
    for key in sorted(set(kw) - _FIT_IGNORED):
        g.problem(line, f"fit: {key}= is not a setting of the design: left out")


def _callbacks(g: Graph, t: TrainSpec, value: Any, line: int) -> None:
    t.checkpoint = False
    items = value if isinstance(value, (list, tuple)) else [value]
    for cb in items:
        if not isinstance(cb, KerasCall) or not cb.path.startswith("keras.callbacks."):
            text = cb.text if isinstance(cb, Unknown) else "a callback"
            g.problem(line, f"fit: {text} cannot be known without running the code: left out")
            continue
        kind = cb.path.rsplit(".", 1)[1]
        monitor = cb.kwargs.get("monitor")
        if kind == "EarlyStopping":
            t.early_stopping = True
            if isinstance(cb.kwargs.get("patience"), int):
                t.patience = cb.kwargs["patience"]
        elif kind == "ModelCheckpoint":
            t.checkpoint = True
        elif kind == "ReduceLROnPlateau":
            t.reduce_lr = True
        elif kind == "TensorBoard":
            t.tensorboard = True
        else:
            g.problem(cb.line, f"fit: the {kind} callback is not one the design has: left out")
            continue
        if isinstance(monitor, str):
            t.monitor = monitor if monitor.startswith("val_") else f"val_{monitor}"


# ---- the check ----------------------------------------------------------------------------------
def _check_builds(g: Graph, design: Design) -> None:
    """Whatever keeps the design from building, on the line of its node."""
    said = " ".join(text for _, text in g.problems)
    analysis = analyze(design)
    for node_id, msg in analysis.problems:
        if f"{node_id}: " in said and node_id != "compile":
            continue
        g.problem(g.lines.get(node_id, 1), f"{node_id}: {msg}")
    if analysis.ok and design.data.dataset:
        _check_fit(g, design, analysis)


def _check_fit(g: Graph, design: Design, analysis: Any) -> None:
    """Where the model does not take the data set's samples as the app loads them (the
    code's own preprocessing, a reshape to 784 values, is not part of a design): said as a
    note with the fix, as the Design page says it."""
    from designer.data import check_fit, get_info  # numpy: see _data

    def shapes(ids: list[str]) -> dict:
        return {i: tuple(analysis.nodes[i].output_shape[1:]) for i in ids}

    found = check_fit(
        get_info(design.data.dataset), shapes(design.input_ids()), shapes(design.output_ids())
    )
    for node_id, msg in found:
        g.note(g.lines.get(node_id, 1), f"{node_id}: {msg}")


def import_file(path: str | Path) -> CodeImport:
    p = Path(path)
    try:
        data = (
            p.read_bytes()
            if p.stat().st_size <= MAX_SOURCE_BYTES
            else b"x" * (1 + MAX_SOURCE_BYTES)
        )
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    return import_source(data, p.stem)


__all__ = ["CodeImport", "SourceError", "import_file", "import_source"]
