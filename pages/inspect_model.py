"""Inspect: what a trained model learned — weights, Dense kernels, conv filters, feature maps."""

import streamlit as st

from designer.report import viz
from designer.text import one_line
from ui import evalview, forms, inspectview, state

state.show_flash()
st.title("Inspect")


def weights_panel(model, layers: list) -> None:
    names = [layer.name for layer in layers]
    left, right = st.columns([1, 3], gap="large")
    with left:
        name = st.radio(
            "Layer",
            names,
            key="inspect_layer",
            format_func=lambda n: f"{n} · {type(layers[names.index(n)]).__name__}",
        )
    layer = layers[names.index(name)]
    with right:
        weights = inspectview.weights_of(layer)
        st.markdown(
            f"**{layer.name}** · {type(layer).__name__} · "
            f"{sum(w.size for _, w in weights):,} weights"
        )
        cols = st.columns(min(2, len(weights)) or 1)
        for i, (wname, w) in enumerate(weights[:4]):
            colour = viz.TRAIN_COLOUR if i % 2 == 0 else viz.VAL_COLOUR
            title = f"{wname} {tuple(w.shape)} · mean {w.mean():.3g}, std {w.std():.3g}"
            cols[i % len(cols)].plotly_chart(
                viz.histogram_figure(w, title, colour=colour), key=f"hist_{i}"
            )
        kernel = inspectview.kernel_2d(layer)
        if kernel is not None:
            st.plotly_chart(
                viz.heatmap_figure(
                    kernel,
                    "Kernel: one row per input, one column per unit",
                    x_title="unit",
                    y_title="input",
                ),
                key="kernel_heatmap",
            )
        units = inspectview.unit_images(model, layer)
        if units is not None:
            st.plotly_chart(
                viz.image_grid_figure(
                    units,
                    [f"unit {i}" for i in range(len(units))],
                    cols=8,
                    diverging=True,
                    title="What each unit looks for: its weights on the input image",
                ),
                key="unit_images",
            )
            st.caption("Blue pixels push the unit up, red pixels push it down.")
        filters = inspectview.conv_filters(layer)
        if filters is not None:
            st.plotly_chart(
                viz.image_grid_figure(
                    filters,
                    [f"#{i}" for i in range(len(filters))],
                    cols=8,
                    title="Filters (averaged over input channels)",
                ),
                key="filters",
            )


def feature_maps_panel(model, run_id: str) -> None:
    convs = inspectview.conv_layers(model)
    if not convs:
        return
    st.divider()
    st.subheader("Feature maps")
    ev, why = evalview.evaluation(run_id)
    if ev is None:
        st.warning(f"No samples to show: {why}", icon="⚠️")
        return
    idx = st.slider("Test sample", 0, len(ev.x) - 1, 0, key="inspect_sample")
    s1, s2 = st.columns([1, 4])
    label = ev.dataset.info.class_names[int(ev.y_true[idx])] if ev.dataset.info.class_names else ""
    s1.plotly_chart(
        viz.image_grid_figure(ev.x[idx : idx + 1], [f"class {label}"], cols=1), key="fm_sample"
    )
    with s2:
        try:
            maps = inspectview.feature_maps(model, ev.x[idx], convs)
        except Exception as exc:  # noqa: BLE001 - e.g. a model without a functional graph
            st.warning(
                f"Feature maps are not available for this model ({type(exc).__name__}).", icon="⚠️"
            )
            return
        for i, (lname, fm) in enumerate(maps):
            st.plotly_chart(
                viz.image_grid_figure(fm, cols=8, title=f"{lname}: {fm.shape[0]} of its channels"),
                key=f"fm_{i}",
            )


def page(ids: list[str]) -> None:
    forms.follow("inspect_run", ids, state.run_id())
    run_id = st.selectbox("Run", ids, key="inspect_run")
    with st.spinner("Loading the model…"):
        try:
            model = evalview.model(run_id)
        except Exception as exc:  # noqa: BLE001 - a missing or broken file is a message
            st.error(
                f"The model of {run_id} could not be loaded: {one_line(exc, 300)}",
                icon="⚠️",
            )
            return
    layers = inspectview.weighted_layers(model)
    if not layers:
        st.info("This model has no weights to show.")
        return
    weights_panel(model, layers)
    feature_maps_panel(model, run_id)


ids = evalview.evaluated_runs()
if ids:
    page(ids)
else:
    st.info("No trained model yet: train one on the **Train** page first.")
