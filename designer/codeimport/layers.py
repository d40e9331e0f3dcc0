"""One layer of the code -> one catalog node, through Keras' own constructor and config.

The arguments the reader found (literal values, and Keras initializers, regularizers and
constraints made from literal values) are given to the Keras class, and its ``get_config()``
goes through the same mapping as a ``.keras`` import
(:func:`designer.model.import_layers.layer_node`): catalog parameters where the form has them,
the rest kept as Keras serialized them, anything else reported. Only catalog layer types and
those three Keras namespaces are ever constructed; nothing of the file runs.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from designer.codeimport.values import KerasCall, Layer
from designer.design import catalog
from designer.design.spec import Node
from designer.model import import_layers
from designer.text import one_line

# Keras namespaces whose objects a layer argument may be made of (checked to be their classes).
PACKAGES = ("initializers", "regularizers", "constraints")
_OBJECT_PACKAGES = {
    "keras.initializers": "Initializer",
    "keras.regularizers": "Regularizer",
    "keras.constraints": "Constraint",
}


class NotLiteral(ValueError):
    """A layer argument that is not a value the reader can give Keras."""


@functools.lru_cache(maxsize=256)
def signature(layer_type: str) -> tuple[tuple[str, ...], frozenset[str], tuple[str, ...]]:
    """(positional parameter names in order, every named parameter, the required ones) of a
    Keras layer class."""
    import keras

    params = list(inspect.signature(getattr(keras.layers, layer_type).__init__).parameters.values())
    params = params[1:]
    order = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.POSITIONAL_ONLY)]
    named = {p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    needed = [p.name for p in params if p.name in named and p.default is p.empty]
    return tuple(order), frozenset(named), tuple(needed)


def keras_value(value: Any) -> Any:
    """A value for a Keras constructor: literals as they are, Keras objects made from literals;
    NotLiteral for anything else."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(keras_value(v) for v in value)
    if isinstance(value, dict):
        return {keras_value(k): keras_value(v) for k, v in value.items()}
    if isinstance(value, Layer):
        return make(value)
    if isinstance(value, KerasCall):
        return _keras_object(value)
    raise NotLiteral(type(value).__name__)


def _keras_object(call: KerasCall) -> Any:
    import keras

    package, _, name = call.path.rpartition(".")
    base = _OBJECT_PACKAGES.get(package)
    if base is None:
        raise NotLiteral(call.path)
    module = getattr(keras, package.split(".")[1])
    cls = getattr(module, name, None)
    if not (isinstance(cls, type) and issubclass(cls, getattr(module, base))):
        raise NotLiteral(call.path)
    args = [keras_value(a) for a in call.args]
    return cls(*args, **{k: keras_value(v) for k, v in call.kwargs.items()})


def make(layer: Layer) -> Any:
    """The Keras layer for ``layer`` (catalog types only)."""
    import keras

    spec = catalog.get(layer.type)
    if spec is None or spec.module not in ("layers", "wrapper"):
        raise NotLiteral(layer.type)
    kwargs = {k: keras_value(v) for k, v in layer.kwargs.items()}
    return getattr(keras.layers, layer.type)(**kwargs)


def layer_node(layer: Layer, node_id: str) -> tuple[Node, list[str]]:
    """``(Node, problems)``: the node for ``layer`` and what it does not capture."""
    spec = catalog.get(layer.type)
    if spec is None or spec.module not in ("layers", "wrapper"):
        params = {k: v for k, v in layer.kwargs.items() if _plain(v)}
        return Node(node_id, layer.type, params), [
            f"layer type {layer.type} is not in the catalog (replace this node)"
        ]
    try:
        config = make(layer).get_config()
    except Exception as exc:  # noqa: BLE001 - Keras refusing the arguments is the person's news
        return Node(node_id, layer.type, catalog.LAYERS[layer.type].defaults()), [
            f"Keras refuses these arguments ({one_line(exc, 160)}): the catalog's defaults are used"
        ]
    config.pop("name", None)
    node, problems = import_layers.layer_node(node_id, layer.type, config, None)
    return node, [p.removeprefix("cannot be represented: ") for p in problems]


def _plain(value: Any) -> bool:
    try:
        keras_value(value) if not isinstance(value, (Layer, KerasCall)) else None
    except NotLiteral:
        return False
    return not isinstance(value, (Layer, KerasCall))
