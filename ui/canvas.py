"""The graph canvas: Design + Analysis -> streamlit-agraph nodes, edges and config, and clicks.

The pure functions (:func:`node_label`, :func:`graph_elements`, :func:`config_options`,
:func:`click_to_select`) carry the logic and are unit-tested; :func:`draw` is the one place that
calls the component, which renders in an iframe (in AppTest it is an unknown element that
returns ``None``).
"""

from __future__ import annotations

from typing import Any

from designer.drawing import (
    CATEGORY_COLOURS,
    ERROR_COLOURS,
    category_of,
    layer_caption,
    levels,
    shape_text,
)
from designer.spec import Design

SELECTED_BORDER = "#263238"
EDGE_COLOUR = "#90A4AE"
SKIP_COLOUR = "#FB8C00"
LEVEL_SEPARATION = 95
NODE_SPACING = 270
MAX_ERROR_CHARS = 30


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def node_label(design: Design, node_id: str, report: Any | None) -> str:
    """Two lines: what the layer is, then its output shape and parameter count (or the error)."""
    node = design.node(node_id)
    first = layer_caption(node)
    if node.type == "Input":  # its shape is the whole story: "Input" / "(8, 8, 1)"
        first, _, shape = first.partition(" ")
        if report is None or not report.error:
            return f"{first} · {node_id}\n{shape}"
    if report is None:
        return f"{first}\n…"
    if report.error:
        return f"{first}\n⚠ {_short(report.error, MAX_ERROR_CHARS)}"
    if report.output_shape is None:
        return f"{first}\n(waiting for the layers above)"
    shape = shape_text(report.output_shape)
    warn = " ⚠" if report.warning else ""
    return f"{first}\n{shape} · {report.params:,} params{warn}"


def node_title(design: Design, node_id: str, report: Any | None) -> str:
    """The hover text: the id, and the full problem if there is one."""
    lines = [node_id]
    if report is not None and (report.error or report.warning):
        lines.append(report.error or report.warning)
    return "\n".join(lines)


def graph_elements(
    design: Design, analysis: Any | None, selected: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """vis-network node and edge dictionaries (what ``agraph.Node/Edge`` serialise to)."""
    reports = analysis.nodes if analysis is not None else {}
    depth = levels(design)
    nodes = []
    for n in design.nodes:
        report = reports.get(n.id)
        bad = report is not None and bool(report.error)
        fill, border = ERROR_COLOURS if bad else CATEGORY_COLOURS[category_of(n)]
        is_sel = n.id == selected
        nodes.append(
            {
                "id": n.id,
                "label": node_label(design, n.id, report),
                "title": node_title(design, n.id, report),
                "shape": "box",
                "borderWidth": 4 if is_sel else 2,
                "borderWidthSelected": 4,
                "margin": 10,
                "widthConstraint": {"minimum": 240, "maximum": 330},
                "font": {
                    "face": "DejaVu Sans Mono, monospace",
                    "size": 14,
                    "color": "#263238",
                    "align": "center",
                },
                "color": {
                    "background": fill,
                    "border": SELECTED_BORDER if is_sel and not bad else border,
                    "highlight": {"background": fill, "border": SELECTED_BORDER},
                    "hover": {"background": fill, "border": SELECTED_BORDER},
                },
                "shadow": is_sel,
            }
        )
    known = set(design.node_ids())
    edges = []
    for e in design.edges:
        if e.source not in known or e.target not in known:
            continue
        skip = depth.get(e.target, 0) - depth.get(e.source, 0) > 1
        edges.append({
            "source": e.source, "from": e.source, "to": e.target, "arrows": "to", "width": 2,
            # A skip connection would run straight through the layers it jumps: bend it.
            "color": SKIP_COLOUR if skip else EDGE_COLOUR,
            "smooth": {"enabled": True, "type": "curvedCW", "roundness": 0.6} if skip
            else {"enabled": True, "type": "cubicBezier", "forceDirection": "vertical"},
        })  # fmt: skip
    return nodes, edges


def canvas_height(design: Design) -> int:
    depth = levels(design)
    n_levels = (max(depth.values()) + 1) if depth else 1
    return max(320, min(1400, n_levels * LEVEL_SEPARATION + 90))


def config_options(design: Design, width: int | str = "100%") -> dict[str, Any]:
    """The agraph ``Config`` keyword arguments (UI.md: hierarchical, top-down, no physics)."""
    return {
        "width": width,
        "height": canvas_height(design),
        "directed": True,
        "physics": False,
        "hierarchical": True,
        "direction": "UD",
        "sortMethod": "directed",
        "levelSeparation": LEVEL_SEPARATION,
        "nodeSpacing": NODE_SPACING,
        "treeSpacing": NODE_SPACING,
        "blockShifting": True,
        "edgeMinimization": True,
        "parentCentralization": True,
        "interaction": {
            "hover": True,
            "dragView": True,
            "zoomView": False,
            "navigationButtons": False,
        },  # fmt: skip
    }


def click_to_select(value: Any, last: Any, node_ids: list[str]) -> tuple[str | None, Any]:
    """``(node to select or None, new 'last click')`` from the component's return value.

    The component keeps returning its last click on every rerun, so only a *new* value means
    a click; a value that is not a node (stale after a delete) is ignored.
    """
    if value is None:
        return None, None
    if value == last:
        return None, last
    return (value if value in node_ids else None), value


_LAYOUT_KEYS = (
    "hierarchical",
    "direction",
    "sortMethod",
    "levelSeparation",
    "nodeSpacing",
    "treeSpacing",
    "blockShifting",
    "edgeMinimization",
    "parentCentralization",
)


def draw(design: Design, analysis: Any | None, selected: str | None) -> str | None:
    """Render the canvas; returns the id of a node the person just clicked, if any."""
    import streamlit as st

    from ui import state

    try:
        from streamlit_agraph import Config, Edge, Node, agraph
    except ImportError:  # pragma: no cover - the package is a dependency
        st.warning("The graph view needs streamlit-agraph; use the layer list instead.")
        return None
    node_dicts, edge_dicts = graph_elements(design, analysis, selected)
    opts = config_options(design)
    width = opts.pop("width")
    config = Config(width=100, **opts)
    config.width = width if isinstance(width, str) else f"{width}px"  # vis accepts "100%"
    # Config also copies every keyword to the top level, where vis-network warns about them.
    for name in _LAYOUT_KEYS:
        config.__dict__.pop(name, None)
    config.groups = {}
    nodes = [Node(**d) for d in node_dicts]
    edges = [Edge(d.pop("source"), d.pop("to"), **{k: v for k, v in d.items() if k != "from"}) for d in edge_dicts]  # fmt: skip
    try:
        value = agraph(nodes=nodes, edges=edges, config=config)
    except Exception as exc:  # noqa: BLE001 - the canvas is a view; the form still works
        st.warning(f"The graph view could not be drawn ({type(exc).__name__}); use the layer list.")
        return None
    pick, last = click_to_select(value, st.session_state.get(state.CANVAS_CLICK), design.node_ids())
    st.session_state[state.CANVAS_CLICK] = last
    return pick
