"""PNG pictures for files that leave the app (model cards, slides): the graph drawing, the
training curves and a confusion matrix.

Drawn with matplotlib's Agg renderer: it works offline on a fresh machine with nothing but the
wheel (which ships the DejaVu fonts the SVG drawing names), no browser and no system library —
Plotly would need kaleido and a browser for a PNG. The pages keep their Plotly figures; the
graph PNG is the same :func:`designer.report.drawing.graph_layout` as the gallery's SVG.
Every function returns PNG bytes; matplotlib is imported inside them (pyplot never: no global
figure state, so the app's threads can draw at once).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from designer.design.spec import Design
from designer.report.drawing import (
    EDGE_COLOUR,
    SKIP_COLOUR,
    TEXT_COLOUR,
    TRAIN_COLOUR,
    VAL_COLOUR,
    graph_layout,
)

FONT = "DejaVu Sans Mono"  # the SVG's font; matplotlib's wheel carries it


def new_figure(width_in: float, height_in: float, dpi: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=dpi, facecolor="white")


def png_bytes(fig: Any, **kw: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor="white", **kw)
    return buf.getvalue()


def graph_png(design: Design, *, max_width: int = 600, scale: float = 2.0) -> bytes:
    """The gallery drawing of ``design`` as a PNG, ``scale`` pixels per SVG pixel (2: sharp on
    slides and high-density screens)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyBboxPatch, PathPatch
    from matplotlib.path import Path as MplPath

    g = graph_layout(design, max_width=max_width)
    # One data unit = one SVG pixel = one point at 72 dpi, so the SVG's sizes carry over.
    fig = new_figure(g.width / 72, g.height / 72, 72 * scale)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, g.width)
    ax.set_ylim(g.height, 0)  # y grows downwards, as in SVG
    ax.axis("off")
    for xr, ya, yb in g.curves:
        path = MplPath(
            [(xr, ya), (xr + 28, ya), (xr + 28, yb), (xr, yb)],
            [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4],
        )
        ax.add_patch(PathPatch(path, fill=False, edgecolor=SKIP_COLOUR, linewidth=1.5, zorder=1))
    for x1, y1, x2, y2 in g.lines:
        ax.add_line(Line2D([x1, x2], [y1, y2], color=EDGE_COLOUR, linewidth=1.5, zorder=1))
    for node_id, text, fill, border in g.boxes:
        x, y = g.pos[node_id]
        ax.add_patch(
            FancyBboxPatch(
                (x, y),
                g.box_w,
                g.box_h,
                boxstyle="round,pad=0,rounding_size=5",
                facecolor=fill,
                edgecolor=border,
                linewidth=1.5,
                zorder=2,  # over the edges, as in the SVG (drawn later there)
            )
        )
        ax.text(
            x + g.box_w / 2,
            y + g.box_h / 2,
            text,
            ha="center",
            va="center",
            family=FONT,
            size=10.5,
            color=TEXT_COLOUR,
            zorder=3,
        )
    return png_bytes(fig)


def curve_metrics(history: Sequence[dict[str, float]]) -> list[str]:
    """The metrics a history has curves for: ``loss`` first, then the compiled metrics
    (``val_`` columns go with their metric; the learning rate is not a result)."""
    names: list[str] = []
    for row in history:
        for key in row:
            base = key.removeprefix("val_")
            if key in ("epoch", "learning_rate", "lr") or base in names:
                continue
            names.append(base)
    return sorted(names, key=lambda n: n != "loss")


def curves_png(history: Sequence[dict[str, float]], *, dpi: float = 110) -> bytes:
    """One panel per metric (loss, accuracy...): training solid, validation dashed, per epoch,
    as the Train page shows them. Points are marked, so a one-epoch run still shows."""
    from designer.report.viz import BOUNDED_METRICS, metric_label

    metrics = curve_metrics(history) or ["loss"]
    fig = new_figure(4.2 * len(metrics), 3.2, dpi)
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    epochs = [int(row.get("epoch", i + 1)) for i, row in enumerate(history)]
    for ax, metric in zip(axes, metrics):
        for key, style, colour, label in (
            (metric, "-", TRAIN_COLOUR, "training"),
            (f"val_{metric}", "--", VAL_COLOUR, "validation"),
        ):
            points = [
                (e, row[key])
                for e, row in zip(epochs, history)
                if isinstance(row.get(key), (int, float)) and math.isfinite(row[key])
            ]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, style, color=colour, marker="o", markersize=3, label=label)
        ax.set_title(metric_label(metric), loc="left", fontsize=11)
        ax.set_xlabel("epoch")
        if metric in BOUNDED_METRICS:
            ax.set_ylim(0, 1.02)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(True, color="#ECEFF1")
        if ax.lines:
            ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return png_bytes(fig)


def confusion_png(
    matrix: Sequence[Sequence[int]], class_names: Sequence[str], title: str = "Confusion matrix"
) -> bytes:
    """Counts of true (rows) against predicted (columns) classes, the diagonal being the
    correct answers; the counts are written in the cells up to 20 classes."""
    import numpy as np

    cm = np.asarray(matrix, dtype=np.int64)
    k = len(cm)
    names = [str(n) for n in class_names][:k] + [str(i) for i in range(len(class_names), k)]
    side = min(10.0, max(4.0, 0.45 * k + 2.2))
    fig = new_figure(side, side * 0.9, 110)
    ax = fig.subplots()
    image = ax.imshow(cm, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    slant = k * max(map(len, names), default=1) > 40  # long names would overlap: slant them
    ax.set_xticks(range(k), names, rotation=45 if slant else 0, ha="right" if slant else "center")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title, loc="left", fontsize=11)
    if k <= 20:
        top = cm.max(initial=0)
        for i in range(k):
            for j in range(k):
                dark = top and cm[i, j] > top / 2
                ax.text(
                    j,
                    i,
                    str(cm[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8 if k > 10 else 10,
                    color="white" if dark else TEXT_COLOUR,
                )
    fig.tight_layout()
    return png_bytes(fig)
