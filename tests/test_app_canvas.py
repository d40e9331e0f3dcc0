"""The graph editor's canvas modes in AppTest: connect, branch and merge by clicking the graph.

streamlit-agraph renders in an iframe that AppTest cannot click, so a stand-in takes its place
(:class:`FakeCanvas`) with the component's behaviour: it returns the last clicked node for as
long as it is drawn with the same key (the same widget); drawn with another key, it is a new
widget with no click yet. Everything else is the real page: ui/canvas.py's adapter, the
buttons, the one write path.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import streamlit_agraph
from app_widgets import pick_from_palette, widget

from designer.design import catalog, templates
from designer.design.spec import Design

from helpers.blocks import residual_params

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # ui/ lives beside app.py
from ui import canvas  # noqa: E402


class FakeCanvas:
    def __init__(self) -> None:
        self.drawn: str | None = None
        self.nodes: dict[str, dict] = {}
        self.edges: list[dict] = []
        self.value: str | None = None
        self.value_for: str | None = None

    def __call__(self, data: str, config: str, key: str):
        graph = json.loads(data)
        self.nodes = {n["id"]: n for n in graph["nodes"]}
        self.edges = graph["edges"]
        self.drawn = key
        if self.value_for != self.drawn:  # a new widget: no click yet
            self.value = None
        return self.value

    def click(self, at, node_id: str):
        """A click on ``node_id`` as drawn now, and the rerun it causes."""
        assert node_id in self.nodes, f"{node_id} is not on the canvas: {list(self.nodes)}"
        self.value, self.value_for = node_id, self.drawn
        at.run()
        assert not at.exception, at.exception
        return at

    def label(self, node_id: str) -> str:
        return self.nodes[node_id]["label"]


@pytest.fixture
def fake_canvas(monkeypatch):
    fake = FakeCanvas()
    monkeypatch.setattr(streamlit_agraph, "_agraph", fake)
    return fake


@pytest.fixture
def scratch(open_app, fake_canvas):
    """Home → Start from scratch (Input → Flatten → Dense) on the Design page."""
    at = open_app()
    at.button(key="home_blank").click().run()
    assert not at.exception
    assert fake_canvas.nodes, "the Design page did not draw the canvas"
    return at


def design(at) -> Design:
    return at.session_state["design"]


def revision(at) -> int:
    return at.session_state["design_revision"]


def selected(at) -> str:
    return at.session_state["selected_node"]


def press(at, name: str):
    widget(at, "button", name).click().run()
    assert not at.exception, at.exception
    return at


def two_convs(at, canvas):
    """input → conv2d → conv2d_2 ('same' padding, so it can be added to conv2d) → flatten."""
    canvas.click(at, "input")
    pick_from_palette(at, "convolution", "Conv2D")
    pick_from_palette(at, "convolution", "Conv2D")
    widget(at, "selectbox", "p:conv2d_2:padding").set_value("same").run()
    assert design(at).successors("conv2d") == ["conv2d_2"]
    assert selected(at) == "conv2d_2"


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def notes(at) -> list[str]:
    return [e.value for e in (*at.success, *at.warning)]


# ---- select mode: a click selects and never edits -----------------------------------------------
def test_a_click_selects_and_never_edits(scratch, fake_canvas):
    before, rev = design(scratch), revision(scratch)
    fake_canvas.click(scratch, "flatten")
    assert selected(scratch) == "flatten"
    assert fake_canvas.nodes["flatten"]["borderWidth"] == 4  # drawn as the selection
    fake_canvas.click(scratch, "input")
    assert selected(scratch) == "input"
    assert design(scratch) == before and revision(scratch) == rev


# ---- merge: pick on the canvas, in order, then the merge type -----------------------------------
def test_merge_builds_a_residual_block(scratch, fake_canvas):
    two_convs(scratch, fake_canvas)
    press(scratch, "canvas_merge")
    assert "Merge" in scratch.info[0].value and "1 **conv2d_2**" in scratch.info[0].value
    assert widget(scratch, "button", "merge_as:Add").disabled  # one pick is not a merge
    rev = revision(scratch)
    fake_canvas.click(scratch, "conv2d")  # picking is not an edit
    assert revision(scratch) == rev
    assert fake_canvas.label("conv2d").startswith("[2] ")
    assert fake_canvas.label("conv2d_2").startswith("[1] ")
    press(scratch, "merge_as:Add")
    d = design(scratch)
    assert d.predecessors("add") == ["conv2d_2", "conv2d"]
    assert d.successors("add") == ["flatten"] and d.successors("conv2d_2") == ["add"]
    assert selected(scratch) == "add"
    assert "in: 1 conv2d_2 · 2 conv2d" in fake_canvas.label("add")
    into_add = {e["from"]: e.get("label") for e in fake_canvas.edges if e["to"] == "add"}
    assert into_add == {"conv2d_2": "1", "conv2d": "2"}
    assert not scratch.error, [e.value for e in scratch.error]
    assert metric(scratch, "Parameters") == f"{residual_params():,}"
    # back to select mode: the next click selects
    fake_canvas.click(scratch, "conv2d")
    assert selected(scratch) == "conv2d" and design(scratch) == d


def test_merge_picks_toggle_and_cancel_changes_nothing(scratch, fake_canvas):
    two_convs(scratch, fake_canvas)
    before = design(scratch)
    press(scratch, "canvas_merge")
    fake_canvas.click(scratch, "input")
    fake_canvas.click(scratch, "conv2d")
    fake_canvas.click(scratch, "input")  # un-pick
    assert "1 **conv2d_2** · 2 **conv2d**" in scratch.info[0].value
    press(scratch, "canvas_done")
    assert design(scratch) == before
    assert not any(n["label"].startswith("[") for n in fake_canvas.nodes.values())


# ---- connect: click-click wiring, refusals in one line, removal by clicking again ---------------
def test_connect_mode_adds_removes_and_refuses(scratch, fake_canvas):
    two_convs(scratch, fake_canvas)
    pick_from_palette(scratch, "merge", "Add")  # conv2d_2 → add → flatten, one input so far
    fake_canvas.click(scratch, "conv2d")
    press(scratch, "canvas_connect")
    assert "Connecting from conv2d" in scratch.info[0].value
    assert "**input**" in scratch.info[0].value  # its connections: a click removes them
    assert fake_canvas.nodes["conv2d"]["borderWidth"] == 5  # the mode shows on the canvas
    fake_canvas.click(scratch, "add")
    assert design(scratch).predecessors("add") == ["conv2d_2", "conv2d"]
    assert "connected conv2d → add (input 2 of add)" in notes(scratch)
    assert "in: 1 conv2d_2 · 2 conv2d" in fake_canvas.label("add")
    assert selected(scratch) == "conv2d"  # still connecting from it

    fake_canvas.click(scratch, "conv2d_2")  # already its output: the connection goes
    assert "conv2d" not in design(scratch).predecessors("conv2d_2")
    assert "removed conv2d → conv2d_2" in notes(scratch)
    fake_canvas.click(scratch, "conv2d_2")  # and comes back
    assert design(scratch).predecessors("conv2d_2") == ["conv2d"]
    fake_canvas.click(scratch, "input")  # its input: removing it is a click too
    assert design(scratch).predecessors("conv2d") == []
    press(scratch, "undo")
    assert design(scratch).predecessors("conv2d") == ["input"]

    press(scratch, "canvas_done")
    assert scratch.caption and not any("Connecting" in i.value for i in scratch.info)
    fake_canvas.click(scratch, "conv2d_2")
    assert selected(scratch) == "conv2d_2"
    press(scratch, "canvas_connect")
    good = design(scratch)
    for target, reason in [
        ("input", "is an Input"),
        ("flatten", "takes one input and already has add"),
        ("conv2d_2", "the layer you connect from"),
    ]:
        rev = revision(scratch)
        fake_canvas.click(scratch, target)
        assert design(scratch) == good and revision(scratch) == rev, target
        said = [w.value for w in scratch.warning]
        assert len(said) == 1 and reason in said[0] and "\n" not in said[0], said


def test_a_loop_is_refused(scratch, fake_canvas):
    two_convs(scratch, fake_canvas)
    pick_from_palette(scratch, "merge", "Add")
    fake_canvas.click(scratch, "flatten")
    press(scratch, "canvas_connect")
    before = design(scratch)
    fake_canvas.click(scratch, "conv2d")
    assert "loop" in scratch.warning[0].value
    press(scratch, "canvas_done")
    fake_canvas.click(scratch, "output")
    press(scratch, "canvas_connect")
    fake_canvas.click(scratch, "add")  # add → flatten → output: back into add is a loop
    assert "loop" in scratch.warning[0].value
    assert design(scratch) == before


# ---- branch: the palette's next layer starts a new branch ---------------------------------------
def test_branch_adds_the_next_palette_layer_beside_the_chain(scratch, fake_canvas):
    two_convs(scratch, fake_canvas)
    fake_canvas.click(scratch, "conv2d")
    press(scratch, "canvas_branch")
    assert "Branch from conv2d" in scratch.info[0].value
    pick_from_palette(scratch, "pooling", "MaxPooling2D")
    d = design(scratch)
    assert d.successors("conv2d") == ["conv2d_2", "maxpooling2d"]  # the chain stays
    assert d.predecessors("maxpooling2d") == ["conv2d"]
    assert selected(scratch) == "maxpooling2d"
    pick_from_palette(scratch, "core", "Flatten")  # after Branch, the palette inserts again
    assert design(scratch).successors("maxpooling2d") == ["flatten_2"]
    assert not any("Branch from" in i.value for i in scratch.info)


def test_mode_buttons_are_drawn_for_every_merge_type(scratch):
    press(scratch, "canvas_merge")
    keys = {b.key for b in scratch.button if (b.key or "").startswith("merge_as:")}
    kinds = {k.split(":")[1] for k in keys}
    assert kinds == {"Add", "Concatenate", "Multiply", "Average"} and len(keys) == 4
    assert all(catalog.is_merge(t) for t in kinds)
    assert all(k.endswith(f":{selected(scratch)}") for k in keys)  # drawn for these picks


def test_the_canvas_stays_the_same_widget_through_a_parameter_edit_only(scratch, fake_canvas):
    """A parameter edit redraws the labels in the same iframe (no reload of vis-network); a
    change of what a click means (connections, selection, mode, picks) is a new widget."""
    key = canvas.widget_key
    d = design(scratch)
    drawn = fake_canvas.drawn
    assert drawn == key(d, selected(scratch), canvas.SELECT, ())
    last = d.nodes[-1]
    assert last.type == "Dense"
    fake_canvas.click(scratch, last.id)
    drawn, label = fake_canvas.drawn, fake_canvas.label(last.id)
    widget(scratch, "number_input", f"p:{last.id}:units").set_value(7).run()
    assert fake_canvas.drawn == drawn and fake_canvas.label(last.id) != label
    assert fake_canvas.value == last.id  # the same widget: its last click is still its value

    other = Design.from_dict(d.to_dict())
    other.edges.reverse()
    assert key(other, "input", canvas.SELECT, ()) != key(d, "input", canvas.SELECT, ())
    assert key(d, last.id, canvas.SELECT, ()) != key(d, "input", canvas.SELECT, ())
    assert key(d, "input", canvas.CONNECT, ()) != key(d, "input", canvas.SELECT, ())
    assert key(d, "input", canvas.MERGE, ("input",)) != key(d, "input", canvas.MERGE, ())


# ---- the adapter's pure functions ---------------------------------------------------------------
def test_what_a_click_means_in_each_mode():
    meaning = canvas.click_meaning
    assert meaning(canvas.SELECT, "a", (), "b") == canvas.Click("select", "b")
    assert meaning(canvas.SELECT, "a", (), "a").kind == "nothing"
    assert meaning(canvas.BRANCH, "a", (), "b") == canvas.Click("select", "b")
    assert meaning(canvas.CONNECT, "a", (), "b") == canvas.Click("connect", "b")
    assert meaning(canvas.CONNECT, None, (), "b") == canvas.Click("select", "b")
    assert meaning(canvas.MERGE, "a", ("a",), "b").picks == ("a", "b")
    assert meaning(canvas.MERGE, "a", ("a", "b", "c"), "b").picks == ("a", "c")  # un-pick


def test_the_hint_line_says_what_a_click_does():
    d = templates.get("digits-mlp")
    assert "**dense**" in canvas.hint(canvas.SELECT, d, "dense", ())
    connect = canvas.hint(canvas.CONNECT, d, "dense", ())
    assert "dense → it" in connect and "**flatten**, **dropout**" in connect
    assert "remove its connection" in connect and "Done" in connect
    assert "new branch from **dense**" in canvas.hint(canvas.BRANCH, d, "dense", ())
    merge = canvas.hint(canvas.MERGE, d, "dense", ("dense",))
    assert "1 **dense**" in merge and "at least two" in merge
    assert "Input" in canvas.hint(canvas.SELECT, Design(), None, ())


def test_the_canvas_shows_the_mode():
    d = templates.get("mini-resnet")
    plain, plain_edges = canvas.graph_elements(d, None, "b1_conv1")
    nodes, edges = canvas.graph_elements(d, None, "b1_conv1", canvas.CONNECT)
    node = {n["id"]: n for n in nodes}
    assert node["b1_conv1"]["color"]["border"] == canvas.ACCENT
    assert node["b1_conv1"]["borderWidth"] > next(
        n["borderWidth"] for n in plain if n["id"] == "b1_conv1"
    )
    touching = {(e["from"], e["to"]) for e in edges if e["color"] == canvas.ACCENT}
    assert touching == {("stem", "b1_conv1"), ("b1_conv1", "b1_conv2")}
    # a layer vis-network keeps as clicked is not drawn as the selection in connect mode
    assert node["stem"]["color"]["highlight"]["border"] == node["stem"]["color"]["border"]
    picked, _ = canvas.graph_elements(d, None, "b1_conv1", canvas.MERGE, ("b1_conv2", "stem"))
    labels = {n["id"]: n["label"] for n in picked}
    assert labels["b1_conv2"].startswith("[1] ") and labels["stem"].startswith("[2] ")
    assert not labels["b1_conv1"].startswith("[")


def test_a_merge_shows_its_input_order():
    d = templates.get("mini-resnet")  # b1_add: b1_conv2, then the skip from stem
    nodes, edges = canvas.graph_elements(d, None, None)
    add = next(n for n in nodes if n["id"] == "b1_add")
    assert add["label"].splitlines()[-1] == "in: 1 b1_conv2 · 2 stem"
    labels = {(e["from"], e["to"]): e.get("label") for e in edges}
    assert labels[("b1_conv2", "b1_add")] == "1" and labels[("stem", "b1_add")] == "2"
    assert labels[("stem", "b1_conv1")] is None  # one-input layers have no numbers
