"""The layer graph as people see it: a colour per category, short captions, levels, and the
small SVG drawing of a design used by the template gallery. No Plotly, no Keras, no Streamlit.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from designer.design import catalog
from designer.design.graph import topological_order
from designer.design.spec import Design, Node

ACCENT = "#E4572E"
# (fill, border) per catalog category; Input gets its own so the start of a model stands out.
CATEGORY_COLOURS: dict[str, tuple[str, str]] = {
    "input": ("#FFF8E1", "#F9A825"),
    "core": ("#E3F2FD", "#1E88E5"),
    "convolution": ("#E8F5E9", "#43A047"),
    "pooling": ("#F1F8E9", "#7CB342"),
    "recurrent": ("#F3E5F5", "#8E24AA"),
    "merge": ("#FFF3E0", "#FB8C00"),
    "normalization": ("#E0F7FA", "#00ACC1"),
    "regularization": ("#ECEFF1", "#78909C"),
    "augmentation": ("#FCE4EC", "#D81B60"),
    "pretrained": ("#EDE7F6", "#5E35B1"),
    "unknown": ("#FAFAFA", "#9E9E9E"),
}
ERROR_COLOURS = ("#FFEBEE", "#E53935")
TRAIN_COLOUR, VAL_COLOUR = "#1E88E5", ACCENT
# Class colours for points and boundaries (Plotly's "Plotly" palette, reordered for contrast).
CLASS_COLOURS = (
    "#1E88E5",
    "#E4572E",
    "#43A047",
    "#8E24AA",
    "#FB8C00",
    "#00ACC1",
    "#6D4C41",
    "#D81B60",
    "#7CB342",
    "#5E35B1",
)


def category_of(node: Node) -> str:
    spec = catalog.get(node.type)
    if spec is None:
        return "unknown"
    return "input" if spec.module == "input" else spec.category


# ---- layer captions ----------------------------------------------------------------------------
def _window(value: Any, one_d: bool) -> str:
    if isinstance(value, (list, tuple)):
        return "×".join(str(v) for v in value)
    return str(value) if one_d else f"{value}×{value}"


def layer_caption(node: Node) -> str:
    """What a layer is in a few characters: ``Conv2D 32·3×3 relu``, ``Dense 10 softmax``."""
    spec = catalog.get(node.type)
    if spec is None:
        return node.type
    p = {q.name: node.params.get(q.name, q.default) for q in spec.params}
    t, one_d = node.type, "1D" in node.type
    parts: list[str] = []
    if t == "Input":
        shape = list(p["shape"] or [])
        parts.append(
            f"({shape[0]},)" if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")"
        )
    elif t == "Bidirectional":
        parts.append(f"{p['layer']} {p['units']}")
    elif "units" in p:
        parts.append(str(p["units"]))
    elif "filters" in p:
        parts.append(f"{p['filters']}·{_window(p['kernel_size'], one_d)}")
    elif "kernel_size" in p:
        parts.append(_window(p["kernel_size"], one_d))
    elif "pool_size" in p:
        parts.append(_window(p["pool_size"], one_d))
    elif "rate" in p and p["rate"] is not None:
        parts.append(f"{p['rate']:g}")
    elif t == "Embedding":
        parts.append(f"{p['input_dim']}→{p['output_dim']}")
    elif t == "Reshape":
        parts.append("(" + ", ".join(map(str, p["target_shape"] or [])) + ")")
    elif isinstance(p.get("factor"), (int, float)):
        parts.append(f"{p['factor']:g}")
    act = p.get("activation")
    if act and act != "linear":
        parts.append(str(act))
    return " ".join([t, *parts])


# ---- graph layout ------------------------------------------------------------------------------
def levels(design: Design) -> dict[str, int]:
    """Longest-path depth of every node from the inputs (cycles are cut where found)."""

    order, cyclic = topological_order(design)
    depth: dict[str, int] = {}
    for node_id in order:
        preds = [p for p in design.predecessors(node_id) if p in depth]
        depth[node_id] = 1 + max((depth[p] for p in preds), default=-1)
    bottom = max(depth.values(), default=-1)
    for i, node_id in enumerate(cyclic):
        depth[node_id] = bottom + 1 + i
    return depth


@dataclass
class GraphLayout:
    """Where ``design_svg`` puts every box, line and curve: one layout for every renderer (the
    SVG here, the PNG of :mod:`designer.report.pictures`), so both show the same drawing."""

    width: int
    height: int
    box_w: int
    box_h: int
    pos: dict[str, tuple[float, float]]  # node id -> top-left corner of its box
    lines: list[tuple[float, float, float, float]]  # straight edges: x1, y1, x2, y2
    curves: list[tuple[float, float, float]]  # skip edges round the right side: x, y_from, y_to
    boxes: list[tuple[str, str, str, str]]  # node id, caption (cut to fit), fill, border


def graph_layout(
    design: Design, *, max_width: int = 250, box_h: int = 22, gap_y: int = 9
) -> GraphLayout:
    """The top-down layout of the layer graph, at its natural size, never scaled: the boxes
    narrow so the widest row fits in ``max_width`` (a gallery card)."""
    depth = levels(design)
    rows: dict[int, list[str]] = {}
    for n in design.nodes:
        rows.setdefault(depth.get(n.id, 0), []).append(n.id)
    if not rows:
        return GraphLayout(160, 40, 0, box_h, {}, [], [], [])
    gap_x = 10
    widest = max(len(r) for r in rows.values())
    skips = _skip_edges(design, depth, rows)
    skip_room = 2 * 24 if skips else 0  # the curves go round the right side
    box_w = int(min(150, (max_width - 8 - skip_room - (widest - 1) * gap_x) / widest))
    max_chars = max(6, int(box_w / 6.4))  # DejaVu Sans Mono at 10.5 px
    width = widest * box_w + (widest - 1) * gap_x + 8 + skip_room
    height = _height(max(rows) + 1, box_h, gap_y)
    pos: dict[str, tuple[float, float]] = {}
    for level, ids in rows.items():
        row_w = len(ids) * box_w + (len(ids) - 1) * gap_x
        x0 = (width - row_w) / 2
        for i, node_id in enumerate(ids):
            pos[node_id] = (x0 + i * (box_w + gap_x), 4 + level * (box_h + gap_y))
    lines, curves = [], []
    for e in design.edges:
        if e.source in pos and e.target in pos:
            (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
            if (e.source, e.target) in skips:
                curves.append((x1 + box_w, y1 + box_h / 2, y2 + box_h / 2))
            else:
                lines.append((x1 + box_w / 2, y1 + box_h, x2 + box_w / 2, y2))
    boxes = []
    for n in design.nodes:
        text = layer_caption(n)
        text = text if len(text) <= max_chars else text[: max_chars - 1] + "…"
        boxes.append((n.id, text, *CATEGORY_COLOURS[category_of(n)]))
    return GraphLayout(width, height, box_w, box_h, pos, lines, curves, boxes)


SKIP_COLOUR, EDGE_COLOUR, TEXT_COLOUR = "#FB8C00", "#90A4AE", "#263238"


def design_svg(design: Design, *, max_width: int = 250, box_h: int = 22, gap_y: int = 9) -> str:
    """A small top-down drawing of the layer graph, for the template gallery (no Keras).

    Drawn at its natural size (:func:`graph_layout`); the height is ``svg_height()`` so a page
    can give every card of a row the same room without cutting a graph off.
    """
    g = graph_layout(design, max_width=max_width, box_h=box_h, gap_y=gap_y)
    if not g.pos:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="40"></svg>'
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {g.width} {g.height}" '
        f'width="{g.width}" height="{g.height}" style="max-width:100%;height:auto" '
        'font-family="DejaVu Sans Mono, monospace" font-size="10.5">'
    ]
    for xr, ya, yb in g.curves:  # a skip connection: around the right side of the boxes
        out.append(
            f'<path d="M{xr:.0f},{ya:.0f} C{xr + 28:.0f},{ya:.0f} {xr + 28:.0f},{yb:.0f} '
            f'{xr:.0f},{yb:.0f}" fill="none" stroke="{SKIP_COLOUR}" stroke-width="1.5"/>'
        )
    for x1, y1, x2, y2 in g.lines:
        out.append(
            f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" '
            f'y2="{y2:.0f}" stroke="{EDGE_COLOUR}" stroke-width="1.5"/>'
        )
    for node_id, text, fill, border in g.boxes:
        x, y = g.pos[node_id]
        out.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{g.box_w}" height="{g.box_h}" rx="5" '
            f'fill="{fill}" stroke="{border}" stroke-width="1.5"/>'
            f'<text x="{x + g.box_w / 2:.0f}" y="{y + g.box_h / 2 + 4:.0f}" '
            f'text-anchor="middle" fill="{TEXT_COLOUR}">{html.escape(text)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def svg_height(design: Design, *, box_h: int = 22, gap_y: int = 9) -> int:
    """The height ``design_svg`` draws ``design`` at, in pixels."""
    return _height(max(levels(design).values(), default=-1) + 1, box_h, gap_y)


def _height(n_rows: int, box_h: int, gap_y: int) -> int:
    return max(40, n_rows * (box_h + gap_y) - gap_y + 8)


def _skip_edges(
    design: Design, depth: dict[str, int], rows: dict[int, list[str]]
) -> set[tuple[str, str]]:
    """Edges that jump over rows between boxes in the same column: drawn as curves on the
    right, since a straight line would run through the boxes in between. The column of a box
    is its place from the middle of its row, whatever the box width."""
    column = {
        node_id: i - (len(ids) - 1) / 2 for ids in rows.values() for i, node_id in enumerate(ids)
    }
    return {
        (e.source, e.target)
        for e in design.edges
        if e.source in column
        and e.target in column
        and depth.get(e.target, 0) - depth.get(e.source, 0) > 1
        and column[e.source] == column[e.target]
    }


# ---- data set thumbnails (the Data page's cards) ------------------------------------------------
THUMB_W, THUMB_H = 220, 64


def dataset_thumbnail_svg(x: Any, y: Any, kind: str, n_classes: int) -> str:
    """A small picture of a data set: a few images, the 2-D points, or the label balance."""
    import numpy as np

    x, y = np.asarray(x), np.asarray(y)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {THUMB_W} {THUMB_H}" '
        f'width="{THUMB_W}" height="{THUMB_H}" style="max-width:100%;height:auto">'
    )
    if kind == "image" and x.ndim == 4 and len(x):
        body = _image_strip(x[:3])
    elif kind == "points2d" and x.ndim == 2 and x.shape[1] == 2 and len(x):
        body = _scatter(x[:240], y[:240])
    elif len(y):
        body = _bars(y, n_classes)
    else:
        body = ""
    return head + body + "</svg>"


def _image_strip(images: Any) -> str:
    """Up to three samples as embedded PNGs, square, side by side."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    side, gap = THUMB_H, 8
    x0 = (THUMB_W - len(images) * side - (len(images) - 1) * gap) / 2
    out = []
    for i, img in enumerate(images):
        a = np.asarray(img, dtype="float32")
        lo, hi = float(a.min()), float(a.max())
        a = ((a - lo) / (hi - lo or 1.0) * 255).astype("uint8")
        a = a[..., 0] if a.shape[-1] == 1 else a
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, format="PNG")
        uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
        out.append(
            f'<image x="{x0 + i * (side + gap):.0f}" y="0" width="{side}" height="{side}" '
            f'href="{uri}" style="image-rendering:pixelated"/>'
        )
    return "".join(out)


def _scatter(points: Any, labels: Any) -> str:
    import numpy as np

    lo, hi = points.min(axis=0), points.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    unit = (points - lo) / span
    out = []
    for (u, v), label in zip(unit, labels):
        colour = CLASS_COLOURS[int(label) % len(CLASS_COLOURS)]
        out.append(
            f'<circle cx="{20 + u * (THUMB_W - 40):.1f}" cy="{4 + (1 - v) * (THUMB_H - 8):.1f}" '
            f'r="2" fill="{colour}" fill-opacity="0.8"/>'
        )
    return "".join(out)


def _bars(y: Any, n_classes: int) -> str:
    """Samples per class, or a histogram of the target for regression."""
    import numpy as np

    y = np.asarray(y).ravel()
    if n_classes:
        counts = np.bincount(y.astype("int64"), minlength=n_classes)[:12]
    else:
        counts, _ = np.histogram(y.astype("float64"), bins=12)
    n = len(counts)
    bar_w = min(18.0, (THUMB_W - 40) / n - 4)
    x0 = (THUMB_W - n * (bar_w + 4) + 4) / 2
    top = max(int(counts.max()), 1)
    out = []
    for i, c in enumerate(counts):
        h = max(2.0, (THUMB_H - 6) * c / top)
        colour = CLASS_COLOURS[i % len(CLASS_COLOURS)] if n_classes else "#1E88E5"
        out.append(
            f'<rect x="{x0 + i * (bar_w + 4):.1f}" y="{THUMB_H - h:.1f}" width="{bar_w:.1f}" '
            f'height="{h:.1f}" rx="2" fill="{colour}" fill-opacity="0.85"/>'
        )
    return "".join(out)
