"""Evaluate → Where the model looks: Grad-CAM, saliency and integrated gradients for a test
sample and over the mistakes gallery. :mod:`designer.report.explain` does the work; each
explanation is cached per run (and its model file's time), sample, method, class and layer,
so moving between samples and back costs nothing."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from designer.report import explain as ex
from designer.report import viz
from ui import evalview

HOW = {
    "gradcam": "Grad-CAM: which parts of the last convolution layer's feature maps raise the "
    "class's score, mapped back onto the picture (coarse: that layer's resolution).",
    "saliency": "Saliency: how much the class's score changes when each pixel changes a "
    "little (sharp, often noisy).",
    "integrated-gradients": "Integrated gradients: each pixel's share of the score, summed "
    "along the way from a black picture to this one (sharp and steadier than saliency).",
}


@st.cache_data(show_spinner=False, max_entries=512)
def _explained(
    run_id: str, stamp: float, index: int, method: str, class_index: int | None, layer: str | None
) -> ex.Explanation:
    ev, _ = evalview.evaluation(run_id)
    model = evalview.model(run_id)
    return ex.explain(model, ev.x[index], method, class_index=class_index, layer=layer)


def explained(run_id: str, index: int, method: str, class_index=None, layer=None):
    return _explained(run_id, evalview.stamp(run_id), int(index), method, class_index, layer)


def default_method(run_id: str) -> str:
    return "gradcam" if ex.conv_layers(evalview.model(run_id)) else "saliency"


def true_class(ev: Any, index: int) -> int:
    y = np.asarray(ev.y_true[index]).reshape(-1)
    return int(y.argmax()) if y.size > 1 else int(y[0])


def gallery_overlays(run_id: str, ev: Any, indices: list[int]) -> np.ndarray:
    """The mistakes gallery's pictures with where the model looked for its (wrong) answer."""
    method = default_method(run_id)
    return np.stack([ex.blend(ev.x[i], explained(run_id, i, method).heatmap) for i in indices])


def section(ev: Any, run_id: str) -> None:
    st.subheader("Where the model looks")
    model = evalview.model(run_id)
    convs = ex.conv_layers(model)
    names = list(ev.dataset.info.class_names)
    c1, c2, c3, c4 = st.columns([4, 2, 2, 2])
    method = c1.segmented_control(
        "Method",
        ex.METHODS,
        format_func=ex.TITLES.get,
        key="look_method",
        default=default_method(run_id),
    ) or default_method(run_id)
    index = int(c2.number_input("Test sample", 0, len(ev.x) - 1, 0, key="look_index"))
    pick = c3.selectbox("Class", ["the predicted one", *names], key="look_class")
    layer = None
    if method == "gradcam" and convs:
        layer = c4.selectbox("Layer", convs, index=len(convs) - 1, key="look_layer")
    class_index = None if pick == "the predicted one" else names.index(pick)
    try:
        with st.spinner("Following the gradients…"):
            found = explained(run_id, index, method, class_index, layer)
    except ex.ExplainError as exc:
        st.info(f"{ex.TITLES[method]} does not apply here: {exc}")
        return
    sample = ev.x[index]
    explained_name = names[found.class_index] if found.class_index < len(names) else "output"
    titles = [
        f"test sample {index} · true {names[true_class(ev, index)]}",
        f"{ex.TITLES[method]} · {explained_name} {found.probability:.0%}",
    ]
    fig = viz.image_grid_figure(
        np.stack([ex.base_rgb(sample), ex.blend(sample, found.heatmap)]), titles, cols=2
    )
    fig.update_layout(height=360)
    left, right = st.columns([3, 2], gap="large")
    left.plotly_chart(fig, key="look_figure")
    right.caption(HOW[method])
    right.caption(
        "Red and yellow: where the answer came from; blue or clear: what the model ignored. "
        "Pick another class to see what speaks for it."
    )
