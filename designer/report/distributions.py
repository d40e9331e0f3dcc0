"""Activations and gradients over time (TensorBoard's "distributions"), and what they say.

After every epoch the runner measures, on one fixed batch of training samples: each layer's
output values (a histogram, and the share of its units that output zero for every sample:
dead ReLUs) and the gradient of the loss with respect to the layer's weights (its norm, and a
histogram of the values). :func:`hints` turns the latest epoch into plain words when a layer's
activations collapsed or its gradients vanished.

Keras and TensorFlow are imported inside: the module is light to import for the pages.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BINS = 24
PROBE = 256  # samples measured each epoch: enough for a histogram, cheap next to an epoch
DEAD_SHARE = 0.5  # a layer with more dead units than this gets a hint
VANISH_RATIO = 1e-3  # a layer whose gradient norm is this much below the largest one's


def _histogram(values: np.ndarray) -> tuple[list[float], list[int]]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return [0.0, 0.0], [0]
    low, high = float(values.min()), float(values.max())
    if high <= low:
        high = low + 1e-6
    counts, edges = np.histogram(values, bins=BINS, range=(low, high))
    return [round(float(e), 6) for e in edges], counts.astype(int).tolist()


def dead_share(outputs: np.ndarray) -> float:
    """The share of units (last axis) that are exactly zero for every sample and position."""
    flat = np.asarray(outputs).reshape(-1, np.asarray(outputs).shape[-1])
    return float(np.mean(np.all(flat == 0, axis=0))) if flat.size else 0.0


class LayerProbe:
    """Measures one model's layers on a fixed batch ``x`` (with ``y`` encoded for its loss)."""

    def __init__(self, model: Any, x: np.ndarray, y: np.ndarray):
        import keras

        self.model = model
        self.x, self.y = x[:PROBE], y[:PROBE]
        self.layers = [
            layer
            for layer in model.layers
            if not isinstance(layer, keras.layers.InputLayer) and _float_output(layer)
        ]
        # One forward pass gives every layer's output and the model's (for the loss).
        self._outputs = keras.Model(
            model.inputs, [*(layer.output for layer in self.layers), model.outputs[0]]
        )

    def measure(self) -> dict[str, dict[str, Any]]:
        """{layer name: {"edges", "counts", "dead", "grad_norm", "grad_edges", "grad_counts"}}
        (the gradient entries are None for a layer without trainable weights)."""
        import keras
        import tensorflow as tf

        weights = [w for layer in self.layers for w in layer.trainable_weights]
        with tf.GradientTape() as tape:
            *outs, y_pred = self._outputs(self.x, training=False)
            loss = self.model.compute_loss(x=self.x, y=self.y, y_pred=y_pred, training=False)
        grads = dict(zip((id(w) for w in weights), tape.gradient(loss, weights)))
        found = {}
        for layer, out in zip(self.layers, outs):
            values = np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float64)
            edges, counts = _histogram(values.ravel())
            entry: dict[str, Any] = {
                "edges": edges,
                "counts": counts,
                "dead": round(dead_share(values), 4),
                "grad_norm": None,
                "grad_edges": None,
                "grad_counts": None,
            }
            mine = [grads.get(id(w)) for w in layer.trainable_weights]
            mine = [np.asarray(g, dtype=np.float64).ravel() for g in mine if g is not None]
            if mine:
                flat = np.concatenate(mine)
                entry["grad_norm"] = float(np.sqrt(np.sum(flat**2)))
                entry["grad_edges"], entry["grad_counts"] = _histogram(flat)
            found[layer.name] = entry
        return found


def _float_output(layer: Any) -> bool:
    try:
        return "float" in str(layer.output.dtype)
    except (AttributeError, ValueError):  # a layer used twice, or with several outputs
        return False


def hints(layers: dict[str, dict[str, Any]]) -> list[str]:
    """Plain-words warnings about one epoch's measurements (empty when all looks healthy)."""
    out = []
    for name, entry in layers.items():
        dead = entry.get("dead") or 0.0
        if dead > DEAD_SHARE:
            out.append(
                f"**{name}**: {dead:.0%} of its units output zero for every sample (dead "
                "ReLUs): they no longer learn. Try a lower learning rate, LeakyReLU, or "
                "BatchNormalization before the activation."
            )
    norms = {n: e["grad_norm"] for n, e in layers.items() if e.get("grad_norm") is not None}
    largest = max(norms.values(), default=0.0)
    if largest > 0:
        for name, norm in norms.items():
            if norm <= 1e-12 * largest:
                out.append(
                    f"**{name}**: no gradient reaches it, so it does not learn at all (a layer "
                    "after it that outputs only zeros blocks them, or it is cut off)."
                )
            elif norm < VANISH_RATIO * largest:
                out.append(
                    f"**{name}**: its gradients are {largest / max(norm, 1e-30):,.0f}× smaller "
                    "than the largest layer's (vanishing gradients): it barely learns. Try ReLU "
                    "instead of sigmoid or tanh, BatchNormalization, or skip connections."
                )
    return out
