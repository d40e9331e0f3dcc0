"""Keras code in the app: the Design page's Paste code box and a .py file opened on Home."""

from __future__ import annotations

import textwrap

import pytest

from designer.design import templates

CODE = textwrap.dedent(
    """\
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        layers.Flatten(),
        layers.Dense(32, activation="relu"),
        layers.Lambda(lambda t: t * 2),
        Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    """
)


@pytest.fixture
def app(open_app):
    at = open_app()
    at.button(key="use_digits-mlp").click().run()  # opens the Design page
    assert not at.exception
    return at


def test_paste_code_replaces_the_design_and_shows_the_line_notes(app):
    revision = app.session_state["design_revision"]
    app.text_area(key="paste_code").set_value(CODE).run()
    assert app.session_state["design_revision"] == revision  # typing is not an edit
    app.button(key="paste_code_read").click().run()
    assert not app.exception
    d = app.session_state["design"]
    assert [n.type for n in d.nodes] == ["Input", "Flatten", "Dense", "Dense"]
    assert app.session_state["design_revision"] == revision + 1
    shown = " ".join(m.value for m in app.markdown)
    assert "line 8: a Lambda layer runs Python code" in shown
    assert "line 9: Dense is not imported" in shown
    assert any("Read 4 layers from the code" in s.value for s in app.success)
    app.button(key="undo").click().run()  # the old design comes back
    assert app.session_state["design"].name == "digits-mlp"


@pytest.mark.parametrize(
    "code, said",
    [
        ("model = keras.Sequential([\n", "line 2: syntax error"),
        ("class Net(keras.Model):\n    pass\nnet = Net()\n", "Net subclasses keras.Model"),
        ("x = 1\n", "no Keras model was found"),
    ],
)
def test_bad_code_is_a_message_and_the_design_is_kept(app, code, said):
    before = app.session_state["design"].to_dict()
    app.text_area(key="paste_code").set_value("import keras\n" * ("import" not in code) + code)
    app.run()
    app.button(key="paste_code_read").click().run()
    assert not app.exception
    text = " ".join(e.value for e in app.error) + " ".join(m.value for m in app.markdown)
    assert said in text
    assert "design is unchanged" in text
    assert app.session_state["design"].to_dict() == before


def test_a_python_file_opens_on_home_with_its_notes_beside_it(open_app):
    at = open_app()
    at.file_uploader(key="home_open").upload("tutorial.py", CODE.encode(), "text/x-python").run()
    assert not at.exception
    d = at.session_state["design"]
    assert d.name == "tutorial" and [n.type for n in d.nodes][-1] == "Dense"
    notes = " ".join(i.value for i in at.info)
    assert "Notes from opening tutorial.py" in notes and "line 8: a Lambda layer" in notes
    assert d.to_dict() != templates.blank().to_dict()
