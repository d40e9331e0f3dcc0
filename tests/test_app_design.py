"""The Design page (AppTest, widgets by key) and its canvas/forms adapters (plain functions)."""

import json
import sys
from pathlib import Path

import pytest

from designer import templates
from designer.build import analyze
from designer.params import ParamSpec
from designer.spec import Design, Edge, Node

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the app's glue package ui/ lives beside app.py, not installed
from ui import canvas, forms  # noqa: E402


@pytest.fixture
def app(open_app):
    at = open_app()
    at.button(key="use_digits-mlp").click().run()  # opens the Design page
    assert not at.exception
    return at


def design(at) -> Design:
    return at.session_state["design"]


def summary(at):
    return next(df.value for df in at.dataframe if "Layer (id)" in df.value.columns)


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_totals_are_shown(app):
    assert metric(app, "Parameters") == "4,810"
    assert metric(app, "Trainable") == "4,810"
    assert metric(app, "Layers") == "5"
    assert "KB" in metric(app, "Est. memory") or "MB" in metric(app, "Est. memory")


def test_palette_inserts_after_the_selected_layer(app):
    app.selectbox(key="selected_layer").set_value("dense").run()
    app.pills(key="pal_normalization").set_value("BatchNormalization").run()
    d = design(app)
    assert d.successors("dense") == ["batchnormalization"]
    assert d.successors("batchnormalization") == ["dropout"]
    assert app.selectbox(key="selected_layer").value == "batchnormalization"
    assert metric(app, "Parameters") == f"{4810 + 4 * 64:,}"


def test_palette_search_filters_the_categories(app):
    app.text_input(key="palette_search").input("lstm").run()
    keys = {p.key for p in app.get("button_group")}
    assert keys == {"pal_recurrent"}


def test_editing_a_field_revalidates_at_once(app):
    app.number_input(key="p:output:units").set_value(5).run()
    assert design(app).node("output").params["units"] == 5
    assert metric(app, "Parameters") == f"{64 * 64 + 64 + 64 * 5 + 5:,}"
    assert any("10 classes" in w.value for w in app.warning)  # no longer fits the digits


def test_an_invalid_value_is_a_message_next_to_the_field(app):
    app.selectbox(key="selected_layer").set_value("input").run()
    app.text_input(key="p:input:shape").input("28, x").run()
    assert not app.exception
    assert any("whole numbers" in e.value for e in app.error)
    assert design(app).node("input").params["shape"] == [8, 8, 1]  # the design kept its value
    app.text_input(key="p:input:shape").input("8, 8, 1").run()
    assert not any("whole numbers" in e.value for e in app.error)


def test_an_impossible_layer_is_red_with_its_reason(app):
    app.selectbox(key="selected_layer").set_value("dense").run()
    app.pills(key="pal_convolution").set_value("Conv2D").run()
    assert not app.exception
    assert any("Conv2D needs images" in e.value for e in app.error)
    assert design(app).node_ids()[3] == "conv2d"


def test_rename_and_a_refused_rename(app):
    app.selectbox(key="selected_layer").set_value("dense").run()
    app.text_input(key="n:dense").input("hidden").run()
    assert "hidden" in design(app).node_ids() and design(app).successors("flatten") == ["hidden"]
    app.text_input(key="n:hidden").input("output").run()
    assert any("already called" in e.value for e in app.error)
    assert "hidden" in design(app).node_ids()


def test_delete_duplicate_move_undo_redo(app):
    app.selectbox(key="selected_layer").set_value("dropout").run()
    app.button(key="delete").click().run()
    assert design(app).successors("dense") == ["output"]
    app.button(key="undo").click().run()
    assert design(app).successors("dense") == ["dropout"]
    app.button(key="redo").click().run()
    assert "dropout" not in design(app).node_ids()
    app.button(key="undo").click().run()
    app.selectbox(key="selected_layer").set_value("dense").run()
    app.button(key="duplicate").click().run()
    assert design(app).successors("dense") == ["dense_2"]
    app.button(key="move_down").click().run()  # dense_2 below dropout
    assert design(app).successors("dropout") == ["dense_2"]
    app.button(key="move_up").click().run()
    assert design(app).successors("dense_2") == ["dropout"]


def test_connect_and_disconnect_build_a_branch(app):
    app.selectbox(key="selected_layer").set_value("flatten").run()
    app.pills(key="pal_core").set_value("Dense").run()  # flatten → dense_2 → dense
    app.selectbox(key="selected_layer").set_value("flatten").run()
    app.selectbox(key="connect_target").set_value("output").run()
    app.button(key="connect").click().run()
    assert "flatten" in design(app).predecessors("output")
    assert any("takes one input" in e.value for e in app.error)  # Dense cannot merge
    app.selectbox(key="disconnect_edge").set_value(("flatten", "output")).run()
    app.button(key="disconnect").click().run()
    assert design(app).predecessors("output") == ["dropout"]
    assert not app.exception


def test_one_click_fix_inserts_flatten(app):
    app.selectbox(key="selected_layer").set_value("flatten").run()
    app.button(key="delete").click().run()
    app.selectbox(key="selected_layer").set_value("dense").run()
    assert any("Flatten" in w.value for w in app.warning)
    app.button(key="apply_fix").click().run()
    assert design(app).predecessors("dense") == ["flatten"]
    assert "apply_fix" not in [b.key for b in app.button]  # the fix is gone once applied


def test_compile_settings(app):
    assert app.selectbox(key="c:loss").value == "auto"
    app.selectbox(key="c:optimizer").set_value("SGD").run()
    app.number_input(key="c:opt:SGD:momentum").set_value(0.9).run()
    app.selectbox(key="c:loss").set_value("categorical_crossentropy").run()
    app.multiselect(key="c:metrics").set_value(["accuracy", "precision"]).run()
    c = design(app).compile
    assert (c.optimizer, c.optimizer_params, c.loss) == ("SGD", {"momentum": 0.9}, "categorical_crossentropy")  # fmt: skip
    assert c.metrics == ["accuracy", "precision"]
    app.selectbox(key="c:loss").set_value("auto").run()
    assert design(app).compile.loss is None


def test_summary_and_code_stay_in_sync(app):
    table = summary(app)
    assert list(table["Layer (id)"]) == ["input", "flatten", "dense", "dropout", "output"]
    assert "layers.Dense(64" in app.code[0].value
    app.selectbox(key="selected_layer").set_value("dense").run()
    app.number_input(key="p:dense:units").set_value(48).run()
    assert "layers.Dense(48" in app.code[0].value
    assert "(48,)" in list(summary(app)["Output shape"])


def test_changes_are_saved_to_the_session_file(app, tmp_path):
    app.selectbox(key="selected_layer").set_value("dense").run()
    app.number_input(key="p:dense:units").set_value(7).run()
    sid = app.session_state["session_id"]
    raw = json.loads((tmp_path / "sessions" / f"{sid}.json").read_text())
    assert Design.from_dict(raw["design"]).node("dense").params["units"] == 7


# ---- the canvas adapter and the form parsers, without Streamlit ---------------------------------
def test_canvas_nodes_have_two_line_labels_and_category_colours():
    d = templates.get("cifar10-cnn")
    nodes, edges = canvas.graph_elements(d, analyze(d), "conv1")
    conv = next(n for n in nodes if n["id"] == "conv1")
    assert conv["label"] == "Conv2D 32·3×3 relu\n(30, 30, 32) · 896 params"
    assert conv["shape"] == "box" and conv["font"]["face"].endswith("monospace")
    assert conv["borderWidth"] > next(n for n in nodes if n["id"] == "pool1")["borderWidth"]
    assert len(edges) == len(d.edges) and all(e["arrows"] == "to" for e in edges)
    assert next(n for n in nodes if n["id"] == "input")["label"] == "Input · input\n(32, 32, 3)"


def test_canvas_paints_errors_red_with_the_message():
    d = Design(nodes=[Node("in", "Input", {"shape": [4]}), Node("c", "Conv2D", {"filters": 2})],
               edges=[Edge("in", "c")])  # fmt: skip
    nodes, _ = canvas.graph_elements(d, analyze(d), None)
    bad = next(n for n in nodes if n["id"] == "c")
    assert bad["color"]["border"] == canvas.ERROR_COLOURS[1]
    assert bad["color"]["background"] == canvas.ERROR_COLOURS[0]
    assert bad["label"].splitlines()[1].startswith("⚠ Conv2D needs images")
    assert "Conv2D needs images" in bad["title"]


def test_skip_connections_are_curved():
    d = templates.get("mini-resnet")
    _, edges = canvas.graph_elements(d, None, None)
    skip = next(e for e in edges if (e["from"], e["to"]) == ("stem", "b1_add"))
    chain = next(e for e in edges if (e["from"], e["to"]) == ("stem", "b1_conv1"))
    assert skip["smooth"]["type"] == "curvedCW" and chain["smooth"]["type"] == "cubicBezier"


def test_canvas_config_follows_the_ui_notes():
    opts = canvas.config_options(templates.get("digits-mlp"))
    assert opts["physics"] is False and opts["hierarchical"] is True
    assert (opts["direction"], opts["sortMethod"]) == ("UD", "directed")
    assert opts["nodeSpacing"] >= 260 and 80 <= opts["levelSeparation"] <= 110
    assert opts["height"] >= 5 * opts["levelSeparation"]


def test_a_click_selects_once_and_stale_ids_are_ignored():
    ids = ["a", "b"]
    assert canvas.click_to_select("a", None, ids) == ("a", "a")
    assert canvas.click_to_select("a", "a", ids) == (None, "a")  # the same click, repeated
    assert canvas.click_to_select("gone", None, ids) == (None, "gone")
    assert canvas.click_to_select(None, "a", ids) == (None, None)


@pytest.mark.parametrize(
    "kind,text,value",
    [("shape", "28, 28, 1", [28, 28, 1]), ("shape", "(None, 3)", [None, 3]), ("ints", "3", 3),
     ("ints", "3x3", [3, 3]), ("int", " 12 ", 12), ("float", "1e-3", 0.001), ("str", "abc", "abc")],
)  # fmt: skip
def test_forms_parse_what_people_type(kind, text, value):
    assert forms.parse(ParamSpec("p", kind, None, ""), text) == value


@pytest.mark.parametrize("kind,text", [("shape", "28, x"), ("int", "1.5"), ("float", "abc"), ("int", "")])  # fmt: skip
def test_forms_refuse_with_a_reason(kind, text):
    with pytest.raises(ValueError, match="p:"):
        forms.parse(ParamSpec("p", kind, None, ""), text)


def test_forms_show_values_as_people_write_them():
    assert forms.to_text(ParamSpec("s", "shape", None, ""), [28, 28, 1]) == "28, 28, 1"
    assert forms.to_text(ParamSpec("f", "float", None, ""), 0.001) == "0.001"
    assert forms.to_text(ParamSpec("o", "int", None, "", optional=True), None) == ""
