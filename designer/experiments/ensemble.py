"""Ensembles of finished runs: averaging, voting, stacking, and bagging of one design.

    >>> result = run_ensemble([run_a, run_b, run_c], "average", out="ens")
    >>> result.value, [m["value"] for m in result.members]   # test accuracy: ensemble, members

* ``average`` — the mean of the members' predicted probabilities (regression: of their values);
* ``vote`` — the class most members predict (ties go to the higher mean probability);
* ``stack`` — a meta-model (scikit-learn logistic regression, or one Keras Dense layer) fitted
  on the members' predictions for the **validation** split; the test split is only ever used
  to score the finished ensemble.
* ``bagging`` — N copies of one design, each trained (through the job queue) on a bootstrap
  sample of the training split with its own seed, then averaged. See :func:`start_bagging`.

``average`` and ``stack`` export as one ``.keras`` file that loads in safe mode: a Functional
model whose members are the runs' models (each renamed ``member_<i>``) joined by
``keras.layers.Average``, or by ``Concatenate`` + the meta-model as a ``Dense`` layer. A vote
needs an argmax, which no built-in layer computes, so it is reported but not exported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from designer.design.spec import DataSpec
from designer.errors import DesignerError
from designer.training import rundir, start_training

METHODS = ("average", "vote", "stack")
STACKERS = ("logistic", "dense")
EXPORT_FILE = "ensemble.keras"
REPORT_FILE = "ensemble.json"
BAG_FILE = "bag.json"
_FINISHED = ("finished", "stopped")


class EnsembleError(DesignerError):
    """The runs cannot be combined as asked; the message is one line for the user."""


@dataclass
class Stacker:
    """A fitted meta-model, always of the form ``activation(features @ kernel + bias)`` so that
    the in-memory ensemble and the exported Dense layer compute exactly the same thing."""

    kind: str
    kernel: np.ndarray  # (members * outputs, k)
    bias: np.ndarray  # (k,)
    activation: str  # "softmax" | "linear"

    def predict(self, outputs: np.ndarray) -> np.ndarray:
        z = features(outputs) @ self.kernel + self.bias
        if self.activation == "linear":
            return z
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


@dataclass
class EnsembleResult:
    method: str
    task: str  # "classification" | "regression"
    metric: str  # "accuracy" or "mse"
    value: float  # the ensemble's test metric
    members: list[dict[str, Any]]  # {"run", "path", "metric", "value"} per member
    metrics: dict[str, Any]  # designer.report.evaluate.report of the ensemble on the test split
    outputs: np.ndarray  # the ensemble's test outputs
    stacker: Stacker | None = None
    exported: Path | None = None
    note: str = ""  # why nothing was exported, if so
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def members_mean(self) -> float:
        return float(np.mean([m["value"] for m in self.members]))

    def lines(self) -> list[str]:
        """The CLI's report; the last line is ``ensemble <metric>: X``."""
        out = [f"member {m['run']}: test {m['metric']} {m['value']:.4f}" for m in self.members]
        out.append(f"members' mean {self.metric}: {self.members_mean:.4f}")
        if self.exported:
            out.append(f"exported {self.exported}")
        elif self.note:
            out.append(f"not exported: {self.note}")
        out.append(f"ensemble {self.metric}: {self.value:.4f}")
        return out


# ---- members and their data -------------------------------------------------------------------
def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def check_runs(run_dirs: list[str | Path], which: str = "model") -> list[Path]:
    """The run directories, if each is a finished run with a saved model (else EnsembleError)."""

    if len(run_dirs) < 2:
        raise EnsembleError("an ensemble needs at least two runs")
    paths = [Path(p) for p in run_dirs]
    for p in paths:
        if not (p / rundir.DESIGN_FILE).is_file():
            raise EnsembleError(f"{p}: not a run directory (no {rundir.DESIGN_FILE})")
        status = rundir.read_status(p)["status"]
        if status not in _FINISHED:
            raise EnsembleError(f"{p}: the run is {status}, not finished")
        if not (p / f"{which}.keras").is_file():
            raise EnsembleError(f"{p}: no {which}.keras to load")
    if len({p.resolve() for p in paths}) < len(paths):
        raise EnsembleError("the same run is given twice")
    return paths


def run_data(run_dir: str | Path):
    """The data set a run was trained on, split as in training (its design + run.json limit)."""
    from designer.data import load_dataset

    run_dir = Path(run_dir)
    design = _read_json(run_dir / "design.json")
    return load_dataset(
        design.get("data") or {}, limit=_read_json(run_dir / "run.json").get("limit")
    )


def shared_data(paths: list[Path]):
    """The runs' common data set; EnsembleError unless every run was tested on the same split."""
    loaded: dict[str, Any] = {}  # one load per distinct (data section, limit)
    for p in paths:
        key = json.dumps(
            [_read_json(p / "design.json").get("data"), _read_json(p / "run.json").get("limit")],
            sort_keys=True,
        )
        if key not in loaded:
            loaded[key] = run_data(p)
    first, *others = loaded.values()
    for other in others:
        if other.x_test.shape != first.x_test.shape or not (
            np.array_equal(other.y_test, first.y_test) and np.allclose(other.x_test, first.x_test)
        ):
            raise EnsembleError(
                "the runs were not trained on the same data set (their test splits differ)"
            )
    return first


def load_models(paths: list[Path], which: str = "model") -> list[Any]:
    from designer.report.evaluate import load_run_model

    return [load_run_model(p, which) for p in paths]


def predict_outputs(models: list[Any], x: np.ndarray) -> np.ndarray:
    """The members' raw outputs as one array ``(members, samples, outputs)``."""
    outs = []
    for m in models:
        y = m.predict(x, batch_size=256, verbose=0)
        y = np.asarray(y[0] if isinstance(y, (list, tuple)) else y, dtype=np.float64)
        outs.append(y.reshape(len(y), -1))
    if len({o.shape for o in outs}) > 1:
        raise EnsembleError(
            f"the members' outputs differ in shape: {sorted({o.shape[1:] for o in outs})}"
        )
    return np.stack(outs)


def features(outputs: np.ndarray) -> np.ndarray:
    """Stacking features: each sample's member outputs side by side
    ``(samples, members*outputs)``."""
    m, n, d = outputs.shape
    return outputs.transpose(1, 0, 2).reshape(n, m * d)


# ---- combining --------------------------------------------------------------------------------
def average(outputs: np.ndarray) -> np.ndarray:
    return outputs.mean(axis=0)


def vote(outputs: np.ndarray) -> np.ndarray:
    """Vote shares per class (ties broken by the mean probability, worth less than one vote)."""
    from designer.report.evaluate import as_probabilities

    probs = np.stack([as_probabilities(o) for o in outputs])
    m, n, k = probs.shape
    counts = np.zeros((n, k))
    np.add.at(counts, (np.repeat(np.arange(n), m), probs.argmax(axis=2).T.ravel()), 1.0)
    tie = 1e-3 * probs.mean(axis=0)
    return (counts + tie) / (m + 1e-3)


def fit_stacker(
    val_outputs: np.ndarray,
    y_val: np.ndarray,
    task: str,
    num_classes: int,
    kind: str = "logistic",
    seed: int = 0,
) -> Stacker:
    """Fit the meta-model on the members' validation outputs (and only on those)."""
    if kind not in STACKERS:
        raise EnsembleError(f"unknown stacker {kind!r} (choose {', '.join(STACKERS)})")
    if len(y_val) == 0:
        raise EnsembleError("stacking needs a validation split: the runs have none")
    x = features(val_outputs)
    if kind == "dense":
        return _fit_dense(x, y_val, task, num_classes, seed)
    if task == "regression":
        from sklearn.linear_model import LinearRegression

        lin = LinearRegression().fit(x, np.asarray(y_val, dtype=np.float64).reshape(len(x), -1))
        return Stacker("logistic", lin.coef_.T.copy(), np.atleast_1d(lin.intercept_), "linear")
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(max_iter=2000, random_state=seed).fit(x, y_val)
    kernel = np.zeros((x.shape[1], num_classes))
    bias = np.full(num_classes, -30.0)  # a class never seen in validation is never predicted
    cols = lr.classes_.astype(int)
    if len(cols) == 2:  # one coefficient row: p(class 1) = sigmoid(w.x + b)
        kernel[:, cols[1]], bias[cols] = lr.coef_[0], (0.0, lr.intercept_[0])
    else:
        kernel[:, cols], bias[cols] = lr.coef_.T, lr.intercept_
    return Stacker("logistic", kernel, bias, "softmax")


def _fit_dense(x: np.ndarray, y: np.ndarray, task: str, k: int, seed: int) -> Stacker:
    import keras

    keras.utils.set_random_seed(seed)
    regression = task == "regression"
    units = np.asarray(y).reshape(len(y), -1).shape[1] if regression else k
    layer = keras.layers.Dense(units, activation="linear" if regression else "softmax", name="meta")
    meta = keras.Sequential([keras.Input((x.shape[1],)), layer])
    meta.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss="mean_squared_error" if regression else "sparse_categorical_crossentropy",
    )
    # 150 full-batch steps as one epoch: the per-epoch overhead of fit would dominate.
    steps = 150
    meta.fit(
        np.tile(x.astype(np.float32), (steps, 1)),
        np.tile(np.asarray(y), steps),
        batch_size=len(x),
        epochs=1,
        shuffle=False,
        verbose=0,
    )
    kernel, bias = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
    return Stacker("dense", kernel, bias, "linear" if regression else "softmax")


# ---- export -----------------------------------------------------------------------------------
def ensemble_model(models: list[Any], stacker: Stacker | None = None) -> Any:
    """One Functional model: the members (renamed ``member_<i>``) averaged, or stacked."""
    import keras

    first = models[0]
    inputs = [
        keras.Input(
            shape=t.shape[1:],
            dtype=t.dtype,
            name=f"input_{i + 1}" if len(first.inputs) > 1 else "input",
        )
        for i, t in enumerate(first.inputs)
    ]
    outs = []
    for i, model in enumerate(models):
        if len(model.inputs) != len(inputs) or len(model.outputs) != 1:
            raise EnsembleError("only members with the same inputs and one output can be exported")
        config = model.get_config()
        config["name"] = f"member_{i + 1}"  # unique names: every member's layers are "dense"...
        clone = type(model).from_config(config)
        clone.set_weights(model.get_weights())
        outs.append(clone(inputs if len(inputs) > 1 else inputs[0]))
    if stacker is None:
        top = keras.layers.Average(name="average")(outs)
    else:
        joined = keras.layers.Concatenate(name="member_outputs")(
            [keras.layers.Flatten(name=f"flat_{i + 1}")(o) for i, o in enumerate(outs)]
        )
        dense = keras.layers.Dense(
            stacker.kernel.shape[1], activation=stacker.activation, name="meta"
        )
        top = dense(joined)
        dense.set_weights([stacker.kernel.astype(np.float32), stacker.bias.astype(np.float32)])
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], top, name="ensemble")


def export(models: list[Any], path: str | Path, stacker: Stacker | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ensemble_model(models, stacker).save(path)
    return path


# ---- the whole job ----------------------------------------------------------------------------
def run_ensemble(
    run_dirs: list[str | Path],
    method: str = "average",
    *,
    out: str | Path | None = None,
    which: str = "model",
    stacker: str = "logistic",
    data: Any = None,
    seed: int = 0,
    extra: dict | None = None,
) -> EnsembleResult:
    """Combine finished runs trained on one data set; score members and ensemble on its test
    split; with ``out``, write ``ensemble.json``, ``metrics.json`` and ``ensemble.keras``.

    ``data`` (a designer.data Dataset) replaces the runs' own data (bagging passes the
    original data set its bootstrap samples came from).
    """
    if method not in METHODS:
        raise EnsembleError(f"unknown method {method!r} (choose {', '.join(METHODS)})")
    paths = check_runs(run_dirs, which)
    data = data if data is not None else shared_data(paths)
    task = "regression" if data.info.task == "regression" else "classification"
    if task == "regression" and method == "vote":
        raise EnsembleError(
            "voting needs classes; this data set is a regression: use average or stack"
        )
    models = load_models(paths, which)
    fitted = None
    if method == "stack":  # the meta-model sees validation data only, and is fitted first
        val = predict_outputs(models, data.x_val)
        fitted = fit_stacker(val, data.y_val, task, data.info.num_classes, stacker, seed)
    test = predict_outputs(models, data.x_test)
    combined = {"average": average, "vote": vote}.get(method, lambda o: fitted.predict(o))(test)
    from designer.report.evaluate import report

    names = list(data.info.class_names)
    metrics = report(task, data.y_test, combined, names)
    metric = "mse" if task == "regression" else "accuracy"
    members = [
        {
            "run": p.name,
            "path": str(p),
            "metric": metric,
            "value": float(report(task, data.y_test, o, names)[metric]),
        }
        for p, o in zip(paths, test)
    ]
    result = EnsembleResult(
        method, task, metric, float(metrics[metric]), members, metrics, combined, fitted
    )
    result.extra = dict(extra or {})
    if method == "vote":
        result.note = "a vote needs an argmax, which no built-in Keras layer computes"
    if out is not None:
        _write(result, Path(out), models, which, stacker)
    return result


def _write(result: EnsembleResult, out: Path, models: list[Any], which: str, stacker: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if result.method != "vote":
        result.exported = export(models, out / EXPORT_FILE, result.stacker)
    report = {
        "method": result.method,
        "which": which,
        "task": result.task,
        "metric": result.metric,
        "value": result.value,
        "members": result.members,
        "members_mean": result.members_mean,
        "stacker": stacker if result.method == "stack" else None,
        "exported": result.exported.name if result.exported else None,
        "note": result.note,
    } | result.extra
    rundir.write_json(out / REPORT_FILE, report)
    rundir.write_json(out / "metrics.json", result.metrics)


# ---- bagging ----------------------------------------------------------------------------------
def _bootstrap_spec(data: Any, seed: int, path: Path):
    """An NPZ holding a bootstrap sample of ``data``'s (already scaled) training split and its
    unchanged test split, and the DataSpec that trains on exactly that sample."""

    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(data.y_train), len(data.y_train))
    np.savez(
        path,
        x_train=data.x_train[pick],
        y_train=data.y_train[pick],
        x_test=data.x_test,
        y_test=data.y_test,
    )
    return DataSpec(
        dataset="upload",
        path=str(path.resolve()),
        validation_split=0.0,
        test_split=0.0,
        seed=seed,
        scaling="none",
    )


def _check_bootstrap(data: Any, spec: Any) -> None:
    from designer.data import load_dataset

    sample = load_dataset(spec)
    same = (
        sample.info.task == data.info.task
        and sample.info.num_classes == data.info.num_classes
        and np.array_equal(sample.y_test, data.y_test)
    )
    if not same:
        raise EnsembleError(
            "a bootstrap sample does not keep the data set's classes: "
            "use more samples (a larger --limit)"
        )


def start_bagging(
    design: Any,
    *,
    out: str | Path,
    members: int = 3,
    epochs: int | None = None,
    dataset: str | None = None,
    limit: int | None = None,
    seed: int | None = None,
    registry: Any = None,
) -> list[Any]:
    """Queue ``members`` runs of ``design``, each on its own bootstrap sample of the training
    split (seeds ``seed``, ``seed+1``...); returns their jobs. Writes ``out/bag.json``; once
    the jobs are done, :func:`finish_bagging` averages them."""
    from designer.data import load_dataset

    if not 2 <= members <= 50:
        raise EnsembleError(f"bagging needs 2 to 50 members, got {members}")
    spec = design.data
    if dataset:
        spec = type(spec)(**(vars(spec) | {"dataset": dataset, "path": None}))
    data = load_dataset(spec, limit=limit)
    if len(data.y_test) == 0:
        raise EnsembleError("bagging needs a test split to score the ensemble on")
    out = Path(out)
    if (out / BAG_FILE).exists():
        raise EnsembleError(f"{out} already holds a bag: choose another directory")
    (out / "data").mkdir(parents=True, exist_ok=True)
    seed = design.training.seed if seed is None else seed
    epochs = int(epochs or design.training.epochs)
    plan = []
    for i in range(members):
        member = design.copy()
        member.name = f"{design.name}-bag{i + 1}"
        member.training.seed = seed + i
        member.training.epochs = epochs
        member.data = _bootstrap_spec(data, seed + i, out / "data" / f"bootstrap-{i + 1}.npz")
        _check_bootstrap(data, member.data)
        plan.append((member, out / f"{out.name}-member-{i + 1}"))  # unique run ids in a registry
    manifest = {
        "design": design.to_dict(),
        "data": vars(spec),
        "limit": limit,
        "epochs": epochs,
        "members": [str(p.resolve()) for _, p in plan],
        "seeds": [seed + i for i in range(members)],
    }
    rundir.write_json(out / BAG_FILE, manifest)
    return [start_training(m, run_dir=p, epochs=epochs, registry=registry) for m, p in plan]


def bag_members(out: str | Path) -> list[Path]:
    """The run directories of a bag's members (none when the bag has no readable plan)."""
    manifest = _read_json(Path(out) / BAG_FILE) or {}
    return [Path(p) for p in manifest.get("members", [])]


def finish_bagging(out: str | Path, which: str = "model") -> EnsembleResult:
    """Average the bag's finished members on the original data set's test split."""
    from designer.data import load_dataset

    out = Path(out)
    manifest = _read_json(out / BAG_FILE)
    if not manifest:
        raise EnsembleError(f"{out}: no readable {BAG_FILE}")
    data = load_dataset(manifest["data"], limit=manifest.get("limit"))
    extra = {"bagging": {"members": len(manifest["members"]), "seeds": manifest["seeds"]}}
    return run_ensemble(
        manifest["members"], "average", out=out, which=which, data=data, extra=extra
    )
