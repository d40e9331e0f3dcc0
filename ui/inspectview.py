"""Inspect helpers: a trained model's layers, weights, filters and feature maps (numpy out)."""

from __future__ import annotations

from typing import Any

import numpy as np


def weighted_layers(model: Any) -> list[Any]:
    """Layers that hold weights, in model order (nested bases count as one)."""
    return [layer for layer in model.layers if layer.weights]


def weights_of(layer: Any) -> list[tuple[str, np.ndarray]]:
    """(short name, array) of every weight: ``kernel``, ``bias``, ``gamma``..."""
    out = []
    for w in layer.weights:
        name = w.path.rsplit("/", 1)[-1] if hasattr(w, "path") else w.name
        out.append((name, np.asarray(w.numpy() if hasattr(w, "numpy") else w)))
    return out


def kernel_2d(layer: Any) -> np.ndarray | None:
    """A Dense kernel (inputs × units), or None."""
    if type(layer).__name__ != "Dense":
        return None
    k = dict(weights_of(layer)).get("kernel")
    return k if k is not None and k.ndim == 2 else None


def unit_images(model: Any, layer: Any, limit: int = 32) -> np.ndarray | None:
    """What each unit of a Dense right after a Flatten of images looks for: its weights laid
    out as the image (units, h, w) — the classic picture of a digit classifier's neurons."""
    kernel = kernel_2d(layer)
    if kernel is None:
        return None
    try:
        before = next(p for p in model.layers if p.output is layer.input)
        shape = tuple(before.input.shape[1:])
    except (StopIteration, AttributeError, ValueError):  # several inputs, nested models...
        return None
    if type(before).__name__ != "Flatten" or len(shape) != 3 or shape[-1] != 1:
        return None
    if int(np.prod(shape)) != kernel.shape[0]:
        return None
    h, w, _ = shape
    return kernel.T.reshape(-1, h, w)[:limit]


def conv_filters(layer: Any, limit: int = 32) -> np.ndarray | None:
    """Conv2D kernels as images (filters, kh, kw[, 3]): RGB when the input has 3 channels."""
    if type(layer).__name__ not in (
        "Conv2D",
        "SeparableConv2D",
        "DepthwiseConv2D",
        "Conv2DTranspose",
    ):
        return None
    k = dict(weights_of(layer)).get("kernel")
    if k is None or k.ndim != 4:
        return None
    if type(layer).__name__ == "Conv2DTranspose":
        k = np.transpose(k, (0, 1, 3, 2))
    kh, kw, cin, cout = k.shape
    if cin == 3:
        return np.transpose(k, (3, 0, 1, 2))[:limit]
    return np.transpose(k.mean(axis=2), (2, 0, 1))[:limit]


def conv_layers(model: Any) -> list[Any]:
    return [
        layer
        for layer in model.layers
        if type(layer).__name__
        in ("Conv2D", "SeparableConv2D", "DepthwiseConv2D", "MaxPooling2D", "AveragePooling2D")
    ]


def feature_maps(
    model: Any, sample: np.ndarray, layers: list[Any], channels: int = 16
) -> list[tuple[str, np.ndarray]]:
    """Each layer's output for one sample: (layer name, (channels, h, w))."""
    import keras

    if not layers:
        return []
    probe = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in layers])
    outs = probe.predict(np.asarray(sample)[None], verbose=0)
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    result = []
    for layer, out in zip(layers, outs):
        a = np.asarray(out)[0]
        if a.ndim == 3:
            result.append((layer.name, np.transpose(a, (2, 0, 1))[:channels]))
    return result
