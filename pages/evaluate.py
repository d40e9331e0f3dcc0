"""Evaluate: how good is a trained model, where it errs, and trying it on a new input."""

import numpy as np
import streamlit as st

from designer.report import viz
from designer.report.evaluate import predict
from designer.text import one_line
from ui import evalview, forms, lookview, runs, state, trainview

state.show_flash()
ss = st.session_state
st.title("Evaluate")


def page(ids: list[str]) -> None:
    current = state.run_id()
    forms.follow("eval_run", ids, current)
    run_id = st.selectbox(
        "Run", ids, key="eval_run", help="Runs that finished and were measured on their test set"
    )
    metrics = evalview.metrics(run_id)
    trainview.headline(runs.snapshot(run_id))
    task = metrics.get("task")

    with st.spinner("Loading the model and measuring it on the test set…"):
        ev, why = evalview.evaluation(run_id)
    if ev is None:
        st.warning(f"The detailed analysis is not available: {why}", icon="⚠️")
    kind = ev.dataset.info.kind if ev is not None else None

    if task == "classification":
        left, right = st.columns([4, 3], gap="large")
        with left:
            normalize = st.toggle(
                "Row-normalised (each true class sums to 1)", key="eval_normalize"
            )
            st.plotly_chart(
                viz.confusion_figure(
                    metrics["confusion_matrix"], metrics["class_names"], normalize=normalize
                ),
                key="confusion",
            )
        with right:
            st.markdown("**Per class**")
            evalview.per_class_table(metrics.get("per_class", []), key="per_class")
            st.caption(
                "Precision: of the predicted X, how many are X. "
                "Recall: of the real X, how many were found."
            )
            if ev is not None and ev.roc is not None:
                st.plotly_chart(
                    viz.roc_figure(ev.roc["fpr"], ev.roc["tpr"], ev.roc["auc"]), key="roc"
                )
        if ev is not None and kind == "points2d":
            xs, ys, z = evalview.boundary(evalview.model(run_id), ev.dataset.x_train)
            whole, units = st.columns([3, 2], gap="medium")
            with units:
                trainview.neurons(evalview.unit_maps(run_id, ev.dataset.x_train), "eval_units")
            whole.plotly_chart(
                viz.decision_boundary_figure(
                    xs,
                    ys,
                    z,
                    ev.x,
                    ev.y_true,
                    ev.dataset.info.class_names,
                    "Decision boundary, test points on top",
                ),
                key="boundary",
            )
        if ev is not None and kind == "image":
            st.subheader("Most confident mistakes")
            images, titles = evalview.mistakes_gallery(ev)
            if len(images):
                looked = st.toggle(
                    "Show where the model looked for each wrong answer", key="mistakes_looked"
                )
                if looked:
                    indices = [m["index"] for m in ev.mistakes[: len(images)]]
                    images = lookview.gallery_overlays(run_id, ev, indices)
                st.plotly_chart(viz.image_grid_figure(images, titles, cols=8), key="mistakes")
                st.caption("true → predicted, and how sure the model was of its wrong answer")
            else:
                st.success("No mistakes on the test set.")
            lookview.section(ev, run_id)
    elif task == "regression":
        c = st.columns(3)
        c[0].metric("MSE", f"{metrics['mse']:.4g}")
        c[1].metric("Baseline MSE (always the mean)", f"{metrics['baseline_mse']:.4g}")
        c[2].metric(
            "Beats the baseline", "yes" if metrics["mse"] < metrics["baseline_mse"] else "no"
        )
        if ev is not None and ev.residuals:
            st.plotly_chart(
                viz.residuals_figure(ev.residuals["actual"], ev.residuals["predicted"]),
                key="residuals",
            )
    else:
        st.info("This run has no test metrics.")

    if ev is not None:
        try_it(ev, run_id)


def draw(ds, size: tuple[int, int]):
    """A pixel canvas: click, box or lasso over the squares to paint (or erase) them."""
    grid = np.asarray(ss.get("try_grid") or np.zeros(size), dtype=np.float32)
    if grid.shape != size:
        grid = np.zeros(size, dtype=np.float32)
    canvas, tools = st.columns([3, 2], gap="large")
    with tools:
        brush = st.radio("Brush", ["paint", "erase"], horizontal=True, key="try_brush")
        st.caption(
            "Drag a box over squares to paint a stroke, or click one square; the lasso "
            "(above the picture) paints curves. Dark squares are ink."
        )
        if not grid.any():
            st.info("Draw something: the model's answer appears below.")
        if st.button("Clear", key="try_clear"):
            grid = np.zeros(size, dtype=np.float32)
            ss["try_canvas_n"] = ss.get("try_canvas_n", 0) + 1
    with canvas:
        event = st.plotly_chart(
            viz.pixel_canvas_figure(grid),
            key=f"try_canvas_{ss.get('try_canvas_n', 0)}",
            on_select="rerun",
            selection_mode=("points", "box", "lasso"),
            width="content",
        )
    picked = list(getattr(getattr(event, "selection", None), "point_indices", None) or [])
    ss["try_grid"] = grid.tolist()
    if picked:
        ss["try_grid"] = evalview.paint(grid, picked, 1.0 if brush == "paint" else 0.0).tolist()
        ss["try_canvas_n"] = ss.get("try_canvas_n", 0) + 1  # a fresh canvas: no selection left
        st.rerun()
    return evalview.drawing_as_sample(grid, ds) if grid.any() else None


def try_it(ev, run_id: str) -> None:
    """Run the model on one new input: an uploaded picture, or an edited row of numbers."""
    kind = ev.dataset.info.kind
    st.divider()
    st.subheader("Try it")
    ds = ev.dataset
    sample = None
    if kind == "image":
        shape = tuple(ds.info.input_shape)
        drawable = len(shape) == 3 and shape[-1] == 1 and shape[0] * shape[1] <= 32 * 32
        sources = ["A test sample", "A picture"] + (["Draw"] if drawable else [])
        source = (
            st.segmented_control("Input", sources, key="try_source", default=sources[0])
            or sources[0]
        )
        if source == "Draw":
            sample = draw(ds, shape[:2])
        elif source == "A picture":
            a, _ = st.columns([1, 2])
            up = a.file_uploader(
                "A picture (PNG or JPEG)", type=["png", "jpg", "jpeg"], key="try_image"
            )
            a.radio("Invert colours", ["auto", "yes", "no"], horizontal=True, key="try_invert")
            if up is not None:
                try:
                    sample = evalview.image_from_upload(
                        up.getvalue(), ds, ss.get("try_invert", "auto")
                    )
                except Exception as exc:  # noqa: BLE001 - not a picture: a message
                    a.error(
                        f"{up.name} is not a picture this page can read ({type(exc).__name__}).",
                        icon="⚠️",
                    )
        else:
            idx = st.slider("Test sample", 0, len(ev.x) - 1, 0, key="try_index")
            sample = evalview.raw_units(ds, ev.x[idx])
    elif kind in ("tabular", "points2d"):
        import pandas as pd

        names = ds.feature_names or [f"x{i + 1}" for i in range(int(np.prod(ds.info.input_shape)))]
        start = evalview.raw_units(ds, ev.x[:1].reshape(1, -1))
        row = st.data_editor(
            pd.DataFrame(start, columns=names[: start.shape[1]]), key="try_row", hide_index=True
        )
        sample = row.to_numpy(dtype=np.float32)[0]
    else:
        st.caption("Trying new inputs is available for images, tables and 2-D points.")
    if sample is not None:
        try:
            out = predict(evalview.model(run_id), sample, dataset=ds)
        except Exception as exc:  # noqa: BLE001 - a wrong input is a message
            st.error(
                f"The model could not run on this input: {one_line(exc, 200)}",
                icon="⚠️",
            )
        else:
            p1, p2 = st.columns([1, 2])
            if kind == "image":
                p1.plotly_chart(
                    viz.image_grid_figure(ds.transform(sample[None]), cols=1), key="try_shown"
                )
            if "probabilities" in out:
                name = ds.info.class_names[int(out["classes"][0])]
                p1.metric("Prediction", name, f"{out['confidence'][0]:.0%} sure", delta_color="off")
                p2.plotly_chart(
                    viz.probabilities_figure(out["probabilities"][0], ds.info.class_names),
                    key="try_probs",
                )
            else:
                p1.metric("Prediction", f"{float(out['values'][0]):.4g}")


ids = evalview.evaluated_runs()
if ids:
    page(ids)
elif runs.is_active(runs.snapshot(state.run_id())):
    st.info("A run is training: its results appear here when it finishes (see **Train**).")
else:
    st.info(
        "No trained model yet: go to **Train**, press **▶ Start**, "
        "and come back when it has finished."
    )
