"""Design -> a standalone Python script, the one a person would have written by hand.

    >>> print(generate(templates.get("digits-mlp")))

The script has its imports at the top (only those it uses), ``build_model()`` (the Sequential
API for a single chain, the Functional API otherwise; compiled with the design's settings),
``load_data()`` (real loading code for the built-in data sets, a stub to fill in otherwise)
and ``main()``: argparse first, so ``--help`` neither loads data nor trains.

Every layer is rendered from its catalog entry the same way: the arguments Keras requires
come first, positionally; then only the parameters whose value differs from Keras' default.
Everything the user typed (ids, names, values) reaches the code as a Python literal
(``repr``) or as a sanitised identifier, so a design cannot inject code. Output is formatted
with black and is deterministic: the same design gives byte-identical text.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import keyword
import re
from typing import Any

from designer.codegen.data import dataset_task
from designer.design import catalog
from designer.design.compiling import METRIC_CLASSES, optimizer_kwargs, resolve
from designer.design.params import kept, kept_source
from designer.design.spec import Design, Node
from designer.model.augmentation import augmented_inputs, block_name
from designer.model.build import Analysis, layer_name

_SCRIPT_NAMES = {
    "argparse",
    "keras",
    "layers",
    "np",
    "gzip",
    "Path",
    "build_model",
    "load_data",
    "main",
    "model",
    "args",
    "parser",
    "callbacks",
    "results",
    "read_idx",
}
_RESERVED = _SCRIPT_NAMES | set(dir(builtins)) | set(keyword.kwlist) | set(keyword.softkwlist)
_ONE_HOT = {"categorical_crossentropy", "kl_divergence"}


# ---- literals and identifiers ------------------------------------------------------------------
def literal(value: Any) -> str:
    """Python source for a JSON value: lists become tuples (what Keras takes)."""
    if isinstance(value, (list, tuple)):
        items = [literal(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, float) and value != 0.0 and abs(value) < 1 and len(repr(value)) > 8:
        inverse = round(1 / value, 4)
        if inverse and 1 / inverse == value:  # 1 / 255 reads better than 0.00392156862745098
            shown = int(inverse) if inverse == int(inverse) else inverse
            return f"1 / {shown!r}" if inverse > 0 else f"-1 / {-shown!r}"
    if isinstance(value, (bool, int, float, str)) or value is None:
        return repr(value)
    raise TypeError(f"cannot write {type(value).__name__} as a literal")


class Names:
    """Identifiers for user text: ``str.isidentifier``, no keywords or builtins, no repeats."""

    def __init__(self) -> None:
        self.taken: set[str] = set(_RESERVED)

    def __call__(self, text: str) -> str:
        base = re.sub(r"[\W_]+", "_", text, flags=re.ASCII).strip("_")[:40].lower() or "layer"
        if base[0].isdigit():
            base = f"layer_{base}"
        if base in _RESERVED:
            base += "_"  # PEP 8's way around a builtin or keyword: input_, class_
        name, i = base, 2
        while name in self.taken or keyword.iskeyword(name) or not name.isidentifier():
            name, i = f"{base}_{i}", i + 1
        self.taken.add(name)
        return name


def docstring(text: str) -> str:
    """A triple-quoted literal for free text (design names, descriptions)."""
    clean = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in text).strip()
    if "\n" in clean:
        clean += "\n"  # a multi-line docstring closes on a line of its own
    source = '"""' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"""'
    try:  # belt and braces: the literal must mean exactly the text
        if ast.literal_eval(source) == clean:
            return source
    except (SyntaxError, ValueError):
        pass
    return repr(text)


# ---- one layer -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _signature(node_type: str) -> tuple[tuple[str, ...], dict[str, Any], str | None]:
    """(required argument names in order, defaults, first argument) of a Keras constructor."""
    import keras

    params = inspect.signature(getattr(keras.layers, node_type).__init__).parameters
    required, defaults = [], {}
    first = next(iter(list(params)[1:]), None)
    for p in list(params.values())[1:]:
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        if p.default is p.empty:
            required.append(p.name)
        else:
            defaults[p.name] = p.default
    return tuple(required), defaults, first


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(default, list):
        default = tuple(default)
    if isinstance(value, int) and isinstance(default, tuple) and default:
        return all(d == value for d in default)  # strides=1 is strides=(1, 1)
    if isinstance(value, float) and isinstance(default, (int, float)):
        return value == default  # 0.0 is Keras' 0
    return type(value) is type(default) and value == default


def layer_call(node: Node, spec: catalog.LayerSpec) -> str:
    """``layers.Dense(64, activation="relu", name="dense")`` for a plain catalog layer."""
    values = {p.name: node.params.get(p.name, p.default) for p in spec.params}
    if spec.module == "wrapper":
        inner = f"layers.{values['layer']}({literal(values['units'])}"
        inner += ", return_sequences=True)" if values["return_sequences"] else ")"
        args = [inner]
        if values["merge_mode"] != "concat":
            args.append(f"merge_mode={literal(values['merge_mode'])}")
        return f"layers.Bidirectional({', '.join(args + [_name_kw(node)])})"
    extra = kept(node.params)  # kept from an imported model: written as they came
    values = {k: v for k, v in values.items() if k not in extra}
    required, defaults, first = _signature(spec.type)
    positional, keywords = [], []
    for name in required:  # the arguments Keras requires, in the constructor's order
        if name in values and len(positional) == required.index(name):
            positional.append(literal(values[name]))
    if not required and first in values and first != "axis" and first in defaults:
        # The main argument reads best without its name: MaxPooling2D(3), RandomFlip("horizontal")
        if not _same(values[first], defaults[first]):
            positional.append(literal(values[first]))
            required = (first,)
    for p in spec.params:
        if p.name not in values:
            continue
        value = values[p.name]
        if p.name in required and len(positional) > required.index(p.name):
            continue
        if p.name in required or p.name not in defaults or not _same(value, defaults[p.name]):
            keywords.append(f"{p.name}={literal(value)}")
    keywords += [f"{name}={kept_source(value)}" for name, value in extra.items()]
    return f"layers.{spec.type}({', '.join(positional + keywords + [_name_kw(node)])})"


def _name_kw(node: Node) -> str:
    return f"name={literal(layer_name(node.id))}"


def application_lines(node: Node, var: str, input_shape: tuple, offline: bool) -> list[str]:
    spec = catalog.LAYERS[node.type]
    values = {p.name: node.params.get(p.name, p.default) for p in spec.params}
    weights = None if offline else values["weights"]
    kw = [
        "include_top=False",
        f"weights={literal(weights)}",
        f"input_shape={literal(list(input_shape))}",
    ]
    if values["pooling"] is not None:
        kw.append(f"pooling={literal(values['pooling'])}")
    kw.append(_name_kw(node))
    lines = [f"{var} = keras.applications.{spec.type}({', '.join(kw)})"]
    if values["trainable"]:
        lines.append(f"{var}.trainable = True  # fine-tune the pretrained base too")
    else:
        lines.append(f"{var}.trainable = False  # keep the pretrained features frozen")
    return lines


def input_call(node: Node, shape: tuple, dtype: str) -> str:
    dt = f", dtype={literal(dtype)}" if dtype != "float32" else ""
    return f"keras.Input(shape={literal(list(shape))}{dt}, {_name_kw(node)})"


# ---- the model ---------------------------------------------------------------------------------
def is_chain(design: Design, order: list[str]) -> bool:
    """One Input, each layer fed by exactly the one before it: the Sequential API fits."""
    if len(design.input_ids()) != 1 or order[0] != design.input_ids()[0]:
        return False
    for prev, cur in zip(order, order[1:]):
        if design.predecessors(cur) != [prev] or design.successors(prev) != [cur]:
            return False
    return design.output_ids() == [order[-1]] and not design.successors(order[-1])


def _augmentation(design: Design, analysis: Analysis, names: Names) -> tuple[list[str], str, set]:
    if not design.augmentation:
        return [], "", set()
    var = names("augmentation")
    calls = [layer_call(n, catalog.LAYERS[n.type]) for n in design.augmentation]
    lines = [
        "# Random augmentation: active in training only; the saved model predicts as is.",
        f"{var} = keras.Sequential([{', '.join(calls)},], name={literal(block_name(design))})",
    ]
    return lines, var, set(augmented_inputs(design, analysis))


def model_code(design: Design, analysis: Analysis, *, offline: bool = False) -> str:
    """The body of ``build_model()``: layers, ``keras.Model``/``Sequential``, ``compile``."""
    names = Names()
    order = analysis.order
    lines, aug_var, augmented = _augmentation(design, analysis, names)
    shapes = {i: analysis.nodes[i].output_shape for i in order}
    model_name = literal(layer_name(design.name) or "model")
    # A pretrained base is called with training=False (Keras' transfer-learning recipe), which
    # only the Functional API can say: such designs never use Sequential.
    has_base = any(catalog.LAYERS[design.node(i).type].module == "applications" for i in order)
    if is_chain(design, order) and not has_base:
        items = []
        for node_id in order:
            node, spec = design.node(node_id), catalog.LAYERS[design.node(node_id).type]
            if spec.module == "input":
                items.append(input_call(node, shapes[node_id][1:], analysis.nodes[node_id].dtype))
                if aug_var:
                    items.append(aug_var)
            elif spec.module == "applications":
                var = names(f"{node_id}_model")
                prev = shapes[design.predecessors(node_id)[0]][1:]
                lines += application_lines(node, var, prev, offline)
                items.append(var)
            else:
                items.append(layer_call(node, spec))
        lines.append(f"model = keras.Sequential([{', '.join(items)},], name={model_name})")
    else:
        tensors: dict[str, str] = {}
        input_vars: dict[str, str] = {}
        inputs_first = design.input_ids() + [i for i in order if i not in design.input_ids()]
        for node_id in inputs_first:
            node, spec = design.node(node_id), catalog.LAYERS[design.node(node_id).type]
            var = names(node_id)
            ins = [tensors[p] for p in design.predecessors(node_id)]
            arg = ins[0] if spec.max_inputs == 1 else f"[{', '.join(ins)}]"
            if spec.module == "input":
                call = input_call(node, shapes[node_id][1:], analysis.nodes[node_id].dtype)
                lines.append(f"{var} = {call}")
                tensors[node_id] = input_vars[node_id] = var
                if node_id in augmented:
                    tensors[node_id] = names(f"{node_id}_augmented")
                    lines.append(f"{tensors[node_id]} = {aug_var}({var})")
                continue
            if spec.module == "applications":
                obj = names(f"{node_id}_model")
                lines += application_lines(
                    node, obj, shapes[design.predecessors(node_id)[0]][1:], offline
                )
                lines.append(f"{var} = {obj}({arg}, training=False)")
            else:
                lines.append(f"{var} = {layer_call(node, spec)}({arg})")
            tensors[node_id] = var
        ins = [input_vars[i] for i in design.input_ids()]
        outs = [tensors[o] for o in design.output_ids()]
        inputs = ins[0] if len(ins) == 1 else f"[{', '.join(ins)}]"
        outputs = outs[0] if len(outs) == 1 else f"[{', '.join(outs)}]"
        lines.append(f"model = keras.Model(inputs={inputs}, outputs={outputs}, name={model_name})")
    return "\n".join(lines + compile_lines(design))


def compile_lines(design: Design) -> list[str]:
    c = resolve(design, dataset_task(design))
    kw = ", ".join(f"{k}={literal(v)}" for k, v in optimizer_kwargs(c).items())
    metrics = [
        f"keras.metrics.{METRIC_CLASSES[m]}(name={literal(m)})"
        if m in METRIC_CLASSES
        else literal(m)
        for m in c.metrics or []
    ]
    return [
        "model.compile(",
        f"optimizer=keras.optimizers.{c.optimizer}({kw}),",
        f"loss={literal(c.loss)},",
        f"metrics=[{', '.join(metrics)}],",
        ")",
    ]
