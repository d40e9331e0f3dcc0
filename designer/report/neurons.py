"""Every hidden unit of a model on 2-D data, as a map over the plane (TensorFlow Playground's
picture): for each hidden Dense layer, each unit's activation at every point of a grid, with
the unit's incoming weights and bias for the hover text.

The runner streams these maps with each epoch (``designer.training.callbacks.DecisionGrid``),
and the Evaluate page draws the same maps from the trained model, through :class:`UnitProbe`.
Keras is imported inside: the module is light to import.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_UNITS = 32  # units per layer sent along (a page shows 8 at first, the rest on request)
SIZE = 25  # grid points per axis: coarser than the boundary, 32 maps stay small


def grid_axes(x: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid coordinates over 2-D points, a tenth of their range wider on every side."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = (hi - lo) * 0.1 + 1e-6
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], size, dtype=np.float32)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], size, dtype=np.float32)
    return xs, ys


def grid_points(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    gx, gy = np.meshgrid(xs, ys)
    return np.c_[gx.ravel(), gy.ravel()].astype(np.float32)


def hidden_dense_layers(model: Any) -> list:
    """The Dense layers of ``model`` that do not give one of its outputs, in model order."""
    import keras

    outputs = {id(t) for t in model.outputs}
    return [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.Dense) and id(layer.output) not in outputs
    ]


class UnitProbe:
    """Reads the hidden Dense layers of one model (built once, called every epoch)."""

    def __init__(self, model: Any, max_units: int = MAX_UNITS):
        import keras

        self.layers = hidden_dense_layers(model)
        self.max_units = max_units
        self._model = (
            keras.Model(model.inputs[0], [layer.output for layer in self.layers])
            if self.layers
            else None
        )

    def maps(self, xs: np.ndarray, ys: np.ndarray) -> list[dict[str, Any]]:
        """Per hidden layer: {"layer", "units" (all of them), "activation", "maps" [unit][y][x]
        for the first ``max_units``, "weights" [unit][input], "bias" [unit]}."""
        if self._model is None:
            return []
        import keras

        # A direct call, not predict: a few hundred points, predict's set-up would cost more.
        outs = self._model(grid_points(xs, ys), training=False)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        found = []
        for layer, out in zip(self.layers, outs):
            values = np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float64)
            units = int(values.shape[-1])
            k = min(units, self.max_units)
            kernel, *rest = layer.get_weights()
            bias = rest[0] if rest else np.zeros(units)
            found.append(
                {
                    "layer": layer.name,
                    "units": units,
                    "activation": keras.activations.serialize(layer.activation),
                    "maps": np.round(values[:, :k].T.reshape(k, len(ys), len(xs)), 4).tolist(),
                    "weights": np.round(np.asarray(kernel)[:, :k].T, 4).tolist(),
                    "bias": np.round(np.asarray(bias)[:k], 4).tolist(),
                }
            )
        return found


def activation_name(entry: dict[str, Any]) -> str:
    """The layer's activation in words ("relu", "tanh"...), whatever Keras serialised."""
    act = entry.get("activation")
    if isinstance(act, dict):
        act = act.get("config", {}).get("name") or act.get("class_name")
    return str(act or "linear")
