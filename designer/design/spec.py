"""The design file: a versioned JSON description of a model, the single source of truth.

The core of the format is fixed so that other tools can write it::

    {"nodes": [{"id": "in", "type": "Input", "params": {"shape": [784]}},
               {"id": "d1", "type": "Dense", "params": {"units": 10}}],
     "edges": [{"source": "in", "target": "d1"}]}

Every other section (``compile``, ``data``, ``training``, ``augmentation``, ``layout``,
``outputs``, ``name``) is optional and has defaults, so the snippet above is a complete
design. A design never holds Keras objects; everything else is derived from it.
"""

from __future__ import annotations

import copy
import json
import math
import types
import typing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from designer.errors import DesignerError
from designer.text import one_line

SPEC_VERSION = 2
# Guard rails for files we did not write: a design bigger than this is not a model people draw.
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_NODES = 2000


class DesignFileError(DesignerError):
    """The input is not a design at all (not JSON, wrong structure, unknown version)."""


@dataclass
class Node:
    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Edge:
    source: str
    target: str


@dataclass
class CompileSpec:
    # None means "pick what fits the data set's task" (see designer.data.defaults).
    loss: str | None = None
    optimizer: str = "Adam"
    optimizer_params: dict[str, Any] = field(default_factory=dict)
    metrics: list[str] | None = None


@dataclass
class DataSpec:
    dataset: str | None = None  # id from `keras-designer datasets`, or "upload"
    path: str | None = None  # uploaded file (CSV, ZIP of images, NPZ)
    target: str | None = None  # CSV target column
    validation_split: float = 0.2
    test_split: float = 0.2
    seed: int = 42
    scaling: str = "auto"  # auto | none | standard | minmax


@dataclass
class TrainSpec:
    epochs: int = 10
    batch_size: int = 32
    seed: int = 42
    early_stopping: bool = False
    patience: int = 5
    monitor: str = "val_loss"
    checkpoint: bool = True
    reduce_lr: bool = False
    tensorboard: bool = False
    # Replicas of the model trained together (tf.distribute.MirroredStrategy over the GPUs);
    # batch_size is the global batch, split across them.
    devices: int = 1


@dataclass
class Design:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    outputs: list[str] | None = None  # None: every node without an outgoing edge
    name: str = "untitled"
    description: str = ""
    compile: CompileSpec = field(default_factory=CompileSpec)
    data: DataSpec = field(default_factory=DataSpec)
    training: TrainSpec = field(default_factory=TrainSpec)
    # Augmentation layers (catalog entries of category "augmentation"), applied in training only.
    augmentation: list[Node] = field(default_factory=list)
    # Editor positions: node id -> {"x": float, "y": float}; purely cosmetic.
    layout: dict[str, dict[str, float]] = field(default_factory=dict)
    version: int = SPEC_VERSION

    # ---- graph helpers -------------------------------------------------------------------
    def node(self, node_id: str) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def node_ids(self) -> list[str]:
        return [n.id for n in self.nodes]

    def predecessors(self, node_id: str) -> list[str]:
        """Sources feeding ``node_id``, in edge order (the order of a merge layer's inputs)."""
        return [e.source for e in self.edges if e.target == node_id]

    def successors(self, node_id: str) -> list[str]:
        return [e.target for e in self.edges if e.source == node_id]

    def input_ids(self) -> list[str]:
        return [n.id for n in self.nodes if n.type == "Input"]

    def output_ids(self) -> list[str]:
        if self.outputs:
            return list(self.outputs)
        has_out = {e.source for e in self.edges}
        return [n.id for n in self.nodes if n.id not in has_out and n.type != "Input"]

    def new_id(self, prefix: str) -> str:
        """A node id not yet used: ``dense``, ``dense_2``, ``dense_3``..."""
        base = "".join(c if c.isalnum() else "_" for c in prefix.lower()) or "node"
        taken = set(self.node_ids())
        if base not in taken:
            return base
        i = 2
        while f"{base}_{i}" in taken:
            i += 1
        return f"{base}_{i}"

    def copy(self) -> Design:
        return copy.deepcopy(self)

    # ---- (de)serialisation ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        # Put the fixed core first so the file reads naturally.
        order = ["version", "name", "description", "nodes", "edges", "outputs"]
        return {k: d[k] for k in order} | {k: v for k, v in d.items() if k not in order}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, raw: Any) -> Design:
        if not isinstance(raw, dict):
            raise DesignFileError("not a design: the top level must be a JSON object")
        raw = migrate(raw)
        try:
            nodes = [_node(n, "nodes") for n in _list(raw, "nodes")]
            edges = [_edge(e) for e in _list(raw, "edges")]
            augmentation = [_node(n, "augmentation") for n in _list(raw, "augmentation")]
        except (TypeError, KeyError) as exc:
            raise DesignFileError(f"not a design: {exc}") from None
        if len(nodes) > MAX_NODES:
            raise DesignFileError(f"not a design: more than {MAX_NODES} nodes")
        outputs = raw.get("outputs")
        if outputs is not None and not (
            isinstance(outputs, list) and all(isinstance(o, str) for o in outputs)
        ):
            raise DesignFileError("not a design: 'outputs' must be a list of node ids")
        layout = raw.get("layout") or {}
        if not isinstance(layout, dict):
            raise DesignFileError("not a design: 'layout' must be an object")
        return cls(
            nodes=nodes,
            edges=edges,
            outputs=outputs or None,
            name=_str(raw.get("name", "untitled"), "name"),
            description=_str(raw.get("description", ""), "description"),
            compile=_section(CompileSpec, raw, "compile"),
            data=_section(DataSpec, raw, "data"),
            training=_section(TrainSpec, raw, "training"),
            augmentation=augmentation,
            layout={str(k): v for k, v in layout.items() if isinstance(v, dict)},
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Design:
        if len(text) > MAX_FILE_BYTES:
            raise DesignFileError(f"not a design: file larger than {MAX_FILE_BYTES // 2**20} MB")
        try:
            raw = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise DesignFileError(f"not a design: invalid JSON ({_short(exc)})") from None
        return cls.from_dict(raw)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")


def load(path: str | Path) -> Design:
    """Read a design file; :class:`DesignFileError` with one clear line if it is not one."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DesignFileError(f"not a design: file larger than {MAX_FILE_BYTES // 2**20} MB")
        data = p.read_bytes()
    except OSError as exc:
        raise DesignFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    return Design.from_json(data)


# ---- versions --------------------------------------------------------------------------------
def migrate(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring an older design document up to :data:`SPEC_VERSION`.

    Version 1 (the first prototype) called edges ``links`` with ``from``/``to`` keys and node
    parameters ``config``. A file without a version is taken as current: that is what other
    tools writing just ``nodes`` and ``edges`` produce.
    """
    version = raw.get("version", SPEC_VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        raise DesignFileError(f"not a design: 'version' must be an integer, got {version!r}")
    if version > SPEC_VERSION or version < 1:
        raise DesignFileError(
            f"unknown design version {version} (this Keras Designer reads versions 1 to "
            f"{SPEC_VERSION}; upgrade it to open newer files)"
        )
    raw = dict(raw)
    if version == 1:
        for key in ("nodes", "links", "edges"):
            if key in raw and not isinstance(raw[key], list):
                raise DesignFileError(f"not a design: '{key}' must be a list")
        raw["nodes"] = [
            {"id": n.get("id"), "type": n.get("type"), "params": n.get("config", {})}
            if isinstance(n, dict)
            else n
            for n in raw.get("nodes", [])
        ]
        raw["edges"] = [
            {"source": lk.get("from"), "target": lk.get("to")} if isinstance(lk, dict) else lk
            for lk in raw.pop("links", raw.get("edges", []))
        ]
    raw["version"] = SPEC_VERSION
    return raw


# ---- strict readers: each message names the part of the file that is wrong -------------------
def _short(exc: Exception) -> str:
    return one_line(str(exc).splitlines()[0], 120) if str(exc) else type(exc).__name__


def _list(raw: dict, key: str) -> list:
    value = raw.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"'{key}' must be a list")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise DesignFileError(f"not a design: '{what}' must be a string")
    if len(value) > 10_000:
        raise DesignFileError(f"not a design: '{what}' is longer than 10,000 characters")
    return value


def _node(n: Any, section: str) -> Node:
    if not isinstance(n, dict):
        raise TypeError(f"each entry of '{section}' must be an object")
    node_id, node_type, params = n.get("id"), n.get("type"), n.get("params", {})
    if section == "augmentation" and node_id is None:
        node_id = str(node_type).lower()
    if not isinstance(node_id, str) or not node_id or len(node_id) > 200:
        raise TypeError(f"a node in '{section}' has no valid 'id' (a non-empty string)")
    if any(ord(c) < 32 or ord(c) == 127 for c in node_id):
        # A newline in an id could forge "node: message" lines in `validate` output.
        raise TypeError(f"node id {node_id!r} contains a control character")
    if not isinstance(node_type, str) or not node_type or len(node_type) > 200:
        raise TypeError(f"node {node_id!r} has no valid 'type' (a string such as \"Dense\")")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise TypeError(f"node {node_id!r}: 'params' must be an object")
    return Node(node_id, node_type, dict(params))


def _edge(e: Any) -> Edge:
    if not isinstance(e, dict):
        raise TypeError("each edge must be an object with 'source' and 'target'")
    s, t = e.get("source"), e.get("target")
    if not isinstance(s, str) or not isinstance(t, str):
        raise TypeError("each edge needs string 'source' and 'target' node ids")
    return Edge(s, t)


def _section(cls: type, raw: dict, key: str) -> Any:
    value = raw.get(key)
    if value is None:
        return cls()
    if not isinstance(value, dict):
        raise DesignFileError(f"not a design: '{key}' must be an object")
    known = cls.__dataclass_fields__
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise DesignFileError(f"not a design: unknown field(s) in '{key}': {', '.join(unknown)}")
    obj = cls(**value)
    for name in known:
        problem = field_problem(cls, key, name, getattr(obj, name))
        if problem:
            raise DesignFileError(f"not a design: {problem}")
    return obj


def field_problem(cls: type, section: str, name: str, got: Any) -> str | None:
    """Why ``got`` cannot be field ``name`` of the section dataclass ``cls`` (None when it can).

    Checked against the field's type hint, on load and on every edit: a wrong type here would
    otherwise surface as a traceback much later (in training, in generated code).
    """
    wanted = typing.get_type_hints(cls)[name]
    optional = False
    if typing.get_origin(wanted) in (typing.Union, types.UnionType):  # X | None
        args = typing.get_args(wanted)
        optional = type(None) in args
        wanted = next(a for a in args if a is not type(None))
    if got is None:
        return None if optional else f"'{section}.{name}' must not be null"
    kind = typing.get_origin(wanted) or wanted
    if kind is bool:
        ok = isinstance(got, bool)
    elif kind is int:
        ok = isinstance(got, int) and not isinstance(got, bool)
    elif kind is float:
        ok = isinstance(got, (int, float)) and not isinstance(got, bool) and math.isfinite(got)
    elif kind is str:
        ok = isinstance(got, str) and len(got) <= 10_000
    elif kind is list:
        ok = isinstance(got, list) and all(isinstance(v, str) for v in got)
    elif kind is dict:
        ok = isinstance(got, dict)
    else:
        raise TypeError(f"{cls.__name__}.{name}: no check for fields of type {wanted}")
    if ok:
        return None
    what = {
        bool: "true or false",
        int: "a whole number",
        float: "a finite number",
        str: "a string",
        list: "a list of strings",
        dict: "an object",
    }[kind]
    return f"'{section}.{name}' must be {what}"
