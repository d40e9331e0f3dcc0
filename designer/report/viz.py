"""Plotly figure builders: training curves, confusion matrix, decision boundary, weights...

No Streamlit here, so every picture can be tested. Plotly is imported inside the builders, so
importing this module stays cheap. Colours and captions shared with the graph drawing live in
:mod:`designer.report.drawing`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from designer.report.drawing import ACCENT, CLASS_COLOURS, TRAIN_COLOUR, VAL_COLOUR


# ---- Plotly figures ------------------------------------------------------------------------------
def plotly_go():
    """``plotly.graph_objects``, with our template made the default on first use.

    A ``template="plotly_white"`` in ``update_layout`` deep-copies the whole template into
    every figure: 65 of a live chart's 85 ms, on every tick of a watched run. As the default,
    it is applied once when the figure is made, at a quarter of the cost; the figures are the
    same (tested).
    """
    import plotly.graph_objects as go
    import plotly.io as pio

    if pio.templates.default != "plotly_white":
        pio.templates.default = "plotly_white"
    return go


@functools.cache
def _lines_template() -> dict[str, Any]:
    """plotly_white without its defaults for each kind of trace (bars, heat maps, fill
    patterns...), for figures made only of lines and markers, which those defaults do not
    touch: they look the same. It is 60 % of the template, and Streamlit copies and sends a
    figure's template at every redraw: a watched run's live charts are redrawn every second
    for every session (3x cheaper to send, BENCHMARKS.md)."""
    import plotly.io as pio

    return {"layout": pio.templates["plotly_white"].layout.to_plotly_json()}


def _layout_dict(title: str, height: int = 340, lines: bool = False) -> dict[str, Any]:
    """The layout every figure shares; ``lines``: the figure has only Scatter lines and
    markers (see :func:`_lines_template`)."""
    out = {
        "title": {"text": title, "x": 0.0, "font": {"size": 16}},
        "height": height,
        "margin": {"l": 50, "r": 20, "t": 45, "b": 45},
        "legend": {"orientation": "h", "y": -0.2},
    }
    if lines:
        out["template"] = _lines_template()
    return out


def _layout(fig, title: str, height: int = 340, lines: bool = False, **kw):
    layout = _layout_dict(title, height, lines)
    template = layout.pop("template", None)
    fig.update_layout(**layout, **kw)
    if template:  # assigned: update_layout would merge it into the default template
        fig.layout.template = template
    return fig


# Metrics that live in [0, 1]: their charts show the whole range.
BOUNDED_METRICS = frozenset(
    {
        "accuracy",
        "binary_accuracy",
        "categorical_accuracy",
        "sparse_categorical_accuracy",
        "auc",
        "precision",
        "recall",
        "top_k_categorical_accuracy",
    }
)


def metric_label(metric: str) -> str:
    return {"loss": "Loss", "accuracy": "Accuracy", "mae": "Mean absolute error"}.get(
        metric, metric.replace("_", " ").capitalize()
    )


def curves_figure(runs: Sequence[tuple[str, dict[str, list[float]]]], metric: str):
    """``metric`` per epoch, train (solid) vs validation (dashed), for one or several runs.

    ``runs`` is ``[(label, history), ...]`` where a history maps ``loss``, ``val_loss``... to
    one value per epoch, as ``keras.callbacks.History`` does.
    """
    go = plotly_go()
    single = len(runs) == 1
    traces = []
    for i, (label, history) in enumerate(runs):
        colour = CLASS_COLOURS[i % len(CLASS_COLOURS)]
        for key, dash, name in (
            (metric, "solid", "train"),
            (f"val_{metric}", "dash", "validation"),
        ):
            values = list(history.get(key) or [])
            if not values:
                continue
            traces.append(
                go.Scatter(
                    x=list(range(1, len(values) + 1)),
                    y=values,
                    mode="lines+markers" if len(values) < 30 else "lines",
                    name=name if single else f"{label} · {name}",
                    line={
                        "dash": dash,
                        "width": 2.5,
                        "color": (TRAIN_COLOUR if name == "train" else VAL_COLOUR)
                        if single
                        else colour,
                    },
                )
            )
    # One layout, given whole: a watched run's charts are rebuilt at every epoch, and each
    # update_layout / update_xaxes call walks Plotly's property machinery again (9 -> 3 ms).
    longest = max((len(t.x) for t in traces), default=1)
    layout = _layout_dict(metric_label(metric), lines=True)
    # Whole epochs only (Plotly would label 1.5 on a 3-epoch run), at most ~10 ticks.
    layout["xaxis"] = {
        "title": {"text": "epoch"},
        "tick0": 1,
        "dtick": max(1, math.ceil(longest / 10)),
        "rangemode": "nonnegative",
    }
    # A 0.93 -> 0.95 climb must not look like 0 -> 100 %.
    bounded = metric in BOUNDED_METRICS
    layout["yaxis"] = {"range": [0, 1.02]} if bounded else {"rangemode": "tozero"}
    if not traces:
        layout["annotations"] = [
            {
                "text": "no epochs yet",
                "showarrow": False,
                "x": 0.5,
                "y": 0.5,
                "xref": "paper",
                "yref": "paper",
            }
        ]
    # Not validated again: the traces are (just above) and the layout is ours, the same each
    # time; validating the template took 5 of the 6 ms (tested: the same figure).
    return go.Figure(data=traces, layout=layout, _validate=False)


def confusion_figure(matrix: Any, class_names: Sequence[str], *, normalize: bool = False):
    """Counts (or row-normalised fractions) with the number in each cell, true classes as rows."""
    go = plotly_go()
    m = np.asarray(matrix, dtype=float)
    if normalize:
        sums = m.sum(axis=1, keepdims=True)
        m = np.divide(m, sums, out=np.zeros_like(m), where=sums > 0)
    names = [str(c) for c in class_names] or [str(i) for i in range(len(m))]
    text = [[f"{v:.2f}" if normalize else f"{int(v)}" for v in row] for row in m]
    fig = go.Figure(
        go.Heatmap(
            z=m,
            x=names,
            y=names,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            hovertemplate="true %{y} · predicted %{x}: %{text}<extra></extra>",
            showscale=False,
        )
    )
    size = max(360, min(700, 40 * len(names) + 160))
    _layout(
        fig,
        "Confusion matrix" + (" (row-normalised)" if normalize else ""),
        height=size,
        xaxis_title="predicted",
        yaxis_title="true",
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig


def scatter2d_figure(x: Any, y: Any, class_names: Sequence[str], title: str = "The points"):
    go = plotly_go()
    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    fig = go.Figure()
    for k, name in enumerate(class_names):
        sel = y == k
        fig.add_trace(
            go.Scatter(
                x=x[sel, 0],
                y=x[sel, 1],
                mode="markers",
                name=str(name),
                marker={
                    "size": 6,
                    "color": CLASS_COLOURS[k % 10],
                    "line": {"width": 0.5, "color": "white"},
                },
            )
        )
    _layout(fig, title, height=420, xaxis_title="x1", yaxis_title="x2")
    fig.update_xaxes(constrain="domain")
    fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain")
    return fig


def decision_boundary_figure(
    xs: Any,
    ys: Any,
    z: Any,
    points: Any,
    labels: Any,
    class_names: Sequence[str],
    title: str = "Decision boundary",
):
    """The TensorFlow-Playground picture: the model's prediction over the plane, points on top.

    ``z[i][j]`` is the predicted class (or, for two classes, the probability of class 1) at
    ``(xs[j], ys[i])``.
    """
    go = plotly_go()
    z = np.asarray(z, dtype=float)
    k = max(2, len(class_names))
    if k == 2:
        scale = [[0, "#BBDEFB"], [0.5, "#FFFFFF"], [1, "#FFCCBC"]]
        zmin, zmax = 0.0, 1.0
    else:
        colours = [CLASS_COLOURS[i % 10] for i in range(k)]
        scale = []
        for i, c in enumerate(colours):
            scale += [[i / k, c], [(i + 1) / k, c]]
        zmin, zmax = -0.5, k - 0.5
    fig = go.Figure(
        go.Heatmap(
            x=xs,
            y=ys,
            z=z,
            colorscale=scale,
            zmin=zmin,
            zmax=zmax,
            showscale=False,
            opacity=0.55 if k > 2 else 1.0,
            hoverinfo="skip",
        )
    )
    scatter = scatter2d_figure(points, labels, class_names)
    for trace in scatter.data:
        fig.add_trace(trace)
    _layout(fig, title, height=440, xaxis_title="x1", yaxis_title="x2")
    # Square units, and the plot shrinks to the map instead of padding it with empty plane.
    fig.update_xaxes(range=[float(np.min(xs)), float(np.max(xs))], constrain="domain")
    fig.update_yaxes(
        range=[float(np.min(ys)), float(np.max(ys))],
        scaleanchor="x",
        scaleratio=1,
        constrain="domain",
    )
    return fig


def class_balance_figure(y: Any, class_names: Sequence[str], title: str = "Samples per class"):
    go = plotly_go()
    counts = np.bincount(np.asarray(y).reshape(-1).astype(int), minlength=len(class_names))
    fig = go.Figure(
        go.Bar(
            x=[str(c) for c in class_names],
            y=counts[: len(class_names)],
            marker_color=ACCENT,
            text=counts[: len(class_names)],
            textposition="outside",
        )
    )
    _layout(fig, title, height=300, yaxis_title="samples")
    fig.update_xaxes(type="category")
    return fig


def histogram_figure(values: Any, title: str, *, bins: int = 50, colour: str = TRAIN_COLOUR):
    go = plotly_go()
    v = np.asarray(values, dtype=float).reshape(-1)
    fig = go.Figure(go.Histogram(x=v, nbinsx=bins, marker_color=colour))
    return _layout(fig, title, height=280, xaxis_title="value", yaxis_title="count", bargap=0.02)


def heatmap_figure(matrix: Any, title: str, *, x_title: str = "", y_title: str = ""):
    """A weight matrix as a diverging heatmap centred on zero (Dense kernels)."""
    go = plotly_go()
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2:
        m = m.reshape(m.shape[0], -1) if m.ndim > 2 else m.reshape(1, -1)
    bound = float(np.abs(m).max()) or 1.0
    fig = go.Figure(go.Heatmap(z=m, colorscale="RdBu", zmid=0, zmin=-bound, zmax=bound))
    _layout(
        fig,
        title,
        height=min(600, max(260, 6 * m.shape[0] + 120)),
        xaxis_title=x_title,
        yaxis_title=y_title,
    )
    fig.update_yaxes(autorange="reversed")
    return fig


def image_grid_figure(
    images: Any,
    titles: Sequence[str] | None = None,
    *,
    cols: int = 8,
    title: str = "",
    diverging: bool = False,
):
    """Images (n, h, w) or (n, h, w, c) in a grid, each with an optional small title.

    ``diverging``: signed values (weights) in red and blue around a white zero, one scale for
    all images, instead of each image stretched to grey.
    """
    go = plotly_go()
    from plotly.subplots import make_subplots

    imgs = np.asarray(images, dtype=float)
    if imgs.ndim == 4 and imgs.shape[-1] == 1:
        imgs = imgs[..., 0]
    n = len(imgs)
    cols = max(1, min(cols, n))
    rows = max(1, -(-n // cols))
    titles = [str(t) for t in (titles or [""] * n)]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles + [""] * (rows * cols - n),
        horizontal_spacing=0.01,
        vertical_spacing=0.08 if any(titles) else 0.02,
    )
    bound = float(np.abs(imgs).max()) or 1.0
    for i, img in enumerate(imgs):
        r, c = divmod(i, cols)
        if diverging and img.ndim == 2:
            fig.add_trace(
                go.Heatmap(
                    z=img,
                    colorscale="RdBu",
                    zmid=0,
                    zmin=-bound,
                    zmax=bound,
                    showscale=False,
                    hoverinfo="skip",
                ),
                row=r + 1,
                col=c + 1,
            )
            continue
        lo, hi = float(img.min()), float(img.max())
        norm = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
        if norm.ndim == 3:
            trace = go.Image(z=(norm * 255).astype(np.uint8))
        else:
            trace = go.Heatmap(
                z=norm,
                colorscale="gray_r" if hi > lo else "gray",
                showscale=False,
                hoverinfo="skip",
            )
        fig.add_trace(trace, row=r + 1, col=c + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed")
    for a in fig.layout.annotations:
        a.font = {"size": 11}
    fig.update_layout(
        height=max(140, rows * (720 // max(cols, 6)) + 40),
        title=title,
        margin={"l": 5, "r": 5, "t": 40 if title else 20, "b": 5},
    )
    return fig


def pixel_canvas_figure(grid: Any, size: int = 340):
    """A picture to draw on: one square marker per pixel (ink dark on white, values in [0, 1]).

    Shown with Streamlit's selection events, a click, a box or a lasso over the squares tells
    the page which pixels to paint.
    """
    go = plotly_go()
    g = np.clip(np.asarray(grid, dtype=float), 0.0, 1.0)
    h, w = g.shape
    rows, cols = np.divmod(np.arange(h * w), w)
    cell = size / max(h, w)
    fig = go.Figure(
        go.Scatter(
            x=cols,
            y=rows,
            mode="markers",
            hoverinfo="none",
            marker={
                "symbol": "square",
                "size": cell * 0.92,
                "color": g.ravel(),
                "cmin": 0,
                "cmax": 1,
                "colorscale": [[0, "#FFFFFF"], [1, "#1F2933"]],
                "line": {"width": 0.5, "color": "#CFD8DC"},
            },
        )
    )
    fig.update_xaxes(visible=False, range=[-0.5, w - 0.5], fixedrange=True)
    fig.update_yaxes(visible=False, range=[h - 0.5, -0.5], fixedrange=True, scaleanchor="x")
    fig.update_layout(
        width=size + 20,
        height=size + 20,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        dragmode="select",
        showlegend=False,
    )
    return fig


def roc_figure(fpr: Any, tpr: Any, auc: float):
    go = plotly_go()
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="chance",
            line={"dash": "dot", "color": "#9E9E9E"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=fpr,
            y=tpr,
            mode="lines",
            name=f"model (AUC {auc:.3f})",
            line={"color": ACCENT, "width": 3},
        )
    )
    _layout(
        fig,
        "ROC curve",
        height=400,
        xaxis_title="false positive rate",
        yaxis_title="true positive rate",
    )
    fig.update_yaxes(scaleanchor="x", scaleratio=1, range=[0, 1])
    return fig


def residuals_figure(y_true: Any, y_pred: Any):
    go = plotly_go()
    t = np.asarray(y_true, dtype=float).reshape(-1)
    p = np.asarray(y_pred, dtype=float).reshape(-1)
    fig = go.Figure(
        go.Scatter(
            x=p, y=t - p, mode="markers", marker={"color": TRAIN_COLOUR, "size": 6}, name="residual"
        )
    )
    fig.add_hline(y=0, line_dash="dash", line_color=ACCENT)
    return _layout(
        fig,
        "Residuals (true − predicted)",
        height=380,
        xaxis_title="predicted",
        yaxis_title="residual",
    )


def probabilities_figure(probs: Any, class_names: Sequence[str]):
    go = plotly_go()
    p = np.asarray(probs, dtype=float).reshape(-1)
    names = (
        [str(c) for c in class_names]
        if len(class_names) == len(p)
        else [str(i) for i in range(len(p))]
    )
    colours = [ACCENT if i == int(p.argmax()) else "#90A4AE" for i in range(len(p))]
    fig = go.Figure(
        go.Bar(
            x=names, y=p, marker_color=colours, text=[f"{v:.2f}" for v in p], textposition="outside"
        )
    )
    _layout(fig, "Prediction", height=300, yaxis_range=[0, 1.1])
    fig.update_xaxes(type="category")
    return fig


def unit_maps_figure(layers: Sequence[dict], xs: Any, ys: Any, shown: int = 8):
    """Every hidden unit's activation over the plane (TensorFlow Playground's neurons): one
    column per hidden layer, in model order as in the graph, one small map per unit (the first
    ``shown`` of each layer). Orange is positive, blue negative, white zero, one scale per
    layer; hovering a map shows the unit's incoming weights and bias.

    ``layers`` are :meth:`designer.report.neurons.UnitProbe.maps` entries."""
    go = plotly_go()
    from plotly.subplots import make_subplots

    from designer.report.neurons import activation_name

    rows = max(1, min(shown, max((len(e["maps"]) for e in layers), default=1)))
    cols = max(1, len(layers))
    titles = []
    for e in layers:
        extra = f", {min(rows, len(e['maps']))} of {e['units']}" if e["units"] > rows else ""
        titles.append(f"{e['layer']} ({activation_name(e)}{extra})")
    fig = make_subplots(
        rows=rows,
        cols=cols,
        column_titles=titles,
        horizontal_spacing=0.04,
        vertical_spacing=0.02,
    )
    for c, entry in enumerate(layers):
        maps = np.asarray(entry["maps"], dtype=float)[:rows]
        bound = float(np.abs(maps).max()) or 1.0
        for u, z in enumerate(maps):
            weights = ", ".join(f"{w:+.2f}" for w in entry["weights"][u][:12])
            more = " …" if len(entry["weights"][u]) > 12 else ""
            hover = (
                f"{entry['layer']} · unit {u + 1}<br>incoming weights: {weights}{more}"
                f"<br>bias: {entry['bias'][u]:+.2f}<br>activation %{{z:.2f}}"
                " at (%{x:.2f}, %{y:.2f})<extra></extra>"
            )
            fig.add_trace(
                go.Heatmap(
                    x=xs,
                    y=ys,
                    z=z,
                    colorscale=[[0, "#1E88E5"], [0.5, "#FFFFFF"], [1, "#F4511E"]],
                    zmin=-bound,
                    zmax=bound,
                    showscale=False,
                    hovertemplate=hover,
                ),
                row=u + 1,
                col=c + 1,
            )
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False)
    for a in fig.layout.annotations:
        a.font = {"size": 11}
    fig.update_layout(
        height=40 + rows * 74,
        margin={"l": 5, "r": 5, "t": 40, "b": 5},
    )
    return fig


def _epoch_colour(i: int, n: int) -> str:
    """Older epochs pale blue-grey, the latest deep orange (TensorBoard's distributions)."""
    t = i / max(1, n - 1)
    a, b = (176, 190, 197), (230, 81, 0)
    return "rgb({},{},{})".format(*(round(x + (y - x) * t) for x, y in zip(a, b)))


def distribution_figure(epochs: Sequence[dict], layer: str, which: str = "activations"):
    """One layer's values over the epochs: each epoch's histogram as a line (the share of the
    values in each bin), older epochs paler. ``which``: "activations" or "gradients"."""
    go = plotly_go()
    edges_key, counts_key = (
        ("edges", "counts")
        if which == "activations"
        else (
            "grad_edges",
            "grad_counts",
        )
    )
    shown = [e for e in epochs if (e["layers"].get(layer) or {}).get(counts_key)][-12:]
    fig = go.Figure()
    for i, e in enumerate(shown):
        entry = e["layers"][layer]
        edges = np.asarray(entry[edges_key], dtype=float)
        counts = np.asarray(entry[counts_key], dtype=float)
        centres = (edges[:-1] + edges[1:]) / 2
        fig.add_trace(
            go.Scatter(
                x=centres,
                y=counts / max(1.0, counts.sum()),
                mode="lines",
                line={
                    "color": _epoch_colour(i, len(shown)),
                    "width": 2 if i == len(shown) - 1 else 1,
                },
                name=f"epoch {e['epoch']}",
                hovertemplate=f"epoch {e['epoch']}: %{{y:.0%}} near %{{x:.3g}}<extra></extra>",
            )
        )
    title = f"{layer}: {'outputs' if which == 'activations' else 'gradients of the loss'}"
    _layout(fig, title, height=300, lines=True, xaxis_title="value", yaxis_title="share")
    fig.update_layout(showlegend=False)
    return fig


def gradient_norms_figure(epochs: Sequence[dict]):
    """Each layer's gradient norm per epoch (log scale): a layer far below the others learns
    little (vanishing gradients)."""
    go = plotly_go()
    fig = go.Figure()
    names = [n for n, e in (epochs[-1]["layers"] if epochs else {}).items() if e.get("grad_norm")]
    for k, name in enumerate(names):
        xs = [e["epoch"] for e in epochs if (e["layers"].get(name) or {}).get("grad_norm")]
        ys = [e["layers"][name]["grad_norm"] for e in epochs if e["epoch"] in xs]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name=name,
                line={"color": CLASS_COLOURS[k % len(CLASS_COLOURS)]},
            )
        )
    _layout(fig, "Gradient norm per layer", height=300, lines=True, xaxis_title="epoch")
    fig.update_yaxes(type="log")
    return fig


def submissions_figure(subs: Sequence[Any], metric: str):
    """A class's submissions over time: one marker per submission (its name on hover) and
    the class's best score so far as a step line. ``subs`` are ``Submission``-like records
    (``submitted_at`` in epoch seconds, ``score``, ``name``), oldest first."""
    from datetime import datetime

    go = plotly_go()
    fig = go.Figure()
    times = [datetime.fromtimestamp(s.submitted_at) for s in subs]
    scores = [s.score for s in subs]
    best, running = [], -math.inf
    for score in scores:
        running = max(running, score)
        best.append(running)
    fig.add_trace(
        go.Scatter(
            x=times,
            y=best,
            mode="lines",
            line={"shape": "hv", "color": ACCENT, "width": 2.5},
            name="best so far",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=times,
            y=scores,
            mode="markers",
            marker={"size": 9, "color": TRAIN_COLOUR, "opacity": 0.75},
            name="a submission",
            text=[s.name for s in subs],
            hovertemplate="%{text}: %{y:.4f}<br>%{x|%H:%M:%S}<extra></extra>",
        )
    )
    label = "R²" if metric == "r2" else metric_label(metric)
    fig = _layout(fig, f"Submissions over time ({label})", height=300, xaxis_title="time")
    if metric in BOUNDED_METRICS:
        fig.update_yaxes(range=[0, 1.02])
    if not subs:
        fig.add_annotation(
            text="no submissions yet", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
        )
    return fig
