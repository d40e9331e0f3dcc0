"""Where an image model looks: Grad-CAM, vanilla gradient saliency and integrated gradients.

Each method returns a heatmap of the input's height × width: non-negative floats (any scale; the
pictures normalise them). They are computed with ``tf.GradientTape`` on the trained model,
for one sample and one class (the predicted one unless asked):

* **Grad-CAM** (Selvaraju et al., 2017): the feature maps of a convolution layer (the last one
  unless asked), weighted by the mean gradient of the class score over each map, summed over
  the channels, negative parts cut, resized to the input.
* **saliency** (Simonyan et al., 2014): the absolute gradient of the class score with respect
  to each input pixel, the largest over the colour channels.
* **integrated gradients** (Sundararajan et al., 2017): the gradients averaged along the
  straight path from a black image to the input, times the input's difference to it; the
  absolute value, summed over the channels.

A method that does not apply to the model (no convolution layer for Grad-CAM, an input that is
not an image) raises :class:`ExplainError` with one line that says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from designer.errors import DesignerError
from designer.report import pictures

METHODS = ("gradcam", "saliency", "integrated-gradients")
TITLES = {
    "gradcam": "Grad-CAM",
    "saliency": "Saliency (gradient)",
    "integrated-gradients": "Integrated gradients",
}
IG_STEPS = 32  # points on the path from the black image: enough for a smooth picture


class ExplainError(DesignerError):
    """The method does not apply to this model or sample (one line that says why)."""


@dataclass
class Explanation:
    method: str
    heatmap: np.ndarray  # height × width, non-negative
    class_index: int  # the class explained (0 for a model with one output number)
    probability: float | None  # the model's output for that class
    layer: str | None  # Grad-CAM's layer


def image_shape(model: Any) -> tuple[int, int, int]:
    """The model's input as (height, width, channels); ExplainError when it is no image."""
    if len(model.inputs) != 1:
        raise ExplainError(f"the model has {len(model.inputs)} inputs; explaining needs one")
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or None in shape:
        raise ExplainError(
            f"the model's input {shape} is not an image (height, width, channels): "
            "these pictures are for image models"
        )
    return shape  # type: ignore[return-value]


def conv_layers(model: Any) -> list[str]:
    """Layers whose output is a stack of feature maps (convolutions, and nested models such as
    a pretrained base), in model order: Grad-CAM's candidates."""
    import keras

    kinds = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)
    out = []
    for layer in model.layers:
        if isinstance(layer, kinds) or isinstance(layer, keras.Model):
            try:
                rank = len(layer.output.shape)
            except (AttributeError, ValueError):
                continue
            if rank == 4:
                out.append(layer.name)
    return out


def _score(outputs: Any, class_index: int) -> Any:
    first = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
    return first[:, class_index]


def _outputs_count(model: Any) -> int:
    shape = model.outputs[0].shape
    return int(shape[-1]) if len(shape) > 1 and shape[-1] else 1


def _gradcam(model: Any, x: Any, class_index: int, layer: str) -> np.ndarray:
    import keras
    import tensorflow as tf

    grad_model = keras.Model(model.inputs[0], [model.get_layer(layer).output, model.outputs[0]])
    with tf.GradientTape() as tape:
        maps, outputs = grad_model(x, training=False)
        score = _score(outputs, class_index)
    grads = tape.gradient(score, maps)
    if grads is None:
        raise ExplainError(f"the class score does not depend on layer {layer!r}")
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(maps * weights, axis=-1))[0]
    height, width = int(x.shape[1]), int(x.shape[2])
    resized = tf.image.resize(cam[..., None], (height, width), method="bilinear")[..., 0]
    return np.maximum(resized.numpy(), 0.0)


def _input_gradients(model: Any, x: Any, class_index: int) -> np.ndarray:
    import tensorflow as tf

    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = _score(model(x, training=False), class_index)
    return tape.gradient(score, x).numpy()


def _integrated(model: Any, x: np.ndarray, class_index: int, steps: int) -> np.ndarray:
    baseline = np.zeros_like(x)
    alphas = (np.arange(steps, dtype=np.float32) + 0.5) / steps  # midpoints of the path
    path = baseline + alphas[:, None, None, None] * (x - baseline)
    grads = _input_gradients(model, path.astype(np.float32), class_index)
    attribution = (x - baseline)[0] * grads.mean(axis=0)
    return np.abs(attribution).sum(axis=-1)


def explain(
    model: Any,
    sample: np.ndarray,
    method: str,
    *,
    class_index: int | None = None,
    layer: str | None = None,
    steps: int = IG_STEPS,
) -> Explanation:
    """Explain ``model``'s answer for one ``sample`` (model-ready, height × width × channels)."""
    if method not in METHODS:
        raise ExplainError(f"unknown method {method!r} (known: {', '.join(METHODS)})")
    shape = image_shape(model)
    x = np.asarray(sample, dtype=np.float32)
    if x.shape != shape:
        raise ExplainError(f"the sample's shape {x.shape} is not the model's input {shape}")
    x = x[None]
    import keras

    # One input tensor in, the first output out: calls match its structure (no warning for a
    # model saved with a list of inputs), and several outputs need no special case below.
    model = keras.Model(model.inputs[0], model.outputs[0])
    outputs = model.predict(x, verbose=0)
    first = np.asarray(outputs[0] if isinstance(outputs, (list, tuple)) else outputs)[0]
    n = _outputs_count(model)
    if class_index is None:
        class_index = int(np.argmax(first)) if n > 1 else 0
    if not 0 <= class_index < n:
        raise ExplainError(f"class {class_index} is out of range: the model has {n} outputs")
    chosen = None
    if method == "gradcam":
        candidates = conv_layers(model)
        if layer is None:
            if not candidates:
                raise ExplainError(
                    "Grad-CAM needs a convolution layer, and this model has none "
                    "(saliency and integrated gradients work on any image model)"
                )
            chosen = candidates[-1]
        elif layer not in candidates:
            known = ", ".join(candidates) or "none"
            raise ExplainError(
                f"layer {layer!r} gives no feature maps for Grad-CAM (layers that do: {known})"
            )
        else:
            chosen = layer
        heatmap = _gradcam(model, x, class_index, chosen)
    elif method == "saliency":
        heatmap = np.abs(_input_gradients(model, x, class_index)[0]).max(axis=-1)
    else:
        heatmap = _integrated(model, x, class_index, steps)
    return Explanation(
        method,
        np.asarray(heatmap, dtype=np.float32),
        class_index,
        float(first[class_index]),
        chosen,
    )


def class_from_text(text: str | None, class_names: list[str]) -> int | None:
    """``--class``: a class index or one of the data set's class names (None: predicted)."""
    if text is None or text == "":
        return None
    if text in class_names:
        return class_names.index(text)
    try:
        return int(text)
    except ValueError:
        known = ", ".join(class_names[:12]) + (" ..." if len(class_names) > 12 else "")
        raise ExplainError(f"unknown class {text!r} (an index or one of: {known})") from None


def base_rgb(sample: np.ndarray) -> np.ndarray:
    """A model-ready image as RGB in 0..1, stretched; grey images with dark ink on white, as
    the app's galleries show them."""
    img = np.asarray(sample, dtype=np.float32)
    low, high = float(img.min()), float(img.max())
    img = (img - low) / (high - low) if high > low else np.zeros_like(img)
    if img.shape[-1] == 1:
        return np.repeat(1.0 - img, 3, axis=-1)
    return img[..., :3]


def blend(sample: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """The heatmap over the image (RGB, 0..1): jet colours, as opaque as the heat is strong,
    so the parts the model ignored stay visible as they are."""
    from matplotlib import colormaps

    heat = np.asarray(heatmap, dtype=np.float32)
    heat = heat / heat.max() if heat.max() > 0 else heat
    colours = colormaps["jet"](heat)[..., :3]
    alpha = 0.7 * heat[..., None]
    return (1 - alpha) * base_rgb(sample) + alpha * colours


def overlay_png(sample: np.ndarray, explanation: Explanation, caption: str) -> bytes:
    """The input beside the input with the heatmap over it, as PNG bytes."""
    fig = pictures.new_figure(6.4, 3.6, 100)
    shown = (base_rgb(sample), blend(sample, explanation.heatmap))
    for i, (title, img) in enumerate(zip(("Input", TITLES[explanation.method]), shown)):
        ax = fig.add_subplot(1, 2, i + 1)
        ax.imshow(img, interpolation="nearest")
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    fig.suptitle(caption, fontsize=10)
    return pictures.png_bytes(fig, bbox_inches="tight")
