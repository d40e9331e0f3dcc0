"""The graph canvas: Design + Analysis -> streamlit-agraph nodes, edges and config, and clicks.

A click on the canvas means what the editor's *mode* says (session state, never the design):

* ``select`` (the usual): the clicked layer becomes the selection; never an edit.
* ``connect``: each click on another layer connects the selected layer into it, or removes the
  connection the two already have (:func:`designer.design.editing.toggle_connection`): an edit,
  through :func:`ui.state.write`. **Done** goes back to ``select``.
* ``branch``: clicks select; the palette's next layer starts a new branch from the selection.
* ``merge``: clicks pick (or un-pick) the layers to join, in input order; a merge type button
  then adds the merge layer fed by them.

The pure functions (:func:`node_label`, :func:`graph_elements`, :func:`config_options`,
:func:`click_to_select`, :func:`click_meaning`, :func:`hint`) carry the logic and are
unit-tested; :func:`draw` is the one place that calls the component, which renders in an
iframe (in AppTest it is an unknown element that returns ``None``, so the app tests put a
stand-in in its place that returns the clicks they make).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import streamlit as st

from designer.design import catalog, editing
from designer.design.editing import EditError
from designer.design.spec import Design
from designer.report.drawing import (
    ACCENT,
    CATEGORY_COLOURS,
    ERROR_COLOURS,
    category_of,
    layer_caption,
    levels,
)
from designer.text import one_line, shape_text
from ui import sharing, state

SELECTED_BORDER = "#263238"
EDGE_COLOUR = "#90A4AE"
SKIP_COLOUR = "#FB8C00"
LEVEL_SEPARATION = 95
NODE_SPACING = 270
MAX_ERROR_CHARS = 30
MAX_INPUTS_CHARS = 34

SELECT, CONNECT, BRANCH, MERGE = "select", "connect", "branch", "merge"
MODES = (SELECT, CONNECT, BRANCH, MERGE)
MERGE_TYPES = ("Add", "Concatenate", "Multiply", "Average")


def _takes_many(design: Design, node_id: str) -> bool:
    spec = catalog.get(design.node(node_id).type)
    return spec is not None and spec.max_inputs != 1


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
        return f"{first}\n⚠ {one_line(report.error, MAX_ERROR_CHARS)}"
    if report.output_shape is None:
        return f"{first}\n(waiting for the layers above)"
    shape = shape_text(report.output_shape)
    warn = " ⚠" if report.warning else ""
    return f"{first}\n{shape} · {report.params:,} params{warn}"


def inputs_line(design: Design, node_id: str) -> str | None:
    """A merge's inputs in their order (``in: 1 conv2d_2 · 2 conv2d``), which Concatenate and
    Subtract depend on; None for a layer with one input."""
    preds = design.predecessors(node_id)
    if len(preds) < 2 or not _takes_many(design, node_id):
        return None
    return one_line(
        "in: " + " · ".join(f"{i} {p}" for i, p in enumerate(preds, 1)), MAX_INPUTS_CHARS
    )


def node_title(design: Design, node_id: str, report: Any | None) -> str:
    """The hover text: the id, and the full problem if there is one."""
    lines = [node_id]
    if report is not None and (report.error or report.warning):
        lines.append(report.error or report.warning)
    return "\n".join(lines)


def graph_elements(
    design: Design,
    analysis: Any | None,
    selected: str | None,
    mode: str = SELECT,
    picks: tuple[str, ...] | list[str] = (),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """vis-network node and edge dictionaries (what ``agraph.Node/Edge`` serialise to).

    The mode shows: in ``connect`` the layer connected from has an accent border and its
    connections are drawn in the accent colour (a click on their other end removes them); in
    ``merge`` the picked layers have an accent border and their number in the pick order.
    """
    reports = analysis.nodes if analysis is not None else {}
    depth = levels(design)
    picked = {node_id: i for i, node_id in enumerate(picks, 1)}
    source = selected if mode == CONNECT else None
    nodes = []
    for n in design.nodes:
        report = reports.get(n.id)
        bad = report is not None and bool(report.error)
        fill, border = ERROR_COLOURS if bad else CATEGORY_COLOURS[category_of(n)]
        is_sel = n.id == selected and mode != MERGE
        marked = n.id == source or (mode == MERGE and n.id in picked)
        label = node_label(design, n.id, report)
        if mode == MERGE and n.id in picked:
            label = f"[{picked[n.id]}] {label}"
        extra = inputs_line(design, n.id)
        if extra:
            label = f"{label}\n{extra}"
        edge_colour = ACCENT if marked else (SELECTED_BORDER if is_sel and not bad else border)
        # In a mode the layer vis-network shows as clicked is not the selection: no highlight.
        highlight = SELECTED_BORDER if mode in (SELECT, BRANCH) else edge_colour
        nodes.append(
            {
                "id": n.id,
                "label": label,
                "title": node_title(design, n.id, report),
                "shape": "box",
                "borderWidth": 5 if marked else (4 if is_sel else 2),
                "borderWidthSelected": 5 if marked else (4 if mode in (SELECT, BRANCH) else 2),
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
                    "border": edge_colour,
                    "highlight": {"background": fill, "border": highlight},
                    "hover": {"background": fill, "border": highlight},
                },
                "shadow": is_sel or marked,
            }
        )
    known = set(design.node_ids())
    edges = []
    for e in design.edges:
        if e.source not in known or e.target not in known:
            continue
        skip = depth.get(e.target, 0) - depth.get(e.source, 0) > 1
        touches = source is not None and source in (e.source, e.target)
        edge = {
            "source": e.source,
            "from": e.source,
            "to": e.target,
            "arrows": "to",
            "width": 4 if touches else 2,
            # A skip connection would run straight through the layers it jumps: bend it.
            "color": ACCENT if touches else (SKIP_COLOUR if skip else EDGE_COLOUR),
            "smooth": {"enabled": True, "type": "curvedCW", "roundness": 0.6}
            if skip
            else {"enabled": True, "type": "cubicBezier", "forceDirection": "vertical"},
        }
        preds = design.predecessors(e.target)
        if len(preds) > 1 and _takes_many(design, e.target):
            edge["label"] = str(preds.index(e.source) + 1)  # the merge's input order
            edge["font"] = {"size": 13, "color": "#263238", "strokeWidth": 4}
        edges.append(edge)
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
        },
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


@dataclass(frozen=True)
class Click:
    """What a click on the canvas asks for: ``select`` a layer, ``connect`` the selection and
    a layer (or cut their connection), ``pick`` (new merge picks), or ``nothing``."""

    kind: str
    node: str | None = None
    picks: tuple[str, ...] = ()


def click_meaning(mode: str, selected: str | None, picks: tuple[str, ...], clicked: str) -> Click:
    """The meaning of a click on the layer ``clicked`` in ``mode`` (see the module docstring)."""
    if mode == CONNECT and selected is not None:
        return Click("connect", clicked)
    if mode == MERGE:
        new = tuple(p for p in picks if p != clicked)
        return Click("pick", clicked, new if clicked in picks else (*picks, clicked))
    return Click("select", clicked) if clicked != selected else Click("nothing", clicked)


def hint(mode: str, design: Design, selected: str | None, picks: tuple[str, ...]) -> str:
    """The hint line under the canvas's buttons: what a click does now (Markdown)."""
    if selected is None:
        return "Add an **Input** from the palette to start."
    if mode == CONNECT:
        linked = design.predecessors(selected) + design.successors(selected)
        cut = (
            f" Click {', '.join(f'**{n}**' for n in linked)} to remove its connection."
            if linked
            else ""
        )
        return (
            f"**Connecting from {selected}**: click a layer to connect **{selected} → it**.{cut}"
            " **Done** when finished."
        )
    if mode == BRANCH:
        return (
            f"**Branch from {selected}**: the next layer you pick in the palette starts a new "
            f"branch from **{selected}** (its chain stays as it is)."
        )
    if mode == MERGE:
        chosen = " · ".join(f"{i} **{p}**" for i, p in enumerate(picks, 1)) or "none yet"
        need = " (pick at least two)" if len(picks) < 2 else ""
        return (
            f"**Merge**: click the layers to join, in input order; click again to un-pick. "
            f"Picked: {chosen}{need}."
        )
    return (
        f"Click a layer to select it. **Connect**, **Branch** and **Merge** start from the "
        f"selected layer, **{selected}**."
    )


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


def widget_key(design: Design, selected: str | None, mode: str, picks: tuple[str, ...]) -> str:
    """The canvas widget's identity: what a click on it means (the layers, their connections,
    the selection, the mode and the picks), never the labels.

    A new identity is a new widget with no click yet, so a click drawn for another graph
    reaches no widget (it cannot repeat a connection, and vis-network's own selection starts
    empty, so a layer can be clicked again after a connection changed). A parameter edit
    keeps the identity: the iframe stays and vis-network updates its labels in place.
    """
    shape = [
        [n.id for n in design.nodes],
        [[e.source, e.target] for e in design.edges],  # in order: a merge's input order
        selected,
        mode,
        list(picks),
    ]
    digest = hashlib.sha1(json.dumps(shape).encode(), usedforsecurity=False).hexdigest()
    return f"canvas-{digest[:16]}"


def draw(
    design: Design,
    analysis: Any | None,
    selected: str | None,
    mode: str = SELECT,
    picks: tuple[str, ...] = (),
) -> str | None:
    """Render the canvas; returns the id of a node the person just clicked, if any."""
    try:
        import streamlit_agraph
        from streamlit_agraph import Config, Edge, Node
    except ImportError:  # pragma: no cover - the package is a dependency
        st.warning("The graph view needs streamlit-agraph; use the layer list instead.")
        return None
    node_dicts, edge_dicts = graph_elements(design, analysis, selected, mode, picks)
    opts = config_options(design)
    width = opts.pop("width")
    config = Config(width=100, **opts)
    config.width = width if isinstance(width, str) else f"{width}px"  # vis accepts "100%"
    # Config also copies every keyword to the top level, where vis-network warns about them.
    for name in _LAYOUT_KEYS:
        config.__dict__.pop(name, None)
    config.groups = {}
    nodes = [Node(**d) for d in node_dicts]
    edges = [
        Edge(d.pop("source"), d.pop("to"), **{k: v for k, v in d.items() if k != "from"})
        for d in edge_dicts
    ]
    data = {"nodes": [n.to_dict() for n in nodes], "edges": [e.to_dict() for e in edges]}
    try:
        # streamlit_agraph.agraph() is this call without a key, which makes every label an
        # identity: each parameter edit replaced the iframe, reloading vis-network (the
        # browser's largest share of an edit, BENCHMARKS.md) and blanking the canvas.
        value = streamlit_agraph._agraph(
            data=json.dumps(data),
            config=json.dumps(config.__dict__),
            key=widget_key(design, selected, mode, picks),
        )
    except Exception as exc:  # noqa: BLE001 - the canvas is a view; the form still works
        st.warning(f"The graph view could not be drawn ({type(exc).__name__}); use the layer list.")
        return None
    pick, last = click_to_select(value, st.session_state.get(state.CANVAS_CLICK), design.node_ids())
    st.session_state[state.CANVAS_CLICK] = last
    return pick


# ---- the mode and its buttons (session state: never the design) ---------------------------------
def mode() -> str:
    found = st.session_state.get(state.CANVAS_MODE, SELECT)
    return found if found in MODES else SELECT


def picks() -> tuple[str, ...]:
    """The layers picked for a merge that still exist, in the order they were clicked."""
    ids = state.design().node_ids()
    return tuple(p for p in st.session_state.get(state.CANVAS_PICKS, ()) if p in ids)


def set_mode(new: str, selected: str | None = None) -> None:
    """Enter ``new`` (a merge starts with the selected layer picked first)."""
    st.session_state[state.CANVAS_MODE] = new
    st.session_state[state.CANVAS_PICKS] = (selected,) if new == MERGE and selected else ()
    st.session_state[state.CANVAS_NOTE] = None


def _note(kind: str, text: str) -> None:
    """News for the hint line about the last click (kept while the design stays as it is)."""
    st.session_state[state.CANVAS_NOTE] = (kind, text, state.revision())


def handle_click(clicked: str) -> bool:
    """Do what a click on ``clicked`` means now; True when the page must be drawn again.

    The component's identity is what a click on it means (:func:`widget_key`), so a click
    sent by a stale browser, drawn for another graph, reaches no widget and cannot repeat a
    connection."""
    action = click_meaning(mode(), state.selected(), picks(), clicked)
    if action.kind == "select":
        state.select(clicked)
    elif action.kind == "pick":
        st.session_state[state.CANVAS_PICKS] = action.picks
    elif action.kind == "connect":
        source, said = state.selected(), []

        def change(design: Design) -> tuple[Design, str]:
            new, sentence = editing.toggle_connection(design, source, clicked)
            said.append(sentence)
            return new, source

        try:
            if state.write(change):
                _note("done", said[-1])
        except EditError as exc:
            _note("refused", f"Not connected: {exc}")
    return action.kind != "nothing"


def make_merge(chosen: tuple[str, ...], layer_type: str) -> None:
    """A merge type button: add the merge fed by the picks it was drawn with, select it."""
    try:
        changed = state.write(lambda d: editing.add_merge(d, list(chosen), layer_type))
    except EditError as exc:
        _note("refused", f"No merge: {exc}")
        return
    if changed:
        set_mode(SELECT)
        _note("done", f"{layer_type} joins {', '.join(chosen)}")


def toolbar(design: Design, selected: str | None) -> None:
    """The buttons beside the canvas (Connect, Branch, Merge, Copy link) and the hint line."""
    now, chosen = mode(), picks()
    none = selected is None
    if now == MERGE:
        cols = st.columns(len(MERGE_TYPES) + 1)
        for col, layer_type in zip(cols, MERGE_TYPES):
            col.button(
                layer_type,
                key=f"merge_as:{layer_type}:{'+'.join(chosen)}",  # drawn for these picks
                on_click=make_merge,
                args=(chosen, layer_type),
                disabled=len(chosen) < 2,
                type="primary",
                width="stretch",
                help=catalog.LAYERS[layer_type].help,
            )
        cols[-1].button(
            "Cancel", key="canvas_done", on_click=set_mode, args=(SELECT,), icon=":material/close:"
        )
    else:
        c1, c2, c3, c4 = st.columns(4)
        if now == CONNECT:
            c1.button(
                "Done",
                key="canvas_done",
                on_click=set_mode,
                args=(SELECT,),
                type="primary",
                icon=":material/check:",
                width="stretch",
            )
        else:
            c1.button(
                "Connect",
                icon=":material/arrow_outward:",
                key=f"canvas_connect:{selected}",
                on_click=set_mode,
                args=(CONNECT, selected),
                disabled=none,
                width="stretch",
                help="Then click layers to connect the selected layer into them",
            )
        if now == BRANCH:
            c2.button(
                "Cancel",
                key="canvas_done",
                on_click=set_mode,
                args=(SELECT,),
                icon=":material/close:",
                width="stretch",
            )
        else:
            c2.button(
                "Branch",
                icon=":material/call_split:",
                key=f"canvas_branch:{selected}",
                on_click=set_mode,
                args=(BRANCH, selected),
                disabled=none,
                width="stretch",
                help="The next layer from the palette starts a new branch from the selected one",
            )
        c3.button(
            "Merge",
            icon=":material/call_merge:",
            key=f"canvas_merge:{selected}",
            on_click=set_mode,
            args=(MERGE, selected),
            disabled=none,
            width="stretch",
            help="Click the layers to join, then Add, Concatenate, Multiply or Average",
        )
        with c4:
            sharing.copy_link(design, key="design_link")
    text = hint(now, design, selected, chosen)
    (st.caption if now == SELECT else st.info)(text)
    note = st.session_state.get(state.CANVAS_NOTE)
    if note and note[2] == state.revision():
        kind, message, _ = note
        if kind == "refused":
            st.warning(message, icon="✋")
        else:
            st.success(message, icon="✔")
