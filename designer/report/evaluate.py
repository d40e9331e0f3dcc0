"""How good is a trained model: confusion matrix, per-class scores, mistakes, ROC, residuals.

The functions take numpy arrays (true labels and the model's raw outputs) and return plain
Python data, so the UI, the CLI and the training process share them and tests need no model.
:func:`evaluate_run` loads a run's model (safe mode) and applies them to its data set's test
split; :func:`predict` runs a model on new samples. Keras is imported only by those two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from designer.errors import DesignerError
from designer.model import sidecar
from designer.text import one_line


# ---- outputs -> classes ----------------------------------------------------------------------
def first_output(outputs: Any) -> np.ndarray:
    """A multi-output model predicts a list of arrays; the first output is the one scored."""
    if isinstance(outputs, (list, tuple)) and outputs and isinstance(outputs[0], np.ndarray):
        outputs = outputs[0]
    return np.asarray(outputs)


def as_probabilities(outputs: Any) -> np.ndarray:
    """Class probabilities ``(n, k)`` from a model's output; one sigmoid unit becomes two
    columns ``[1 - p, p]`` so every classifier reads the same way."""
    out = first_output(outputs).astype(np.float64)
    if out.ndim == 1:
        out = out[:, None]
    if out.shape[1] == 1:
        out = np.c_[1.0 - out[:, 0], out[:, 0]]
    return out


def predicted_classes(outputs: Any) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class ids, confidence = the probability of the predicted class)."""
    probs = as_probabilities(outputs)
    pred = probs.argmax(axis=1)
    return pred, probs[np.arange(len(pred)), pred]


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
    """``cm[i, j]`` = how many samples of class i were predicted as class j."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(
        cm,
        (np.asarray(y_true, dtype=np.int64).ravel(), np.asarray(y_pred, dtype=np.int64).ravel()),
        1,
    )
    return cm


def per_class(y_true: Any, y_pred: Any, class_names: list[str]) -> list[dict[str, Any]]:
    """Precision, recall, F1 and support of every class (0 where a class is never predicted)."""
    from sklearn.metrics import precision_recall_fscore_support

    labels = list(range(len(class_names)))
    p, r, f, s = precision_recall_fscore_support(
        np.asarray(y_true).ravel(), np.asarray(y_pred).ravel(), labels=labels, zero_division=0
    )
    return [
        {
            "class": name,
            "precision": float(p[i]),
            "recall": float(r[i]),
            "f1": float(f[i]),
            "support": int(s[i]),
        }
        for i, name in enumerate(class_names)
    ]


def most_confident_mistakes(y_true: Any, outputs: Any, k: int = 16) -> list[dict[str, Any]]:
    """The ``k`` misclassified samples the model was surest about (a gallery of mistakes).

    Each item: ``index`` into the evaluated arrays, ``true`` and ``predicted`` class ids,
    ``confidence`` in the wrong class.
    """
    y = np.asarray(y_true, dtype=np.int64).ravel()
    pred, conf = predicted_classes(outputs)
    wrong = np.flatnonzero(pred != y)
    wrong = wrong[np.argsort(-conf[wrong], kind="stable")][:k]
    return [
        {
            "index": int(i),
            "true": int(y[i]),
            "predicted": int(pred[i]),
            "confidence": float(conf[i]),
        }
        for i in wrong
    ]


def roc(y_true: Any, outputs: Any) -> dict[str, Any] | None:
    """ROC curve and AUC of a two-class task (None otherwise, or if one class is missing)."""
    probs = as_probabilities(outputs)
    y = np.asarray(y_true).ravel()
    if probs.shape[1] != 2 or len(np.unique(y)) != 2:
        return None
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, thresholds = roc_curve(y, probs[:, 1])
    return {
        "fpr": fpr.tolist(),
        "tpr": tpr.tolist(),
        # sklearn starts with +inf ("predict nothing positive"), which JSON cannot hold.
        "thresholds": np.minimum(thresholds, 1.0).tolist(),
        "auc": float(roc_auc_score(y, probs[:, 1])),
    }


def classification_report(y_true: Any, outputs: Any, class_names: list[str]) -> dict[str, Any]:
    y = np.asarray(y_true, dtype=np.int64).ravel()
    pred, _ = predicted_classes(outputs)
    k = max(len(class_names), int(pred.max(initial=0)) + 1, int(y.max(initial=0)) + 1)
    names = list(class_names) + [str(i) for i in range(len(class_names), k)]
    rows = per_class(y, pred, names)
    out: dict[str, Any] = {
        "task": "classification",
        "accuracy": float((pred == y).mean()) if len(y) else 0.0,
        "class_names": names,
        "confusion_matrix": confusion_matrix(y, pred, k).tolist(),
        "per_class": rows,
        "macro_precision": float(np.mean([r["precision"] for r in rows])),
        "macro_recall": float(np.mean([r["recall"] for r in rows])),
        "macro_f1": float(np.mean([r["f1"] for r in rows])),
    }
    curve = roc(y, outputs)
    if curve is not None:
        out["auc"] = curve["auc"]
    return out


# ---- regression ------------------------------------------------------------------------------
def _flat(values: Any) -> np.ndarray:
    out = first_output(values).astype(np.float64)
    return out.reshape(len(out), -1)[:, 0]


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, Any]:
    """MAE, MSE, RMSE and R², with ``baseline_mse``: the error of always predicting the mean
    of ``y_true`` (R² > 0 exactly when the model beats it)."""
    y, p = _flat(y_true), _flat(y_pred)
    err = p - y
    mse = float(np.mean(err**2))
    baseline = float(np.var(y))
    return {
        "task": "regression",
        "mae": float(np.mean(np.abs(err))),
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "r2": 1.0 - mse / baseline if baseline > 0 else 0.0,
        "baseline_mse": baseline,
    }


def residuals(y_true: Any, y_pred: Any) -> dict[str, list[float]]:
    """Per sample: the prediction, the truth and the residual (truth - prediction)."""
    y, p = _flat(y_true), _flat(y_pred)
    return {"predicted": p.tolist(), "actual": y.tolist(), "residual": (y - p).tolist()}


def report(task: str, y_true: Any, outputs: Any, class_names: list[str]) -> dict[str, Any]:
    """The summary stored as a run's metrics.json."""
    if task == "regression":
        return regression_metrics(y_true, outputs)
    return classification_report(y_true, outputs, class_names)


# ---- runs ------------------------------------------------------------------------------------
@dataclass
class Evaluation:
    metrics: dict[str, Any]  # as report()
    x: np.ndarray  # the evaluated (scaled) samples, for galleries
    y_true: np.ndarray
    outputs: np.ndarray  # the model's raw outputs
    split: str
    dataset: Any  # the designer.data.Dataset (class names, feature names, transform)

    @property
    def mistakes(self) -> list[dict[str, Any]]:
        if self.metrics.get("task") == "regression":
            return []
        return most_confident_mistakes(self.y_true, self.outputs)

    @property
    def roc(self) -> dict[str, Any] | None:
        return None if self.metrics.get("task") == "regression" else roc(self.y_true, self.outputs)

    @property
    def residuals(self) -> dict[str, list[float]] | None:
        if self.metrics.get("task") != "regression":
            return None
        return residuals(self.y_true, self.outputs)


def load_run_model(run_dir: str | Path, which: str = "model") -> Any:
    """A run's ``model.keras`` (``which="model"``) or ``best.keras``, loaded in safe mode."""
    import keras

    path = Path(run_dir) / f"{which}.keras"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist (the run saved no {which} yet)")
    return keras.saving.load_model(path, safe_mode=True)


class RunModelError(DesignerError):
    """A run whose trained model cannot be read (none saved yet, or not a run at all)."""


def save_run_weights(design: Any, run_dir: str | Path, path: str | Path) -> Path:
    """The trained weights of a run as a sidecar of ``design`` at ``path`` (matched by node
    id, so a layer the run's design did not have starts fresh and is reported): what the
    deploy exports load into the design's inference model, which has no augmentation block."""
    try:
        model = load_run_model(run_dir)
    except (OSError, ValueError) as exc:
        why = one_line(exc)
        raise RunModelError(f"{run_dir}: not a run with a trained model ({why})") from None
    sidecar.save_model_weights(path, design, model)
    return Path(path)


def _run_json(run_dir: Path, name: str) -> dict:
    try:
        data = json.loads((run_dir / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def evaluate_run(
    run_dir: str | Path, *, which: str = "model", split: str = "test", model: Any = None
) -> Evaluation:
    """Evaluate a run's model on its data set, split the same way as in training."""
    from designer.data import load_dataset

    run_dir = Path(run_dir)
    design = _run_json(run_dir, "design.json")
    limit = _run_json(run_dir, "run.json").get("limit")
    data = load_dataset(design.get("data") or {}, limit=limit)
    x, y = {
        "test": (data.x_test, data.y_test),
        "validation": (data.x_val, data.y_val),
        "train": (data.x_train, data.y_train),
    }[split]
    model = model if model is not None else load_run_model(run_dir, which)
    outputs = model.predict(x, batch_size=256, verbose=0)
    outputs = first_output(outputs)
    metrics = report(data.info.task, y, outputs, data.info.class_names)
    return Evaluation(metrics, x, y, outputs, split, data)


def predict(model: Any, x: Any, *, dataset: Any = None, task: str | None = None) -> dict[str, Any]:
    """Run ``model`` on new samples. With ``dataset``, ``x`` is in file units (raw pixels,
    unscaled columns) and is scaled the way the training data was; its task decides whether
    the outputs are class probabilities or numbers (``task`` does without a data set)."""
    x = np.asarray(x)
    if dataset is not None:
        x = dataset.transform(x)
        if x.ndim == len(dataset.info.input_shape):
            x = x[None]  # one sample
        task = task or dataset.info.task
    outputs = model.predict(x, batch_size=256, verbose=0)
    outputs = first_output(outputs)
    if task == "regression":
        return {"outputs": outputs, "values": _flat(outputs)}
    classes, confidence = predicted_classes(outputs)
    return {
        "outputs": outputs,
        "probabilities": as_probabilities(outputs),
        "classes": classes,
        "confidence": confidence,
    }
