"""The graph editor's operations, as pure functions on designs (no Streamlit, no Keras)."""

import re

import pytest

from designer.design import editing, sections, templates
from designer.design.editing import EditError
from designer.design.history import History
from designer.design.spec import Design, Edge, Node


def chain(*ids_types):
    nodes = [Node(i, t, {}) for i, t in ids_types]
    edges = [Edge(a.id, b.id) for a, b in zip(nodes, nodes[1:])]
    return Design(nodes=nodes, edges=edges)


def pairs(design):
    return [(e.source, e.target) for e in design.edges]


def test_insert_after_rewires_the_selected_nodes_successors():
    d = templates.get("digits-mlp")
    new, nid = editing.insert_after(d, "dense", "BatchNormalization")
    assert nid == "batchnormalization"
    assert ("dense", nid) in pairs(new) and (nid, "dropout") in pairs(new)
    assert ("dense", "dropout") not in pairs(new)
    assert new.node_ids().index(nid) == new.node_ids().index("dense") + 1
    # the original is untouched: editing returns new designs (undo relies on it)
    assert ("dense", "dropout") in pairs(d)


def test_insert_after_uses_catalog_defaults_and_unique_ids():
    d = templates.get("digits-mlp")
    new, nid = editing.insert_after(d, "output", "Dense")
    assert nid == "dense_2"
    assert new.node(nid).params == {"units": 32}
    assert new.output_ids() == [nid]


def test_insert_without_selection_adds_a_lone_node():
    new, nid = editing.insert_after(Design(), None, "Input")
    assert new.node_ids() == [nid] and new.edges == []
    with pytest.raises(EditError):
        editing.insert_after(new, nid, "Input")


def test_insert_after_follows_explicit_outputs():
    d = chain(("in", "Input"), ("d", "Dense"))
    d.outputs = ["d"]
    new, nid = editing.insert_after(d, "d", "Dense")
    assert new.outputs == [nid]


def test_delete_joins_a_chain():
    d = templates.get("digits-mlp")
    new = editing.delete_node(d, "dropout")
    assert "dropout" not in new.node_ids()
    assert ("dense", "output") in pairs(new)
    assert len(new.edges) == len(d.edges) - 1


def test_delete_keeps_a_merge_input_in_its_place():
    d = templates.get("mini-resnet")
    before = d.predecessors("b1_add")
    new = editing.delete_node(d, "b1_conv2")
    assert new.predecessors("b1_add") == ["b1_conv1", before[1]]


def test_delete_does_not_duplicate_an_existing_edge():
    d = chain(("a", "Input"), ("b", "Dense"), ("c", "Dense"))
    d.edges.append(Edge("a", "c"))
    new = editing.delete_node(d, "b")
    assert pairs(new) == [("a", "c")]


def test_duplicate_inserts_a_copy_after_the_node():
    d = templates.get("digits-mlp")
    new, nid = editing.duplicate_node(d, "dense")
    assert new.node(nid).params == d.node("dense").params
    assert new.predecessors(nid) == ["dense"] and new.successors(nid) == ["dropout"]


def test_duplicate_input_stands_alone():
    d = templates.get("digits-mlp")
    new, nid = editing.duplicate_node(d, "input")
    assert new.node(nid).type == "Input" and new.predecessors(nid) == [] == new.successors(nid)


def test_rename_moves_edges_outputs_and_layout():
    d = templates.get("digits-mlp")
    d.outputs = ["output"]
    d.layout = {"output": {"x": 1.0, "y": 2.0}}
    new = editing.rename_node(d, "output", "logits")
    assert "logits" in new.node_ids() and "output" not in new.node_ids()
    assert ("dropout", "logits") in pairs(new)
    assert new.outputs == ["logits"] and "logits" in new.layout


@pytest.mark.parametrize("bad", ["", "dense", "has space", "1abc", "x" * 65])
def test_rename_refuses_bad_names(bad):
    with pytest.raises(EditError):
        editing.rename_node(templates.get("digits-mlp"), "flatten", bad)


def test_rename_to_itself_is_allowed():
    d = templates.get("digits-mlp")
    assert editing.rename_node(d, "dense", "dense").node_ids() == d.node_ids()


def test_connect_and_disconnect_for_a_branch():
    d = chain(("in", "Input"), ("a", "Dense"), ("b", "Dense"), ("m", "Concatenate"))
    new = editing.connect(d, "a", "m")
    assert new.predecessors("m") == ["b", "a"]
    back = editing.disconnect(new, "a", "m")
    assert pairs(back) == pairs(d)


@pytest.mark.parametrize(
    "src,dst,why",
    [("a", "a", "itself"), ("a", "b", "already"), ("b", "in", "Input"), ("b", "a", "loop")],
)
def test_connect_refuses_with_a_reason(src, dst, why):
    d = chain(("in", "Input"), ("a", "Dense"), ("b", "Dense"))
    with pytest.raises(EditError, match=why):
        editing.connect(d, src, dst)


def test_connect_candidates_exclude_loops_existing_edges_and_full_layers():
    d = chain(("in", "Input"), ("a", "Dense"), ("b", "Dense"), ("m", "Add"), ("c", "Dense"))
    assert editing.connect_candidates(d, "b") == []  # b→m exists; a, in would loop; c is full
    assert editing.connect_candidates(d, "in") == ["m"]  # a, b, c have their one input


@pytest.mark.parametrize(
    "target,why",
    [
        ("b", "b (Dense) takes one input and already has a: remove a → b first"),
        ("s", "s (Subtract) takes 2 inputs and already has them (a, b)"),
    ],
)
def test_connect_refuses_an_input_too_many(target, why):
    d = chain(("in", "Input"), ("a", "Dense"), ("b", "Dense"))
    d.nodes.append(Node("s", "Subtract", {}))
    d.nodes.append(Node("x", "Dense", {}))
    d.edges += [Edge("a", "s"), Edge("b", "s"), Edge("in", "x")]
    with pytest.raises(EditError, match=re.escape(why)):
        editing.connect(d, "x", target)


def test_toggle_connection_adds_then_removes_either_way():
    d = chain(("in", "Input"), ("a", "Dense"), ("b", "Dense"), ("m", "Concatenate"))
    new, said = editing.toggle_connection(d, "a", "m")
    assert new.predecessors("m") == ["b", "a"] and said == "connected a → m (input 2 of m)"
    back, said = editing.toggle_connection(new, "a", "m")
    assert pairs(back) == pairs(d) and said == "removed a → m"
    cut, said = editing.toggle_connection(d, "b", "a")  # a feeds b: a click on a cuts it
    assert ("a", "b") not in pairs(cut) and said == "removed a → b"
    with pytest.raises(EditError, match="connect from"):
        editing.toggle_connection(d, "a", "a")
    with pytest.raises(EditError, match="Input"):
        editing.toggle_connection(d, "b", "in")


def test_add_branch_leaves_the_chain_as_it_is():
    d = templates.get("digits-mlp")
    new, nid = editing.add_branch(d, "flatten", "Dense")
    assert new.successors("flatten") == ["dense", nid] and new.predecessors(nid) == ["flatten"]
    assert [e for e in new.edges if e.target != nid] == d.edges
    assert new.node(nid).params == editing.default_params("Dense")
    with pytest.raises(EditError, match="starts a model"):
        editing.add_branch(d, "flatten", "Input")


@pytest.mark.parametrize("picks", [["b", "a"], ["a", "b"]])
def test_add_merge_takes_the_place_of_the_last_pick(picks):
    d = chain(("in", "Input"), ("a", "Dense"), ("b", "Dense"), ("out", "Dense"))
    new, nid = editing.add_merge(d, picks, "Add")
    assert new.predecessors(nid) == picks  # the inputs in the order they were picked
    assert new.successors("b") == [nid] and new.successors(nid) == ["out"]
    assert new.successors("a") == ["b", nid]
    assert new.node_ids().index(nid) == new.node_ids().index("b") + 1


def test_add_merge_of_two_ends_is_a_new_output():
    d = chain(("in", "Input"), ("a", "Dense"))
    d.nodes.append(Node("b", "Dense", {}))
    d.edges.append(Edge("in", "b"))
    new, nid = editing.add_merge(d, ["a", "b"], "Concatenate")
    assert new.output_ids() == [nid] and new.predecessors(nid) == ["a", "b"]


@pytest.mark.parametrize(
    "picks,kind,why",
    [
        (["a"], "Add", "at least two"),
        (["a", "a"], "Add", "at least two"),
        (["in", "a", "b"], "Subtract", "takes 2 inputs"),
        (["a", "b"], "Dense", "not a merge layer"),
        (["a", "zz"], "Add", "no layer called"),
    ],
)
def test_add_merge_refuses_with_a_reason(picks, kind, why):
    d = chain(("in", "Input"), ("a", "Dense"), ("b", "Dense"))
    with pytest.raises(EditError, match=why):
        editing.add_merge(d, picks, kind)


def test_disconnect_unknown_edge():
    with pytest.raises(EditError):
        editing.disconnect(chain(("a", "Input"), ("b", "Dense")), "b", "a")


def test_move_up_and_down_swap_in_a_chain():
    d = templates.get("digits-mlp")
    up = editing.move_up(d, "dropout")
    assert up.predecessors("dropout") == ["flatten"]
    assert up.successors("dropout") == ["dense"]
    assert up.successors("dense") == ["output"]
    assert up.node_ids().index("dropout") < up.node_ids().index("dense")
    down = editing.move_down(up, "dropout")
    assert sorted(pairs(down)) == sorted(pairs(d))


def test_move_refused_at_the_top_and_in_branches():
    d = templates.get("digits-mlp")
    assert not editing.can_move_up(d, "flatten")  # would go above the Input
    assert not editing.can_move_down(d, "output")
    with pytest.raises(EditError):
        editing.move_up(d, "input")
    r = templates.get("mini-resnet")
    assert not editing.can_move_up(r, "b1_add")  # two inputs


def test_apply_fix_inserts_flatten_before_the_node():
    d = chain(("in", "Input"), ("conv", "Conv2D"), ("out", "Dense"))
    new, nid = editing.apply_fix(d, {"insert": "Flatten", "before": "out"})
    assert new.predecessors("out") == [nid] and new.predecessors(nid) == ["conv"]


def test_apply_fix_rejects_unknown_shapes():
    with pytest.raises(EditError):
        editing.apply_fix(chain(("a", "Input")), {"remove": "a"})


def test_set_param_checks_the_catalog():
    d = templates.get("digits-mlp")
    assert editing.set_param(d, "dense", "units", 12).node("dense").params["units"] == 12
    with pytest.raises(EditError, match="at least 1"):
        editing.set_param(d, "dense", "units", 0)
    with pytest.raises(EditError, match="no parameter"):
        editing.set_param(d, "dense", "filters", 3)


def test_augmentation_edits():
    d = sections.add_augmentation(Design(), "RandomFlip")
    d = sections.add_augmentation(d, "RandomFlip")
    assert [n.id for n in d.augmentation] == ["randomflip", "randomflip_2"]
    d = sections.set_augmentation_param(d, "randomflip", "mode", "horizontal")
    assert d.augmentation[0].params["mode"] == "horizontal"
    with pytest.raises(EditError):
        sections.add_augmentation(d, "Dense")
    with pytest.raises(EditError):
        sections.set_augmentation_param(d, "randomflip", "mode", "sideways")
    assert [n.id for n in sections.remove_augmentation(d, "randomflip").augmentation] == [
        "randomflip_2"
    ]


def test_history_undo_redo_roundtrip():
    h = History()
    d0 = templates.get("digits-mlp")
    h.record(d0)
    d1 = editing.delete_node(d0, "dropout")
    assert h.can_undo and not h.can_redo
    back = h.undo(d1)
    assert back.to_dict() == d0.to_dict()
    assert h.can_redo
    again = h.redo(back)
    assert again.to_dict() == d1.to_dict()
    assert h.undo(Design()) is not None and h.undo(Design()) is None


def test_history_new_edit_clears_redo_and_is_bounded():
    h = History(limit=3)
    d = templates.get("digits-mlp")
    for units in range(5):
        h.record(editing.set_param(d, "dense", "units", units + 1))
    assert len(h.past) == 3
    h.undo(d)
    h.record(d)
    assert not h.can_redo


def test_tail_is_the_output():
    assert editing.tail(templates.get("digits-mlp")) == "output"
    assert editing.tail(Design()) is None


def test_compile_settings():
    d = templates.get("digits-mlp")
    d = sections.set_compile(d, "optimizer", "SGD")
    d = sections.set_optimizer_param(d, "momentum", 0.9)
    assert d.compile.optimizer == "SGD" and d.compile.optimizer_params == {"momentum": 0.9}
    d2 = sections.set_compile(d, "optimizer", "Adam")
    assert d2.compile.optimizer_params == {}  # SGD's momentum means nothing to Adam
    with pytest.raises(EditError, match="unknown loss"):
        sections.set_compile(d, "loss", "nonsense")
    with pytest.raises(EditError, match="learning_rate"):
        sections.set_optimizer_param(d, "learning_rate", -1.0)


def test_section_settings_and_name():
    d = templates.get("digits-mlp")
    assert sections.set_section(d, "training", "epochs", 3).training.epochs == 3
    assert sections.set_section(d, "data", "dataset", "moons").data.dataset == "moons"
    with pytest.raises(EditError):
        sections.set_section(d, "training", "early_stopping", 1)
    with pytest.raises(EditError):
        sections.set_section(d, "training", "nope", 1)
    # Whatever an edit accepts must load again from the saved file.
    for section, name, bad in [
        ("training", "epochs", None),
        ("training", "batch_size", "8"),
        ("data", "test_split", float("nan")),
        ("data", "seed", 1.5),
    ]:
        with pytest.raises(EditError, match=f"{section}.{name}"):
            sections.set_section(d, section, name, bad)
    assert sections.set_section(d, "data", "target", None).data.target is None
    assert sections.set_name(d, "  mine ").name == "mine"
    with pytest.raises(EditError):
        sections.set_name(d, " ")


def test_fit_to_data_sets_input_shape_and_output_units():
    d = templates.get("digits-mlp")
    fitted = sections.fit_to_data(d, (2,), "classification", 3)
    assert fitted.node("input").params["shape"] == [2]
    assert fitted.node("output").params == {"units": 3, "activation": "softmax"}
    reg = sections.fit_to_data(d, (10,), "regression", 0)
    assert reg.node("output").params == {"units": 1}
    binary = templates.get("text-lstm")
    assert sections.fit_to_data(binary, (200,), "text", 2).node("output").params["units"] == 1
    with pytest.raises(EditError):
        sections.fit_to_data(Design(), (2,), "classification", 2)
