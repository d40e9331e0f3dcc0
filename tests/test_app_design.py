"""The Design page (AppTest, widgets by key) and its canvas/forms adapters (plain functions)."""

import json
import re
import sys
from pathlib import Path

import pytest
from app_widgets import open_palette, pick_from_palette, widget

from designer.design import catalog, templates
from designer.design.params import ParamSpec
from designer.design.spec import Design, Edge, Node
from designer.model.build import analyze

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


def open_tab(at, label: str) -> None:
    """Click a tab of the Summary/Code pair: only the open one is drawn."""
    at.session_state["design_tabs"] = label
    at.run()


def python_code(at) -> str:
    """The generated script (the page's other code box holds the Copy link)."""
    open_tab(at, "Code")
    return next(c.value for c in at.code if c.language == "python")


def summary(at):
    open_tab(at, "Summary")
    return next(df.value for df in at.dataframe if "Layer (id)" in df.value.columns)


def test_only_the_open_tab_of_summary_and_code_is_drawn(app):
    assert not [c for c in app.code if c.language == "python"]  # Summary is open first
    assert any("Layer (id)" in df.value.columns for df in app.dataframe)
    open_tab(app, "Code")
    assert not any("Layer (id)" in df.value.columns for df in app.dataframe)
    assert "layers.Dense(64" in next(c.value for c in app.code if c.language == "python")


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_totals_are_shown(app):
    assert metric(app, "Parameters") == "4,810"
    assert metric(app, "Trainable") == "4,810"
    assert metric(app, "Layers") == "5"
    assert "KB" in metric(app, "Est. memory") or "MB" in metric(app, "Est. memory")


def test_palette_inserts_after_the_selected_layer(app):
    widget(app, "selectbox", "selected_layer").set_value("dense").run()
    pick_from_palette(app, "normalization", "BatchNormalization")
    d = design(app)
    assert d.successors("dense") == ["batchnormalization"]
    assert d.successors("batchnormalization") == ["dropout"]
    assert widget(app, "selectbox", "selected_layer").value == "batchnormalization"
    assert metric(app, "Parameters") == f"{4810 + 4 * 64:,}"


def test_palette_search_filters_the_categories(app):
    app.text_input(key="palette_search").input("lstm").run()
    keys = {p.key.split(":")[0] for p in app.get("button_group")}
    assert keys == {"pal_recurrent"}


def test_only_open_palette_categories_draw_their_chips(app):
    """Core is open at first and the only category whose chips are drawn; opening another
    draws its chips (each shut category still shows its name and count)."""
    assert {p.key.split(":")[0] for p in app.get("button_group")} == {"pal_core"}
    pooling = [s for s in catalog.search("") if s.category == "pooling"]
    assert f"Pooling ({len(pooling)})" in [e.label for e in app.get("expander")]
    open_palette(app, "pooling")
    chips = {p.key.split(":")[0]: p for p in app.get("button_group")}
    assert chips.keys() == {"pal_core", "pal_pooling"}
    assert "MaxPooling2D" in [o.content for o in chips["pal_pooling"].proto.options]


def test_editing_a_field_revalidates_at_once(app):
    widget(app, "number_input", "p:output:units").set_value(5).run()
    assert design(app).node("output").params["units"] == 5
    assert metric(app, "Parameters") == f"{64 * 64 + 64 + 64 * 5 + 5:,}"
    assert any("10 classes" in w.value for w in app.warning)  # no longer fits the digits


def test_an_invalid_value_is_a_message_next_to_the_field(app):
    widget(app, "selectbox", "selected_layer").set_value("input").run()
    widget(app, "text_input", "p:input:shape").input("28, x").run()
    assert not app.exception
    assert any("whole numbers" in e.value for e in app.error)
    assert design(app).node("input").params["shape"] == [8, 8, 1]  # the design kept its value
    widget(app, "text_input", "p:input:shape").input("8, 8, 1").run()
    assert not any("whole numbers" in e.value for e in app.error)


def test_an_impossible_layer_is_red_with_its_reason(app):
    widget(app, "selectbox", "selected_layer").set_value("dense").run()
    pick_from_palette(app, "convolution", "Conv2D")
    assert not app.exception
    assert any("Conv2D needs images" in e.value for e in app.error)
    assert design(app).node_ids()[3] == "conv2d"


def test_rename_and_a_refused_rename(app):
    widget(app, "selectbox", "selected_layer").set_value("dense").run()
    widget(app, "text_input", "n:dense").input("hidden").run()
    assert "hidden" in design(app).node_ids() and design(app).successors("flatten") == ["hidden"]
    widget(app, "text_input", "n:hidden").input("output").run()
    assert any("already called" in e.value for e in app.error)
    assert "hidden" in design(app).node_ids()


def test_delete_duplicate_move_undo_redo(app):
    widget(app, "selectbox", "selected_layer").set_value("dropout").run()
    widget(app, "button", "delete").click().run()
    assert design(app).successors("dense") == ["output"]
    app.button(key="undo").click().run()
    assert design(app).successors("dense") == ["dropout"]
    app.button(key="redo").click().run()
    assert "dropout" not in design(app).node_ids()
    app.button(key="undo").click().run()
    widget(app, "selectbox", "selected_layer").set_value("dense").run()
    widget(app, "button", "duplicate").click().run()
    assert design(app).successors("dense") == ["dense_2"]
    widget(app, "button", "move_down").click().run()  # dense_2 below dropout
    assert design(app).successors("dropout") == ["dense_2"]
    widget(app, "button", "move_up").click().run()
    assert design(app).successors("dense_2") == ["dropout"]


def test_connect_and_disconnect_build_a_branch(app):
    widget(app, "selectbox", "selected_layer").set_value("dense").run()
    pick_from_palette(app, "merge", "Concatenate")  # dense → concatenate
    widget(app, "selectbox", "selected_layer").set_value("flatten").run()
    box = widget(app, "selectbox", "connect_target")
    assert "output" not in box.options  # it has its one input already
    box.set_value("concatenate").run()
    widget(app, "button", "connect").click().run()
    assert design(app).predecessors("concatenate") == ["dense", "flatten"]
    assert not app.error, [e.value for e in app.error]
    widget(app, "selectbox", "disconnect_edge").set_value(("flatten", "concatenate")).run()
    widget(app, "button", "disconnect").click().run()
    assert design(app).predecessors("concatenate") == ["dense"]
    assert any("needs at least 2 inputs" in e.value for e in app.error)
    assert not app.exception


def test_one_click_fix_inserts_flatten(app):
    widget(app, "selectbox", "selected_layer").set_value("flatten").run()
    widget(app, "button", "delete").click().run()
    widget(app, "selectbox", "selected_layer").set_value("dense").run()
    assert any("Flatten" in w.value for w in app.warning)
    widget(app, "button", "apply_fix").click().run()
    assert design(app).predecessors("dense") == ["flatten"]
    assert not [b.key for b in app.button if b.key.startswith("apply_fix")]  # gone once applied


def test_compile_settings(app):
    assert widget(app, "selectbox", "c:loss").value == "auto"
    widget(app, "selectbox", "c:optimizer").set_value("SGD").run()
    widget(app, "number_input", "c:opt:SGD:momentum").set_value(0.9).run()
    widget(app, "selectbox", "c:loss").set_value("categorical_crossentropy").run()
    widget(app, "multiselect", "c:metrics").set_value(["accuracy", "precision"]).run()
    c = design(app).compile
    assert (c.optimizer, c.optimizer_params, c.loss) == (
        "SGD",
        {"momentum": 0.9},
        "categorical_crossentropy",
    )
    assert c.metrics == ["accuracy", "precision"]
    widget(app, "selectbox", "c:loss").set_value("auto").run()
    assert design(app).compile.loss is None


def test_summary_and_code_stay_in_sync(app):
    table = summary(app)
    assert list(table["Layer (id)"]) == ["input", "flatten", "dense", "dropout", "output"]
    assert "layers.Dense(64" in python_code(app)
    widget(app, "selectbox", "selected_layer").set_value("dense").run()
    widget(app, "number_input", "p:dense:units").set_value(48).run()
    assert "layers.Dense(48" in python_code(app)
    assert "(48,)" in list(summary(app)["Output shape"])


def test_changes_are_saved_to_the_session_file(app, tmp_path):
    widget(app, "selectbox", "selected_layer").set_value("dense").run()
    widget(app, "number_input", "p:dense:units").set_value(7).run()
    sid = app.session_state["session_id"]
    raw = json.loads((tmp_path / "sessions" / f"{sid}.json").read_text())
    assert Design.from_dict(raw["design"]).node("dense").params["units"] == 7


# ---- one write path: the design changes only through an edit -----------------------------------
def session_file(app, tmp_path) -> Path:
    return tmp_path / "sessions" / f"{app.session_state['session_id']}.json"


def test_selecting_and_switching_pages_never_write_the_design(app, tmp_path):
    before = session_file(app, tmp_path).read_text()
    revision = app.session_state["design_revision"]
    undo_steps = len(app.session_state["history"].past)
    for node in ("dense", "input", "dropout", "output"):
        widget(app, "selectbox", "selected_layer").set_value(node).run()
    app.switch_page("pages/train.py").run()
    app.switch_page("pages/data.py").run()
    app.switch_page("pages/design.py").run()
    assert app.session_state["design_revision"] == revision
    saved = json.loads(session_file(app, tmp_path).read_text())
    assert saved["design"] == json.loads(before)["design"]
    assert len(app.session_state["history"].past) == undo_steps


def test_every_edit_moves_the_revision_and_renames_the_fields(app):
    old = widget(app, "number_input", "p:output:units").key
    widget(app, "number_input", "p:output:units").set_value(12).run()
    new = widget(app, "number_input", "p:output:units")
    assert new.key != old and new.value == 12  # a new widget that shows the new value


def field_keys(at) -> dict[str, str]:
    """The design's fields drawn now: name -> key (``name:rN``, see ui/state.py)."""
    kinds = ("number_input", "text_input", "selectbox", "multiselect", "checkbox")
    keys = [w.key for kind in kinds for w in getattr(at, kind) if w.key]
    return {
        k.rsplit(":r", 1)[0]: k
        for k in keys
        if re.search(r":r\d+$", k) and not k.startswith("selected_layer")
    }


def test_an_edit_replaces_only_the_fields_whose_look_it_changed(app):
    """A field keeps its widget (and its place in the browser) through another field's edit;
    the edited field is replaced, and so is one whose options' labels the edit changed."""
    widget(app, "selectbox", "selected_layer").set_value("output").run()
    before = field_keys(app)
    widget(app, "number_input", "p:output:units").set_value(1).run()
    after = field_keys(app)
    assert before.keys() == after.keys()
    assert [n for n in before if before[n] != after[n]] == ["p:output:units"]
    assert widget(app, "selectbox", "c:loss").options[0] == "auto: sparse_categorical_crossentropy"
    # One sigmoid unit makes the task binary: "auto" now means another loss, though the loss
    # field itself was not written.
    widget(app, "selectbox", "p:output:activation").set_value("sigmoid").run()
    again = field_keys(app)
    changed = sorted(n for n in after if after[n] != again[n])
    assert changed == ["c:loss", "p:output:activation"], changed
    assert widget(app, "selectbox", "c:loss").options[0] == "auto: binary_crossentropy"
    assert widget(app, "selectbox", "c:loss").value == "auto"


def test_an_undo_replaces_every_field(app):
    """A jump (undo, another tab's change, a new design) replaces every field: a value typed
    before it can neither stay in a box nor be sent under the new design."""
    widget(app, "selectbox", "selected_layer").set_value("dense").run()
    widget(app, "number_input", "p:dense:units").set_value(50).run()
    before = field_keys(app)
    app.button(key="undo").click().run()
    after = field_keys(app)
    assert before.keys() == after.keys()
    assert not [n for n in before if before[n] == after[n]]
    assert widget(app, "number_input", "p:dense:units").value == 64


def test_a_refused_value_keeps_its_message_until_its_field_is_replaced(app):
    """A value the field refused stays in its box with the reason through another field's
    edit (nothing typed is lost); an undo replaces the field, which shows the design's value."""
    widget(app, "selectbox", "selected_layer").set_value("input").run()
    widget(app, "text_input", "p:input:shape").input("28, x").run()
    widget(app, "text_input", "c:name").input("renamed").run()
    assert design(app).name == "renamed"
    assert widget(app, "text_input", "p:input:shape").value == "28, x"
    assert any("whole numbers" in e.value for e in app.error)
    app.button(key="undo").click().run()
    assert widget(app, "text_input", "p:input:shape").value == "8, 8, 1"
    assert not any("whole numbers" in e.value for e in app.error)
    assert design(app).node("input").params["shape"] == [8, 8, 1]


def test_a_stale_field_does_not_overwrite_what_another_tab_wrote(app, tmp_path):
    """Tab B changed the output's units after this tab drew its field: this tab's change of
    the same field is dropped, its change of another field lands on top of B's design."""
    path = session_file(app, tmp_path)
    saved = json.loads(path.read_text())
    other = Design.from_dict(saved["design"])
    other.node("output").params["units"] = 7
    saved |= {"design": other.to_dict(), "revision": saved["revision"] + 1}
    path.write_text(json.dumps(saved))
    widget(app, "number_input", "p:output:units").set_value(5).run()  # drawn when it was 10
    assert design(app).node("output").params["units"] == 7
    widget(app, "selectbox", "selected_layer").set_value("dense").run()
    widget(app, "number_input", "p:dense:units").set_value(32).run()
    assert design(app).node("dense").params["units"] == 32
    assert design(app).node("output").params["units"] == 7
    assert Design.from_dict(json.loads(path.read_text())["design"]) == design(app)


def test_a_replaced_field_sent_again_after_an_undo_changes_nothing(app, tmp_path):
    """A browser may send a replaced field's value again, and Streamlit still holds that old
    widget's callback. After 10 → 115 → 48 and an undo back to 115, the field drawn at 115
    holds its drawn value again (A-B-A), yet sending it again with 48 must not bring 48 back:
    the walk of issue 14 saw exactly this (the design after the undo became the one before)."""
    widget(app, "number_input", "p:output:units").set_value(115).run()
    replaced = widget(app, "number_input", "p:output:units")  # drawn while the design held 115
    replaced.set_value(48).run()
    assert design(app).node("output").params["units"] == 48
    app.button(key="undo").click().run()
    assert design(app).node("output").params["units"] == 115
    states = app._tree.get_widget_states()  # what the browser sends: the page as drawn...
    states.widgets.append(replaced._widget_state)  # ...and the old field, still at 48
    app._run(states)
    assert not app.exception
    assert design(app).node("output").params["units"] == 115
    saved = json.loads(session_file(app, tmp_path).read_text())["design"]
    assert Design.from_dict(saved).node("output").params["units"] == 115


def test_a_palette_chip_drawn_before_another_edit_adds_nothing(app, tmp_path):
    """The palette edits by value (the chip's name), so its key carries the revision: a chip
    picked on a page drawn before another tab's edit (or sent again by a stale browser) does
    not add a layer on top of a design it was not drawn for; the redrawn palette adds."""
    widget(app, "selectbox", "selected_layer").set_value("dense").run()
    drawn = widget(app, "pills", "pal_core").key
    assert drawn.endswith(f":r{app.session_state['design_revision']}")
    path = session_file(app, tmp_path)
    saved = json.loads(path.read_text())
    other = Design.from_dict(saved["design"])
    other.node("output").params["units"] = 7
    saved |= {"design": other.to_dict(), "revision": saved["revision"] + 1}
    path.write_text(json.dumps(saved))
    widget(app, "pills", "pal_core").set_value("Dense").run()  # drawn before B's edit
    assert design(app) == other
    fresh = widget(app, "pills", "pal_core")
    assert fresh.key != drawn and fresh.value is None
    fresh.set_value("Dense").run()
    assert design(app).successors("dense") == ["dense_2"]
    assert design(app).node("output").params["units"] == 7


def test_two_fields_changed_in_one_rerun_both_land(app):
    widget(app, "selectbox", "c:optimizer").set_value("SGD").run()
    widget(app, "number_input", "c:opt:SGD:learning_rate").set_value(0.05)
    widget(app, "number_input", "c:opt:SGD:momentum").set_value(0.5)
    widget(app, "text_input", "c:name").input("two at once")
    app.run()
    c = design(app).compile
    assert c.optimizer_params == {"learning_rate": 0.05, "momentum": 0.5}
    assert design(app).name == "two at once"


def test_a_value_the_catalog_refuses_never_reaches_the_design(app):
    widget(app, "selectbox", "selected_layer").set_value("dropout").run()
    widget(app, "number_input", "p:dropout:rate").set_value(0.5).run()
    assert design(app).node("dropout").params["rate"] == 0.5
    widget(app, "selectbox", "selected_layer").set_value("input").run()
    widget(app, "text_input", "p:input:shape").input("8, 0, 1").run()
    assert design(app).node("input").params["shape"] == [8, 8, 1]
    assert any("positive" in e.value for e in app.error)


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
    d = Design(
        nodes=[Node("in", "Input", {"shape": [4]}), Node("c", "Conv2D", {"filters": 2})],
        edges=[Edge("in", "c")],
    )
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
    [
        ("shape", "28, 28, 1", [28, 28, 1]),
        ("shape", "(None, 3)", [None, 3]),
        ("ints", "3", 3),
        ("ints", "3x3", [3, 3]),
        ("int", " 12 ", 12),
        ("float", "1e-3", 0.001),
        ("str", "abc", "abc"),
    ],
)
def test_forms_parse_what_people_type(kind, text, value):
    assert forms.parse(ParamSpec("p", kind, None, ""), text) == value


@pytest.mark.parametrize(
    "kind,text", [("shape", "28, x"), ("int", "1.5"), ("float", "abc"), ("int", "")]
)
def test_forms_refuse_with_a_reason(kind, text):
    with pytest.raises(ValueError, match="p:"):
        forms.parse(ParamSpec("p", kind, None, ""), text)


def test_forms_show_values_as_people_write_them():
    assert forms.to_text(ParamSpec("s", "shape", None, ""), [28, 28, 1]) == "28, 28, 1"
    assert forms.to_text(ParamSpec("f", "float", None, ""), 0.001) == "0.001"
    assert forms.to_text(ParamSpec("o", "int", None, "", optional=True), None) == ""


def test_arguments_kept_from_an_imported_model_are_shown_read_only_and_can_be_dropped(open_app):
    at = open_app()
    d = templates.get("moons-mlp")
    dense = next(n for n in d.nodes if n.type == "Dense")
    dense.params["keras"] = {
        "kernel_regularizer": {
            "module": "keras.regularizers",
            "class_name": "L2",
            "config": {"l2": 0.5},
            "registered_name": None,
        }
    }
    at.file_uploader(key="home_open").upload("imp.json", d.to_json().encode(), "application/json")
    at.run()
    at.switch_page("pages/design.py").run()
    widget(at, "selectbox", "selected_layer").set_value(dense.id).run()
    assert not at.exception
    assert any("From the imported model" in c.value for c in at.caption)
    assert "kernel_regularizer=keras.regularizers.L2(l2=0.5)" in python_code(at)
    widget(at, "button", "drop_kept").click().run()
    assert "keras" not in design(at).node(dense.id).params
    assert not any("From the imported model" in c.value for c in at.caption)
