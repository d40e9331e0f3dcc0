"""Compile settings: the design's ``compile`` section, completed with defaults that fit the task.

The trainer, the code generator and the UI all call :func:`resolve` so they agree on the loss,
optimizer and metrics a design actually uses.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from designer.design import compile_catalog
from designer.design.params import check_params
from designer.design.spec import CompileSpec, Design


def infer_task(design: Design, task: str | None = None) -> str:
    """``classification``, ``binary`` or ``regression`` from the data set's task and the output.

    ``task`` is the data set's (``classification``, ``regression``, ``text``) when known.
    A single sigmoid unit means binary classification whatever the data set says.
    """
    outputs = design.output_ids()
    out = design.node(outputs[0]) if outputs and outputs[0] in design.node_ids() else None
    activation = out.params.get("activation") if out else None
    units = out.params.get("units") if out else None
    if activation == "sigmoid" and units == 1:
        return "binary"
    if task == "regression":
        return "regression"
    if task in ("classification", "text"):
        return "classification"
    return "classification" if activation == "softmax" else "regression"


DEFAULTS = {  # task -> (loss, metrics); the one table of default compile settings
    "classification": ("sparse_categorical_crossentropy", ["accuracy"]),
    "binary": ("binary_crossentropy", ["accuracy"]),
    "regression": ("mean_squared_error", ["mae"]),
}


def resolve(design: Design, task: str | None = None) -> CompileSpec:
    """The design's compile settings with every gap filled for its task."""
    c = design.compile
    kind = infer_task(design, task)
    loss, metrics = DEFAULTS[kind]
    return replace(
        c,
        loss=c.loss or loss,
        metrics=list(c.metrics) if c.metrics is not None else list(metrics),
        optimizer_params=dict(c.optimizer_params),
    )


def problems(c: CompileSpec) -> list[tuple[str, str]]:
    """Problems with compile settings, reported against the pseudo node ``compile``."""
    out: list[tuple[str, str]] = []
    if c.loss is not None and c.loss not in compile_catalog.LOSSES:
        out.append(
            ("compile", f"unknown loss {c.loss!r} (known: {', '.join(compile_catalog.LOSSES)})")
        )
    opt = compile_catalog.OPTIMIZERS.get(c.optimizer)
    if opt is None:
        out.append(
            (
                "compile",
                f"unknown optimizer {c.optimizer!r} "
                f"(known: {', '.join(compile_catalog.OPTIMIZERS)})",
            )
        )
    else:
        out += [("compile", f"optimizer {p}") for p in check_params(opt.params, c.optimizer_params)]
    for m in c.metrics or []:
        if m not in compile_catalog.METRICS:
            out.append(
                ("compile", f"unknown metric {m!r} (known: {', '.join(compile_catalog.METRICS)})")
            )
    return out


# Metrics Keras knows only as classes; the rest are passed as their string names.
METRIC_CLASSES = {
    "auc": "AUC",
    "precision": "Precision",
    "recall": "Recall",
    "rmse": "RootMeanSquaredError",
}


def optimizer_kwargs(c: CompileSpec) -> dict[str, Any]:
    opt = compile_catalog.OPTIMIZERS[c.optimizer]
    return {
        p.name: p.to_keras(c.optimizer_params[p.name])
        for p in opt.params
        if p.name in c.optimizer_params
    }
