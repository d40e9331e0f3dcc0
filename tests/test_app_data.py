"""The Data page through AppTest: built-in sets, the fit button, uploads, augmentation."""

import json

import pytest
from app_widgets import widget

from designer.design.spec import Design


@pytest.fixture
def app(open_app):
    at = open_app()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_digits_preview_shows_split_samples_and_balance(app):
    m = metrics(app)
    assert (m["Train"], m["Validation"], m["Test"]) == ("1,079", "359", "359")
    assert m["Input shape"] == "(8, 8, 1)"
    assert len(app.get("plotly_chart")) >= 2  # the sample grid and the class balance


def test_choosing_the_moons_and_fitting_the_design(app):
    from designer.data import list_datasets

    assert {f"ds_{i.id}" for i in list_datasets()} <= {b.key for b in app.button}  # every card
    app.button(key="ds_moons").click().run()
    assert app.session_state["design"].data.dataset == "moons"
    assert "In use" in app.button(key="ds_moons").label
    assert app.button(key="ds_digits").label == "Use"
    assert metrics(app)["Input shape"] == "(2,)"
    app.button(key="fit_design").click().run()
    d = app.session_state["design"]
    assert d.node("input").params["shape"] == [2]
    assert d.node("output").params == {"units": 2, "activation": "softmax"}
    assert "fit_design" not in [b.key for b in app.button]


def test_the_split_sliders_change_the_design(app):
    widget(app, "slider", "d:validation_split").set_value(0.3).run()
    assert app.session_state["design"].data.validation_split == pytest.approx(0.3)
    assert metrics(app)["Validation"] == f"{round(1797 * 0.3):,}"


def test_the_made_up_reviews_show_as_words(app):
    app.button(key="ds_reviews").click().run()
    assert not app.exception
    texts = next(df.value for df in app.dataframe if "text" in df.value.columns)
    assert len(texts) == 12 and set(texts["class"]) <= {"negative", "positive"}
    assert all(len(t.split()) >= 4 for t in texts["text"])  # sentences, not ids
    assert metrics(app)["Input shape"] == "(200,)"


def test_the_coloured_shapes_show_as_colour_thumbnails_with_their_fixed_test_split(app):
    from designer.data import shapes

    app.button(key="ds_shapes").click().run()
    assert not app.exception
    m = metrics(app)
    assert m["Input shape"] == "(32, 32, 3)" and m["Test"] == f"{shapes.N_TEST:,}"
    assert len(app.get("plotly_chart")) >= 2  # the sample grid and the class balance


def test_two_fields_changed_in_one_run_both_stick_and_survive_a_refresh(app, tmp_path):
    # A person types in one field and then another before the page re-runs: both callbacks
    # run in one go, and neither may see the other's widget emptied.
    widget(app, "slider", "d:test_split").set_value(0.3)
    widget(app, "number_input", "d:seed").set_value(7)
    app.run()
    assert not app.exception
    d = app.session_state["design"]
    assert (d.data.test_split, d.data.seed) == (pytest.approx(0.3), 7)
    sid = app.session_state["session_id"]
    saved = json.loads((tmp_path / "sessions" / f"{sid}.json").read_text())
    reopened = Design.from_dict(saved["design"])
    assert (reopened.data.test_split, reopened.data.seed) == (pytest.approx(0.3), 7)


def test_a_csv_upload_asks_for_its_target_then_previews(app):
    rows = "".join(f"{i},{i % 7 * 1.5},{'yes' if i % 2 else 'no'}\n" for i in range(80))
    app.file_uploader(key="data_upload").upload(
        "my data.csv", ("a,b,label\n" + rows).encode(), "text/csv"
    ).run()
    assert not app.exception
    data = app.session_state["design"].data
    assert data.dataset == "upload" and data.path.endswith("my_data.csv")
    assert any("target column" in i.value for i in app.info)
    widget(app, "selectbox", "d:target").set_value("label").run()
    assert app.session_state["design"].data.target == "label"
    assert metrics(app)["Input shape"] == "(2,)"
    assert not app.exception


def test_a_broken_upload_is_a_message(app):
    app.file_uploader(key="data_upload").upload(
        "x.npz", b"not a zip", "application/octet-stream"
    ).run()
    assert not app.exception
    assert app.info or app.error  # the reason is shown, never a traceback


def test_augmentation_settings_and_live_preview(app):
    app.selectbox(key="aug_new").set_value("RandomRotation").run()
    app.button(key="aug_add").click().run()
    d = app.session_state["design"]
    assert [n.type for n in d.augmentation] == ["RandomRotation"]
    widget(app, "number_input", "a:randomrotation:factor").set_value(0.25).run()
    assert app.session_state["design"].augmentation[0].params["factor"] == 0.25
    before = len(app.get("plotly_chart"))
    app.button(key="aug_preview").click().run()
    assert not app.exception and not app.error
    assert len(app.get("plotly_chart")) == before + 1
    app.button(key="aug_remove_randomrotation").click().run()
    assert app.session_state["design"].augmentation == []
