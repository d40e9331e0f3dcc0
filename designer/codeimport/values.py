"""What an expression of Keras code stands for, as far as reading it (never running it) tells.

Plain Python values (numbers, strings, tuples, lists, dicts) stand for themselves; the classes
below stand for the rest: a name in Keras (:class:`Ref`), a layer made but not called yet
(:class:`Layer`), the output of a node (:class:`Tensor`), models, a pretrained base, a call to
something Keras makes (an optimizer, a callback, a regularizer), and :class:`Unknown` for
anything only running the code would tell.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Ref:
    """A name of a library: ``keras.layers.Dense``, ``argparse.ArgumentParser``."""

    path: str

    @property
    def last(self) -> str:
        return self.path.rsplit(".", 1)[-1]


@dataclass(eq=False)
class Unknown:
    """A value only running the code would tell. ``reason``: said where it matters (as a
    layer argument, a layer input...); ``tensor``: the model's tensor that went into it, so
    the graph can go on from there."""

    line: int
    text: str
    reason: str = "cannot be known without running the code"
    tensor: Tensor | None = None
    lost: bool = False  # code outside the file given part of the model: it may have changed it

    def said(self) -> str:
        """One sentence: a reason that names the code (starts with it in backticks) as it
        is, any other after the code it is about."""
        return self.reason if self.reason.startswith("`") else f"{self.text}: {self.reason}"


@dataclass(eq=False)
class Tensor:
    node_id: str


@dataclass(eq=False)
class Layer:
    """``layers.Dense(64)`` before it is called: its arguments as Keras names them."""

    type: str  # the Keras 3 class name
    kwargs: dict[str, Any]
    line: int
    name: str | None = None
    input_shape: list | None = None  # Keras 2: input_shape= / input_dim= on a first layer
    input_dtype: str | None = None
    skip: str | None = None  # why the layer is left out (Lambda, custom code): its input goes on
    nodes: list[str] = field(default_factory=list)  # one per call


@dataclass(eq=False)
class InputSpec:
    """``layers.InputLayer(input_shape=...)`` in a Sequential list."""

    shape: list
    dtype: str | None
    line: int
    name: str | None = None


@dataclass(eq=False)
class Sequential:
    line: int
    name: str | None = None
    items: list[Any] = field(default_factory=list)
    build_shape: list | None = None  # model.build((None, 784))
    compiled: dict | None = None
    fitted: dict | None = None
    output: Tensor | None = None  # set once laid out as nodes
    input: Tensor | None = None


@dataclass(eq=False)
class Functional:
    line: int
    inputs: list[Tensor]
    outputs: list[Tensor]
    name: str | None = None
    compiled: dict | None = None
    fitted: dict | None = None
    calls: int = 0  # called as a layer inside another model


@dataclass(eq=False)
class Application:
    """``keras.applications.VGG16(...)``: one catalog node, laid out when first used."""

    type: str
    kwargs: dict[str, Any]
    line: int
    trainable: bool | None = None
    trainable_line: int | None = None
    input: Tensor | None = None
    output: Tensor | None = None


@dataclass(eq=False)
class KerasCall:
    """A call of a Keras name the reader does not lay out as a node: an optimizer, a callback,
    a loss or metric object, an initializer, a regularizer..."""

    path: str
    args: list[Any]
    kwargs: dict[str, Any]
    line: int


@dataclass(eq=False)
class Function:
    """A function defined in the file: read (not run) where it is called."""

    node: ast.FunctionDef | ast.Lambda
    scope: dict[str, Any]


@dataclass(eq=False)
class UserClass:
    name: str
    line: int
    kind: str  # "model" | "layer" | "other"


@dataclass(eq=False)
class ArgParser:
    defaults: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Options:
    """``args = parser.parse_args()``: each option has its default."""

    defaults: dict[str, Any]


@dataclass(eq=False)
class AppLayers:
    """``base.layers``: a loop over it can freeze or unfreeze the base."""

    app: Application


@dataclass(eq=False)
class Bound:
    """``obj.method`` before it is called."""

    owner: Any
    attr: str
    line: int


MAX_ITEMS = 10_000  # the longest constant sequence the reader builds (range(10**9), "a" * 10**9)


def constant(value: Any) -> bool:
    """A plain Python value, the same whatever runs the code."""
    if isinstance(value, (bool, int, float, str, bytes)) or value is None:
        return True
    if isinstance(value, (list, tuple)):
        return all(constant(v) for v in value)
    return False


MODEL_VALUES = (Layer, Tensor, Sequential, Functional, Application, InputSpec, AppLayers)
