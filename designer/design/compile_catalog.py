"""The compile catalog: the losses, optimizers (with their hyperparameters) and metrics a design
can name, declared once for the forms, validation, the trainer, the code generator and the importer.

Like the layer catalog, importing it does not import Keras.
"""

from __future__ import annotations

from dataclasses import dataclass

from designer.design.params import ParamSpec as P


@dataclass(frozen=True)
class Choice:
    name: str  # the Keras identifier used in model.compile / the class name for optimizers
    help: str
    task: str = "any"  # classification | binary | regression | any
    params: tuple[P, ...] = ()


_LR = P("learning_rate", "float", 0.001, "Step size of each update", min=1e-7, max=10.0)

LOSSES: dict[str, Choice] = {
    c.name: c
    for c in (
        Choice(
            "sparse_categorical_crossentropy", "Classes given as integers 0..n-1", "classification"
        ),
        Choice("categorical_crossentropy", "Classes given as one-hot vectors", "classification"),
        Choice("binary_crossentropy", "Two classes with one sigmoid output", "binary"),
        Choice("mean_squared_error", "Regression: squared error (MSE)", "regression"),
        Choice("mean_absolute_error", "Regression: absolute error (MAE)", "regression"),
        Choice("huber", "Regression: MSE near zero, MAE far away", "regression"),
        Choice("log_cosh", "Regression: smooth, robust to outliers", "regression"),
        Choice("kl_divergence", "Distance between probability distributions", "classification"),
        Choice("hinge", "Margin loss for labels -1/1", "binary"),
    )
}

OPTIMIZERS: dict[str, Choice] = {
    c.name: c
    for c in (
        Choice(
            "Adam",
            "Adaptive steps; a good default",
            params=(
                _LR,
                P("beta_1", "float", 0.9, "Decay of the first moment", min=0.0, max=0.9999),
                P("beta_2", "float", 0.999, "Decay of the second moment", min=0.0, max=0.99999),
            ),
        ),
        Choice(
            "AdamW",
            "Adam with decoupled weight decay",
            params=(_LR, P("weight_decay", "float", 0.004, "Weight decay", min=0.0, max=1.0)),
        ),
        Choice(
            "SGD",
            "Plain gradient descent, optionally with momentum",
            params=(
                P("learning_rate", "float", 0.01, "Step size of each update", min=1e-7, max=10.0),
                P("momentum", "float", 0.0, "Keeps part of the previous step", min=0.0, max=0.9999),
                P("nesterov", "bool", False, "Nesterov momentum"),
            ),
        ),
        Choice(
            "RMSprop",
            "Adaptive steps; common for RNNs",
            params=(
                _LR,
                P(
                    "rho",
                    "float",
                    0.9,
                    "Decay of the squared-gradient average",
                    min=0.0,
                    max=0.9999,
                ),
            ),
        ),
        Choice("Adagrad", "Per-weight steps that shrink over time", params=(_LR,)),
        Choice("Adadelta", "Adagrad without a fixed learning rate", params=(_LR,)),
        Choice("Adamax", "Adam with the infinity norm", params=(_LR,)),
        Choice("Nadam", "Adam with Nesterov momentum", params=(_LR,)),
    )
}

METRICS: dict[str, Choice] = {
    c.name: c
    for c in (
        Choice("accuracy", "Fraction of correct predictions", "classification"),
        Choice("top_k_categorical_accuracy", "Right class among the top 5", "classification"),
        Choice("auc", "Area under the ROC curve", "binary"),
        Choice("precision", "Of the predicted positives, how many are right", "binary"),
        Choice("recall", "Of the real positives, how many are found", "binary"),
        Choice("mae", "Mean absolute error", "regression"),
        Choice("mse", "Mean squared error", "regression"),
        Choice("rmse", "Root mean squared error", "regression"),
    )
}
