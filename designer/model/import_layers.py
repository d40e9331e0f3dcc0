"""One Keras layer -> one catalog node: parameters from ``get_config()``, and what is lost.
(Also: a model's compile settings -> the design's compile section.)

The mapping is generic: each catalog parameter is read from the layer's config under its own
name (catalog names are Keras' constructor names). Whether that captured the layer is then
checked by *rebuilding* it from the node (:func:`designer.model.build.make_layer`) and comparing the
two configs key by key. Any difference — a parameter the catalog does not have, such as a
configured ``kernel_regularizer``, or a value its form cannot hold, such as an asymmetric
padding — is kept as Keras serialized it, under the node's ``params["keras"]`` (see
:data:`designer.design.params.KEPT`), and the layer is rebuilt once more to prove it is now the
same. Only what still differs after that is reported as "cannot be represented", never
dropped in silence.

Pretrained bases are recognised here too: a nested model that is exactly a
``keras.applications`` base of the catalog (same classes, configs and weight shapes as a fresh
one with ``include_top=False``) becomes one node instead of hundreds.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from designer.design import catalog, compile_catalog
from designer.design.params import KEPT
from designer.design.spec import CompileSpec, Node
from designer.model.build import make_layer

# Keys that name or place a layer rather than define it; trainable/dtype are checked apart.
_IGNORED = {"name", "trainable", "dtype"}
# The last layer of each catalog base (include_top=False, no pooling) in keras.applications,
# which names every layer of its bases: a cheap hint before the full structural comparison,
# which alone decides. The hint asks for it last (or under the global pooling), not just
# somewhere: the comparison builds a fresh base, and a whole application with its classifier
# (ResNet50 as keras.applications makes it by default) would otherwise pay that build for
# nothing (about a fifth of its import).
APP_MARKERS = {
    "MobileNetV2": "out_relu",
    "ResNet50": "conv5_block3_out",
    "DenseNet121": "relu",
    "EfficientNetB0": "top_activation",
    "VGG16": "block5_pool",
}
_POOLING = {"GlobalAveragePooling2D": "avg", "GlobalMaxPooling2D": "max"}


def plain(value: Any) -> Any:
    """JSON-shaped copy: tuples become lists, so configs compare as the file stores them."""
    return json.loads(json.dumps(value, default=_default))


def _default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def _short(value: Any) -> str:
    text = json.dumps(plain(value))
    return text if len(text) <= 60 else text[:57] + "..."


def _axis(value: Any, rank: int | None) -> Any:
    """Axis 3 of a 4-D tensor is axis -1 (and [-1]): the same layer, written several ways."""
    if rank is None:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value % rank
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        axes = sorted(v % rank for v in value)
        return axes[0] if len(axes) == 1 else axes  # [-1] and -1: the same axis
    return value


def config_diff(
    orig: dict, new: dict, rank: int | None, prefix: str = "", *, random_seed_ok: bool = False
) -> list[str]:
    """Keys (dotted for nested layers) whose values differ between two layer configs.

    ``random_seed_ok``: an augmentation layer's ``seed`` is not compared. Keras draws one when
    none is given (RandomCrop stores it), so two builds of the same design never agree on it;
    in a design, the training seed decides the randomness.
    """
    keys = []
    for key in sorted(set(orig) | set(new)):
        if key in _IGNORED or (random_seed_ok and key == "seed"):
            continue
        a, b = orig.get(key), new.get(key)
        if key == "axis":
            a, b = _axis(a, rank), _axis(b, rank)
        if isinstance(a, dict) and isinstance(b, dict) and isinstance(a.get("config"), dict):
            if a.get("class_name") == b.get("class_name") and "module" in a and key != "dtype":
                sub_a, sub_b = a["config"], b.get("config") or {}
                if {"name", "trainable"} & set(sub_a):  # a wrapped layer: compare inside
                    keys += config_diff(sub_a, sub_b, rank, f"{prefix}{key}.")
                    continue
        if a != b:
            keys.append(prefix + key)
    return keys


def _ints(value: Any) -> Any:
    """Keras' tuples as catalog values: (3, 3) -> 3; ((1, 1), (2, 2)) -> [1, 2]."""
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        if all(len(v) == 2 and v[0] == v[1] for v in value):
            value = [v[0] for v in value]
        else:
            return value  # asymmetric padding/cropping: the check below reports it
    if isinstance(value, list) and value and all(v == value[0] for v in value):
        return value[0]
    return value


@functools.lru_cache(maxsize=4096)
def _rebuilt(node_type: str, params_json: str) -> str:
    node = Node("probe", node_type, json.loads(params_json))
    return json.dumps(plain(make_layer(node).get_config()), sort_keys=True)


def rebuilt_config(node_type: str, params: dict) -> dict:
    return json.loads(_rebuilt(node_type, json.dumps(params, sort_keys=True)))


def _probe_choice(spec: catalog.LayerSpec, p: Any, value: Any) -> tuple[bool, Any]:
    """The catalog choice whose layer config holds ``value`` (initializers are stored as
    objects, e.g. ``{"class_name": "HeNormal", ...}`` for ``"he_normal"``)."""
    for choice in p.choices:
        if rebuilt_config(spec.type, {p.name: choice}).get(p.name) == value:
            return True, choice
    return False, None


def _candidate(spec: catalog.LayerSpec, p: Any, value: Any) -> tuple[bool, Any]:
    if p.kind == "choice":
        if value in p.choices:
            return True, value
        return _probe_choice(spec, p, value)
    if p.kind == "ints":
        return True, _ints(value)
    if p.kind == "shape":
        return isinstance(value, list), value
    if p.kind == "float" and isinstance(value, list) and len(value) == 2 and value[0] == -value[1]:
        value = value[1]  # random layers store factor 0.1 as the range (-0.1, 0.1)
    elif p.kind in ("float", "int") and isinstance(value, list) and value:
        # Other ways Keras stores one catalog number: RandomContrast's factor 0.2 as [0, 0.2],
        # (Layer)Normalization's axis -1 as [-1]. Taken only if it rebuilds the same value.
        for cand in (value[-1], -value[0]):
            if (
                isinstance(cand, (int, float))
                and rebuilt_config(spec.type, {p.name: cand}).get(p.name) == value
            ):
                value = cand
                break
    if p.kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return True, float(value)
    return True, value


def map_params(spec: catalog.LayerSpec, config: dict) -> tuple[dict, list[str]]:
    """Catalog params read from a layer config, and the names of those the catalog cannot
    hold (their values are kept as they are)."""
    params: dict[str, Any] = {}
    refused: list[str] = []
    for p in spec.params:
        if p.name not in config:
            continue
        value = config[p.name]
        ok, cand = _candidate(spec, p, value)
        reason = p.check(cand) if ok else f"{p.name}: not one of the catalog's values"
        if reason:
            refused.append(p.name)
            continue
        params[p.name] = cand
    # Keep the design lean: drop values that build the same layer as the catalog default
    # (activation "linear" is None, pooling strides (2, 2) are "same as the pool size").
    full = rebuilt_config(spec.type, params)
    for name in list(params):
        p = spec.param(name)
        if not p.keras_default:
            continue  # Keras requires it (units, filters, rate): always written out
        if params[name] == p.default:
            del params[name]
            continue
        trial = {k: v for k, v in params.items() if k != name}
        if rebuilt_config(spec.type, trial) == full:
            del params[name]
    return params, refused


def wrapper_params(config: dict) -> tuple[dict, list[str]]:
    """Bidirectional: the wrapped RNN's class, units and return_sequences, plus merge_mode."""
    inner = config.get("layer") or {}
    inner_cfg = inner.get("config") or {}
    params = {
        "layer": inner.get("class_name"),
        "units": inner_cfg.get("units"),
        "return_sequences": bool(inner_cfg.get("return_sequences", False)),
        "merge_mode": config.get("merge_mode", "concat"),
    }
    spec = catalog.LAYERS["Bidirectional"]
    refused = [r for p in spec.params if (r := p.check(params[p.name]))]
    if refused:
        return {}, refused
    return params, []


def layer_node(node_id: str, class_name: str, config: dict, rank: int | None):
    """``(Node, problems)`` for one layer; problems say what the node does not capture."""
    config = plain(config)
    spec = catalog.get(class_name)
    if spec is None or spec.module in ("input", "applications"):
        params = {k: v for k, v in config.items() if k not in _IGNORED}
        return Node(node_id, class_name, params), [
            f"layer type {class_name} is not in the catalog (replace this node)"
        ]
    if spec.module == "wrapper":
        return _wrapper_node(node_id, spec, config, rank)
    params, refused = map_params(spec, config)
    keep = {name: config[name] for name in refused}
    if config.get("trainable") is False:
        keep["trainable"] = False  # a frozen layer stays frozen when the design trains
    if _policy(config) != "float32":
        keep["dtype"] = config["dtype"]
    seed_ok = spec.category == "augmentation"
    # Compared as written (rank None): axis 3 of a 4-D tensor computes as axis -1, but the
    # kept value is the one the model had, so its config comes back exactly.
    try:
        new = rebuilt_config(spec.type, _with_kept(params, keep))
        for key in config_diff(config, new, None, random_seed_ok=seed_ok):
            keep[key.split(".")[0]] = config[key.split(".")[0]]
        new = rebuilt_config(spec.type, _with_kept(params, keep))
    except Exception as exc:  # noqa: BLE001 - a value Keras itself rejects is a lost value
        return Node(node_id, spec.type, params), [f"does not rebuild: {exc}"]
    problems = [
        f"{key} = {_short(_lookup(config, key))}"
        for key in config_diff(config, new, None, random_seed_ok=seed_ok)
    ]
    return Node(node_id, spec.type, _with_kept(params, keep)), problems


def _with_kept(params: dict, keep: dict) -> dict:
    return params | {KEPT: keep} if keep else params


def _policy(config: dict) -> str:
    """A layer's dtype policy name; most layers store a DTypePolicy dict, a few
    (SpatialDropout*) the plain string."""
    dtype = config.get("dtype")
    if isinstance(dtype, str):
        return dtype
    return (dtype or {}).get("config", {}).get("name", "float32")


def _wrapper_node(node_id: str, spec: catalog.LayerSpec, config: dict, rank: int | None):
    """Bidirectional: the catalog holds the wrapped RNN's class, units and return_sequences;
    anything else about it is reported."""
    params, refused = wrapper_params(config)
    problems = list(refused)
    try:
        new = rebuilt_config(spec.type, params)
    except Exception as exc:  # noqa: BLE001
        return Node(node_id, spec.type, params), problems + [f"does not rebuild: {exc}"]
    for key in config_diff(config, new, rank):
        problems.append(f"{key} = {_short(_lookup(config, key))}")
    if _policy(config) != "float32":
        problems.append(f"dtype policy = {_policy(config)!r} (the design computes in float32)")
    return Node(node_id, spec.type, params), problems


def _lookup(config: dict, dotted: str) -> Any:
    """``layer.dropout`` -> ``config["layer"]["config"]["dropout"]``."""
    parts = dotted.split(".")
    value: Any = config
    for i, part in enumerate(parts):
        value = value.get(part) if isinstance(value, dict) else None
        if i < len(parts) - 1 and isinstance(value, dict):
            value = value.get("config")
    return value


# ---- pretrained bases ------------------------------------------------------------------------
def _signature(model: Any) -> str:
    """Everything that defines a base except names: class, config and weight shapes per layer
    (names are left out because Keras numbers auto-named layers per session)."""
    rows = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        cfg = {k: v for k, v in plain(layer.get_config()).items() if k not in _IGNORED}
        shapes = [list(w.shape) for w in layer.weights]
        rows.append([type(layer).__name__, cfg, shapes])
    return json.dumps(rows, sort_keys=True)


@functools.lru_cache(maxsize=16)
def _app_signature(app_type: str, input_shape: tuple, pooling: str | None) -> str:
    import keras

    # Only shapes and configs are compared. A stateless scope still initialises the weights
    # when it closes; inside the one a file is imported in (importer._load_and_walk, which does
    # not initialise), they are never drawn.
    with keras.StatelessScope():
        base = getattr(keras.applications, app_type)(
            include_top=False, weights=None, input_shape=input_shape, pooling=pooling
        )
    return _signature(base)


def match_application(model: Any) -> tuple[str, dict] | None:
    """``(type, params)`` if ``model`` is a catalog base (keras.applications, no top)."""
    if not model.layers:
        return None
    pooling = _POOLING.get(type(model.layers[-1]).__name__)
    below = model.layers[:-1] if pooling else model.layers  # what the global pooling is on
    last = below[-1].name if below else None
    for app_type, marker in APP_MARKERS.items():
        spec = catalog.get(app_type)
        if spec is None or spec.module != "applications" or marker != last:
            continue
        shape = tuple(model.inputs[0].shape[1:])
        try:
            if _signature(model) != _app_signature(app_type, shape, pooling):
                continue
        except Exception:  # noqa: BLE001 - a shape the application refuses is no match
            continue
        params: dict[str, Any] = {"weights": None, "trainable": bool(model.trainable)}
        if pooling:
            params["pooling"] = pooling
        return app_type, params
    return None


def mixed_trainable(model: Any) -> bool:
    """A base partly frozen (fine-tuning the top blocks only): the catalog has one flag."""
    flags = {bool(layer.trainable) for layer in model.layers if layer.weights}
    return len(flags) > 1 or (bool(flags) and flags != {bool(model.trainable)})


# ---- compile settings ---------------------------------------------------------------------------
def _snake(name: str) -> str:
    """Class name -> function name: KLDivergence -> kl_divergence, AUC -> auc."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


_METRIC_ALIASES = {
    "acc": "accuracy",
    "sparse_categorical_accuracy": "accuracy",
    "categorical_accuracy": "accuracy",
    "binary_accuracy": "accuracy",
    "mean_absolute_error": "mae",
    "mean_squared_error": "mse",
    "root_mean_squared_error": "rmse",
}


def _metric_name(m: Any) -> str:
    name = m if isinstance(m, str) else _snake(m.get("class_name", "?"))
    return _METRIC_ALIASES.get(name, name)


def compile_spec(cc: dict | None) -> tuple[CompileSpec, list[tuple[str, str]]]:
    """A model's ``compile_config`` as the design's compile section, and what it cannot hold
    (reported on the pseudo node ``compile``)."""
    spec, problems = CompileSpec(), []
    if not isinstance(cc, dict):
        return spec, problems
    opt = cc.get("optimizer")
    if isinstance(opt, dict) and opt.get("class_name") in compile_catalog.OPTIMIZERS:
        spec.optimizer = opt["class_name"]
        cfg = opt.get("config") or {}
        for p in compile_catalog.OPTIMIZERS[spec.optimizer].params:
            value = cfg.get(p.name)
            if (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and p.kind == "float"
            ):
                value = float(f"{value:.6g}")  # optimizers store float32: 0.0010000000474974513
            if value is not None and value != p.default and not p.check(value):
                spec.optimizer_params[p.name] = value
    elif opt is not None:
        problems.append(("compile", f"cannot be represented: optimizer {_short_name(opt)}"))
    loss = cc.get("loss")
    name = _snake(loss["class_name"]) if isinstance(loss, dict) else loss
    if isinstance(loss, dict) and any(
        v for k, v in (loss.get("config") or {}).items() if k in ("from_logits", "label_smoothing")
    ):
        problems.append(("compile", f"cannot be represented: loss {_short_name(loss)} options"))
    if isinstance(name, str) and name in compile_catalog.LOSSES:
        spec.loss = name
    elif loss is not None:
        problems.append(("compile", f"cannot be represented: loss {_short_name(loss)}"))
    metrics = _flat(cc.get("metrics"))
    if metrics:
        names = [_metric_name(m) for m in metrics]
        spec.metrics = [n for n in names if n in compile_catalog.METRICS]
        problems += [
            ("compile", f"cannot be represented: metric {n}")
            for n in names
            if n not in compile_catalog.METRICS
        ]
    return spec, problems


def _flat(metrics: Any) -> list:
    """Metrics per output (lists, dicts) as one list of names and serialized objects."""
    if isinstance(metrics, dict) and "class_name" not in metrics:
        metrics = list(metrics.values())
    if isinstance(metrics, (list, tuple)):
        return [m for item in metrics for m in _flat(item)]
    return [metrics] if isinstance(metrics, (str, dict)) else []


def _short_name(obj: Any) -> str:
    return obj.get("class_name", "?") if isinstance(obj, dict) else repr(obj)[:60]
