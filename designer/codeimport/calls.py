"""What a call in Keras code makes, as the reader reads it: a layer, a node, a model, a base,
an optimizer or callback, a data set, a setting; or an :class:`Unknown` that says why not.

Nothing is called here except pure builtins on constants (``range(3)``, ``int("8")``).
"""

from __future__ import annotations

import ast
import functools
from typing import Any

from designer.codeimport import layers as code_layers
from designer.codeimport import names
from designer.codeimport.graph import augmentation_block
from designer.codeimport.values import (
    MAX_ITEMS,
    Application,
    ArgParser,
    Bound,
    Function,
    Functional,
    InputSpec,
    KerasCall,
    Layer,
    Options,
    Ref,
    Sequential,
    Tensor,
    Unknown,
    UserClass,
    constant,
)
from designer.design import catalog

_PURE = {
    "len": len,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "list": list,
    "tuple": tuple,
    "min": min,
    "max": max,
    "round": round,
    "abs": abs,
    "sum": sum,
    "sorted": sorted,
}
_KERAS_OBJECTS = ("optimizers", "callbacks", "losses", "metrics", "initializers")
_KERAS_OBJECTS += ("regularizers", "constraints")
_SEEDS = {"keras.utils.set_random_seed", "tensorflow.random.set_seed", "numpy.random.seed"}
_SEEDS |= {"tensorflow.set_random_seed", "random.seed"}
_QUIET_METHODS = {"summary", "save", "save_weights", "evaluate", "predict"}
_QUIET_METHODS |= {"count_params", "get_config", "to_json", "export"}
# Libraries whose functions are not layers: calling one on a tensor is an operation, not user code.
_LIBRARIES = {"keras", "tensorflow", "numpy", "math", "builtins", "jax", "torch"}
_LAMBDA = (
    "a Lambda layer runs Python code, which is not read: left out (its input goes straight "
    "on); write it with Keras layers to keep it"
)


def call(reader: Any, func: Any, args: list, kwargs: dict, node: ast.Call) -> Any:
    line = node.lineno
    if isinstance(func, Ref):
        return _ref_call(reader, func.path, args, kwargs, node)
    if isinstance(func, Bound):
        return _method(reader, func, args, kwargs, node)
    if isinstance(func, Layer):
        inputs = _inputs(reader, args[0] if args else kwargs.get("inputs"), line, func.type)
        if inputs is None:
            return Unknown(line, ast.unparse(node), "its input cannot be known")
        return reader.graph.call_layer(func, inputs, line)
    if isinstance(func, Sequential):
        return _call_sequential(reader, func, args, line)
    if isinstance(func, Application):
        inputs = _inputs(reader, args[0] if args else None, line, func.type)
        if not inputs:
            return Unknown(line, ast.unparse(node), "its input cannot be known")
        return reader.graph.application_output(func, inputs[0], line)
    if isinstance(func, Functional):
        if _first_tensor(list(args)) is None:  # a prediction on data
            return Unknown(line, ast.unparse(node))
        inputs = _inputs(reader, args[0] if args else None, line, "model")
        if not inputs or len(inputs) != len(func.inputs):
            reader.problem(line, "a model called on inputs that do not match its own: not read")
            return inputs[0] if inputs else Unknown(line, ast.unparse(node))
        reader.note(line, "a functional model called as a layer is opened up into its layers")
        outs = reader.graph.expand(func, inputs, line)
        return outs[0] if len(outs) == 1 else outs
    if isinstance(func, Function):
        dataset = _generated_dataset(func)
        if dataset:
            reader.graph.datasets.append((line, dataset, "generator"))
            return Unknown(line, ast.unparse(node))
        return reader.call_function(func, args, kwargs, node)
    if isinstance(func, UserClass):
        if func.kind == "layer":
            return Layer(
                func.name,
                {},
                line,
                skip=f"{func.name} (line {func.line}) is a layer class written in the file: "
                "its Python code is not read; left out (its input goes straight on)",
            )
        return _user_code(ast.unparse(node.func), args, kwargs, line)
    if isinstance(func, Unknown):
        return _user_code(ast.unparse(node.func), args, kwargs, line, func.reason)
    return Unknown(line, ast.unparse(node))


# The app's own data generators that generated scripts copy, by the function a script calls.
GENERATORS = {"make_reviews": "reviews", "shapes_split": "shapes"}


@functools.cache
def _generator_source(name: str) -> str:
    # numpy: imported only when a file defines one of these functions
    from designer.data import reviews, shapes

    module = {"reviews": reviews, "shapes": shapes}[GENERATORS[name]]
    tree = ast.parse(module.script_source())
    found = next(n for n in tree.body if getattr(n, "name", "") == name)
    return _code_dump(found)


def _code_dump(func: ast.AST) -> str:
    """A function's code without its docstring (generated scripts are formatted, which may
    rewrap a docstring: the code is what must be the app's)."""
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return ast.dump(ast.Module(body=body, type_ignores=[])) + ast.dump(func.args)


def _generated_dataset(func: Function) -> str | None:
    """The data set whose generator ``func`` is, as generated scripts copy it word for word
    (the made-up ``reviews``, the coloured ``shapes``); None for any other function."""
    name = getattr(func.node, "name", "")
    if name in GENERATORS and _code_dump(func.node) == _generator_source(name):
        return GENERATORS[name]
    return None


def _user_code(text: str, args: list, kwargs: dict, line: int, why: str = "") -> Unknown:
    values = list(args) + list(kwargs.values())
    tensor = _first_tensor(values)
    reason = f"`{text}(...)` is code the reader does not follow" + (f" ({why})" if why else "")
    if tensor is not None:
        reason += f": what it does to the model is not read, {tensor.node_id} goes straight on"
    elif any(isinstance(v, (Sequential, Functional, Layer)) for v in values):
        reason += ": what it does to the model is not read"
    lost = reason.endswith(("goes straight on", "is not read"))
    return Unknown(line, f"{text}(...)", reason, tensor, lost)


def _first_tensor(values: list) -> Tensor | None:
    for v in values:
        if isinstance(v, Tensor):
            return v
        if isinstance(v, Unknown) and v.tensor is not None:
            return v.tensor
        if isinstance(v, (list, tuple)):
            found = _first_tensor(list(v))
            if found is not None:
                return found
    return None


def _inputs(reader: Any, value: Any, line: int, what: str) -> list[Tensor] | None:
    """The tensors a layer is called on; an unknown input is reported and the graph goes on
    from the tensor that went into it."""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    out = []
    for item in items:
        if isinstance(item, Tensor):
            out.append(item)
        elif isinstance(item, Unknown) and item.tensor is not None:
            reader.problem(item.line, item.said())
            out.append(item.tensor)
        elif isinstance(item, Unknown):
            reader.problem(item.line, f"{item.said()} (the input of {what})")
            return None
        else:
            reader.problem(line, f"the input of {what} is not a tensor of the model: not read")
            return None
    return out


# ---- names of libraries -------------------------------------------------------------------------
def _ref_call(reader: Any, path: str, args: list, kwargs: dict, node: ast.Call) -> Any:
    line = node.lineno
    graph = reader.graph
    if path.startswith("builtins."):
        return _builtin(path.split(".", 1)[1], args, kwargs, node)
    if path in ("keras.layers.Input", "keras.Input"):
        shape = kwargs.get("shape", args[0] if args else None)
        if shape is None and isinstance(kwargs.get("batch_shape"), (list, tuple)):
            shape = kwargs["batch_shape"][1:]
        return graph.input_node(shape, kwargs.get("dtype"), kwargs.get("name"), line)
    if path == "keras.layers.InputLayer":
        shape = kwargs.get("shape", kwargs.get("input_shape", args[0] if args else None))
        if isinstance(kwargs.get("batch_input_shape"), (list, tuple)):
            shape = kwargs["batch_input_shape"][1:]
        return InputSpec(shape, kwargs.get("dtype"), line, kwargs.get("name"))
    if path.startswith("keras.layers."):
        return _layer_call(reader, path.rsplit(".", 1)[1], args, kwargs, node)
    if path == "keras.models.Sequential":
        items = args[0] if args else kwargs.get("layers", [])
        model = Sequential(line, _text(kwargs.get("name")))
        if isinstance(items, (list, tuple)):
            model.items = list(items)
        elif items is not None:
            reader.problem(line, "the Sequential's layers cannot be known: not read")
        graph.models.append(model)
        graph.changes += 1
        return model
    if path in ("keras.models.load_model", "keras.saving.load_model"):
        reader.problem(
            line,
            "load_model reads a saved model, not code: import that .keras file instead "
            "(keras-designer import MODEL.keras, or Open on the Home page)",
        )
        return Unknown(line, ast.unparse(node), "")
    if path == "keras.models.Model":
        return _functional(reader, args, kwargs, line)
    if path.startswith("keras.applications."):
        return _application(reader, path.rsplit(".", 1)[1], kwargs, line, node)
    if path.startswith("keras.datasets.") and path.endswith(".load_data"):
        name = path.split(".")[2]
        graph.datasets.append((line, name, "keras"))
        graph.changes += 1
        return ((Unknown(line, "x_train"), Unknown(line, "y_train")),) * 2
    if path.endswith("backend.image_data_format") and path.startswith("keras."):
        reader.note(line, "image_data_format() is read as 'channels_last', Keras' default")
        return "channels_last"
    if path.endswith(".pad_sequences") and path.startswith("keras."):
        if isinstance(kwargs.get("maxlen"), int) and graph.sequence_length is None:
            graph.sequence_length = (line, kwargs["maxlen"])
        return Unknown(line, ast.unparse(node))
    if path in _SEEDS:
        if args and isinstance(args[0], int) and graph.seed is None:
            graph.seed = (line, args[0])
        return None
    if path in names.LIBRARY_DATASETS:
        graph.datasets.append((line, names.LIBRARY_DATASETS[path], "library"))
        if path.endswith(("make_moons", "make_circles", "make_blobs")):
            if isinstance(kwargs.get("random_state"), int):
                graph.data_seed = kwargs["random_state"]
        return Unknown(line, ast.unparse(node))
    if path == "sklearn.model_selection.train_test_split":
        if isinstance(kwargs.get("test_size"), float):
            graph.test_split = kwargs["test_size"]
        if isinstance(kwargs.get("random_state"), int):
            graph.data_seed = kwargs["random_state"]
        return Unknown(line, ast.unparse(node))
    if path == "argparse.ArgumentParser":
        return ArgParser()
    if path in ("pathlib.Path", "os.path.join") and args and args[0] == names.FASHION_DIR:
        graph.datasets.append((line, "fashion_mnist_local", "path"))
        return Unknown(line, ast.unparse(node))
    if path.endswith("distribute.MirroredStrategy"):
        reader.note(
            line,
            "MirroredStrategy trains on every GPU: the design's devices setting stays 1 "
            "(set it on the Train page)",
        )
        return Unknown(line, ast.unparse(node), "")
    parts = path.split(".")
    if parts[0] == "keras" and len(parts) == 3 and parts[1] in _KERAS_OBJECTS:
        return KerasCall(path, list(args), dict(kwargs), line)
    if parts[0] == "keras" and path.endswith("Sequential"):
        return _ref_call(reader, "keras.models.Sequential", args, kwargs, node)
    tensor = _first_tensor(list(args) + list(kwargs.values()))
    models = [
        v for v in list(args) + list(kwargs.values()) if isinstance(v, (Sequential, Functional))
    ]
    if (tensor is not None or models) and parts[0] not in _LIBRARIES:
        return _user_code(ast.unparse(node.func), args, kwargs, line, f"from {parts[0]}")
    if tensor is not None:
        return Unknown(
            line,
            f"{path}(...)",
            f"`{ast.unparse(node.func)}(...)` is not a Keras layer: not read, {tensor.node_id} "
            "goes straight on",
            tensor,
        )
    return Unknown(line, ast.unparse(node))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _builtin(name: str, args: list, kwargs: dict, node: ast.Call) -> Any:
    line = node.lineno
    if name == "print":
        return None
    if name == "range" and all(isinstance(a, int) for a in args) and not kwargs:
        try:
            r = range(*args)
            if len(r) <= MAX_ITEMS:
                return r
        except (TypeError, ValueError, OverflowError):
            pass
        return Unknown(line, ast.unparse(node))
    if name in ("enumerate", "zip") and all(isinstance(a, (list, tuple, range)) for a in args):
        return list(enumerate(*args) if name == "enumerate" else zip(*args))
    if name in _PURE and all(constant(a) for a in args) and not kwargs:
        try:
            return _PURE[name](*args)
        except (TypeError, ValueError, ArithmeticError):
            pass
    if name in ("list", "tuple") and args and isinstance(args[0], (list, tuple, range)):
        return list(args[0]) if name == "list" else tuple(args[0])
    return Unknown(line, ast.unparse(node), tensor=_first_tensor(list(args)))


# ---- layers --------------------------------------------------------------------------------------
def _layer_call(reader: Any, name: str, args: list, kwargs: dict, node: ast.Call) -> Any:
    line = node.lineno
    if name in names.MERGE_FUNCTIONS:  # layers.concatenate([a, b], axis=1): a layer, called
        layer = _layer(reader, names.MERGE_FUNCTIONS[name], args[1:], kwargs, line)
        inputs = _inputs(reader, args[0] if args else kwargs.pop("inputs", None), line, name)
        if inputs is None or layer is None:
            return Unknown(line, ast.unparse(node), "its inputs cannot be known")
        return reader.graph.call_layer(layer, inputs, line)
    if name == "Lambda":
        return Layer("Lambda", {}, line, skip=_LAMBDA)
    layer_type = names.layer_class(name)
    if layer_type is None:
        reader.problem(line, f"{name} is not a Keras layer this reader knows: left out")
        return Layer(name, {}, line, skip=f"{name}: left out (its input goes straight on)")
    if layer_type != name:
        reader.note(line, f"{name} is the Keras 2 name of {layer_type}")
    return _layer(reader, layer_type, args, kwargs, line) or Layer(
        layer_type, {}, line, skip=f"{layer_type}: left out"
    )


def _layer(reader: Any, layer_type: str, args: list, kwargs: dict, line: int) -> Layer | None:
    """A :class:`Layer` with its arguments under Keras 3's names; what cannot be kept is
    reported."""
    order, named, needed = code_layers.signature(layer_type)
    kwargs = dict(kwargs)
    for i, value in enumerate(args):
        if i >= len(order):
            reader.problem(line, f"{layer_type}: too many positional arguments: the rest left out")
            break
        kwargs.setdefault(order[i], value)
    name = kwargs.pop("name", None)
    layer = Layer(layer_type, {}, line, name=name if isinstance(name, str) else None)
    if name is not None and not isinstance(name, str):
        reader.problem(line, f"{layer_type}: its name cannot be known: an automatic one is used")
    _keras2(reader, layer, kwargs, named, line)
    for key, value in kwargs.items():
        value = _argument(reader, layer_type, key, value, line)
        if value is _DROP:
            continue
        if key not in named and key not in ("trainable", "dtype"):
            reader.problem(line, f"{layer_type}: {key}= is not an argument Keras 3 takes: left out")
            continue
        layer.kwargs[key] = value
    required = [p for p in needed if p not in layer.kwargs]
    for p in required:
        spec = _catalog_param(layer_type, p)
        if spec is None:
            reader.problem(line, f"{layer_type}: {p} is missing: the layer is left out")
            return None
        layer.kwargs[p] = spec.default
        reader.problem(
            line, f"{layer_type}: {p} is not known: the catalog's {spec.default!r} is used"
        )
    return layer


def _keras2(reader: Any, layer: Layer, kwargs: dict, named: frozenset, line: int) -> None:
    """Keras 2 spellings: the input's shape on a first layer, LeakyReLU(alpha=)..."""
    for key in ("input_shape", "batch_input_shape", "input_dim"):
        if key not in kwargs or key in named:
            continue
        value = kwargs.pop(key)
        if key == "input_dim":
            value = (value,)
        elif key == "batch_input_shape" and isinstance(value, (list, tuple)):
            value = tuple(value)[1:]
        if isinstance(value, (list, tuple)):
            layer.input_shape = list(value)
        else:
            reader.problem(line, f"{layer.type}: {key} cannot be known: not read")
    if layer.type == "Embedding" and "input_length" in kwargs:
        length = kwargs.pop("input_length")
        if isinstance(length, int) and layer.input_shape is None:
            layer.input_shape, layer.input_dtype = [length], "int32"
    if layer.type == "LeakyReLU" and "alpha" in kwargs:
        kwargs["negative_slope"] = kwargs.pop("alpha")
        reader.note(line, "LeakyReLU(alpha=) is negative_slope= in Keras 3")
    if "weights" in kwargs and "weights" not in named:
        kwargs.pop("weights")
        reader.problem(line, f"{layer.type}: weights= (arrays) is not read: left out")
    if "batch_size" in kwargs and "batch_size" not in named:
        kwargs.pop("batch_size")  # a fixed batch for the input: the design's batch is training's
        reader.note(line, f"{layer.type}: batch_size= is left to the training settings")


_DROP = object()


def _argument(reader: Any, layer_type: str, key: str, value: Any, line: int) -> Any:
    if isinstance(value, Ref):
        last = value.last
        if key == "activation" or value.path.startswith(("keras.activations", "tensorflow.nn")):
            return last
        if value.path.startswith(tuple(f"keras.{p}." for p in code_layers.PACKAGES)):
            return KerasCall(value.path, [], {}, line)
    try:
        code_layers.keras_value(value)
        return value
    except code_layers.NotLiteral:
        pass
    text = value.text if isinstance(value, Unknown) else type(value).__name__.lower()
    if isinstance(value, Function):
        text = "a Python function"
    reader.problem(
        line, f"{layer_type}: {key} = {text} cannot be known without running the code: left out"
    )
    return _DROP


def _catalog_param(layer_type: str, param: str) -> Any:
    spec = catalog.get(layer_type)
    if spec is None:
        return None
    try:
        return spec.param(param)
    except KeyError:
        return None


# ---- models --------------------------------------------------------------------------------------
def _functional(reader: Any, args: list, kwargs: dict, line: int) -> Any:
    inputs = kwargs.get("inputs", args[0] if args else None)
    outputs = kwargs.get("outputs", args[1] if len(args) > 1 else None)
    ins = _tensor_list(reader, inputs)
    outs = _tensor_list(reader, outputs)
    if ins is None or outs is None or not outs:
        reader.problem(line, "the model's inputs or outputs cannot be known: not read")
        return Unknown(line, "keras.Model(...)", "the model's inputs or outputs cannot be known")
    model = Functional(line, ins, outs, _text(kwargs.get("name")))
    reader.graph.models.append(model)
    reader.graph.changes += 1
    return model


def _tensor_list(reader: Any, value: Any) -> list[Tensor] | None:
    if isinstance(value, dict):
        value = list(value.values())
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    out = []
    for v in items:
        if isinstance(v, Unknown) and v.tensor is not None:
            reader.problem(v.line, v.said())  # the graph ends at the tensor that went in
            v = v.tensor
        if not isinstance(v, Tensor):
            return None
        out.append(v)
    return out


def _call_sequential(reader: Any, model: Sequential, args: list, line: int) -> Any:
    graph = reader.graph
    if _first_tensor(list(args)) is None:  # model(x_train[:1]): a prediction, not a layer
        return Unknown(line, "a prediction")
    inputs = _inputs(reader, args[0] if args else None, line, "the Sequential model")
    if not inputs:
        return Unknown(line, "a Sequential model called on an unknown input")
    given = inputs[0]
    if model in graph.models:
        graph.models.remove(model)  # a part of another model, not a model of its own
    is_input = any(n.id == given.node_id and n.type == "Input" for n in graph.nodes)
    if augmentation_block(model) and is_input and graph.augmentation is None:
        graph.augmentation = (model, given)
        reader.note(model.line, "the random augmentation is the design's augmentation")
        return given
    reader.note(line, "a Sequential model called as a layer is opened up into its layers")
    return graph.lay_out(model, given) or given


def _application(reader: Any, name: str, kwargs: dict, line: int, node: ast.Call) -> Any:
    app_type = names.application(name)
    if app_type is None:
        reader.problem(line, f"{name} is not one of the catalog's pretrained bases: not read")
        return Unknown(line, ast.unparse(node), f"{name} is not one of the catalog's bases")
    if kwargs.get("include_top", True) is not False:
        reader.problem(
            line,
            f"{name}: include_top is not False: the design's {name} node is the base without "
            "its classifier (add Dense layers for the top)",
        )
    app = Application(app_type, dict(kwargs), line)
    if isinstance(kwargs.get("input_tensor"), Tensor):  # the base starts from that tensor
        reader.graph.application_output(app, kwargs["input_tensor"], line)
        app.input = kwargs["input_tensor"]
    return app


# ---- methods -------------------------------------------------------------------------------------
def _method(reader: Any, bound: Bound, args: list, kwargs: dict, node: ast.Call) -> Any:
    owner, attr, line = bound.owner, bound.attr, node.lineno
    if isinstance(owner, ArgParser):
        if attr == "add_argument":
            flags = [a for a in args if isinstance(a, str)]
            dest = kwargs.get("dest")
            if not isinstance(dest, str):
                longs = [f for f in flags if f.startswith("--")] or flags
                dest = longs[0].lstrip("-").replace("-", "_") if longs else None
            if dest:
                owner.defaults[dest] = kwargs.get("default")
            return None
        if attr in ("parse_args", "parse_known_args"):
            options = Options(dict(owner.defaults))
            return (options, []) if attr == "parse_known_args" else options
        return None
    if isinstance(owner, (Sequential, Functional)):
        if attr == "add" and isinstance(owner, Sequential):
            if args:
                owner.items.append(args[0])
                reader.graph.changes += 1
            return None
        if attr == "pop" and isinstance(owner, Sequential):
            if owner.items:
                owner.items.pop()
            return None
        if attr == "build" and isinstance(owner, Sequential):
            shape = args[0] if args else kwargs.get("input_shape")
            if isinstance(shape, (list, tuple)):
                owner.build_shape = list(shape)
            return None
        if attr == "compile":
            owner.compiled = {"args": args, "kwargs": kwargs, "line": line}
            reader.graph.changes += 1
            return None
        if attr in ("fit", "fit_generator"):
            if attr == "fit_generator":
                reader.note(line, "fit_generator (Keras 2) is fit in Keras 3")
            owner.fitted = {"args": args, "kwargs": kwargs, "line": line}
            reader.graph.changes += 1
            return None
        if attr in _QUIET_METHODS:
            return None
    if isinstance(owner, Layer) and attr == "adapt":
        reader.problem(
            line,
            f"`{ast.unparse(node.func)}(...)` computes the layer's statistics from data, which "
            "is not read: the layer starts without them",
        )
        return None
    if isinstance(owner, (Sequential, Functional)) and attr == "load_weights":
        reader.note(line, "load_weights: weights are not part of code (import a .keras file)")
        return None
    if isinstance(owner, Tensor):
        return Unknown(
            line,
            f"{ast.unparse(node.func)}(...)",
            f"`{ast.unparse(node.func)}` is not a Keras layer: not read, {owner.node_id} goes "
            "straight on",
            owner,
        )
    return Unknown(line, ast.unparse(node))
