"""The Export page (AppTest): the run choice, the deploy formats built with its weights, the
model card ZIP and the graph picture buttons."""

import io
import shutil
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import onnxruntime
from app_widgets import widget
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # ui/ lives beside app.py
from ui import exportview, state  # noqa: E402


def test_onnx_is_built_on_a_click_and_offered_with_its_size(open_app, tmp_path):
    app = open_app()
    app.button(key="use_moons-mlp").click().run()
    app.switch_page("pages/export.py").run()
    assert not app.exception
    assert widget(app, "selectbox", exportview.RUN_KEY).value == exportview.FRESH  # no run yet
    widget(app, "selectbox", "deploy_format").set_value("onnx").run()
    widget(app, "button", "deploy_build").click().run()
    assert not app.exception and not app.error
    download = widget(app, "download_button", "dl_deploy")
    assert download.proto.label.startswith("⬇ moons-mlp.onnx (")
    data, name = app.session_state[f"deploy_built:onnx::{app.session_state[state.REVISION]}"]
    (tmp_path / name).write_bytes(data)
    session = onnxruntime.InferenceSession(str(tmp_path / name))  # a model ONNX Runtime opens
    assert [o.shape[-1] for o in session.get_outputs()] == [2]


def test_the_chosen_run_gives_the_deploy_weights_and_the_card(open_app, app_env, digits_run):
    _, run = digits_run
    app = open_app()
    app.button(key="use_digits-mlp").click().run()
    shutil.copytree(run, app_env / "runs" / run.name)  # a run of this design, on disk
    app.switch_page("pages/export.py").run()
    assert not app.exception
    choice = widget(app, "selectbox", exportview.RUN_KEY)
    assert choice.value == run.name  # the design's trained run is picked
    assert widget(app, "download_button", "dl_keras").proto.label.endswith("(trained)")
    labels = {b.key: b.proto.label for b in app.get("download_button")}
    assert labels["dl_svg"] == "⬇ SVG" and labels["dl_png"] == "⬇ PNG"
    rev = app.session_state[state.REVISION]

    # Deploy: the ONNX file computes what the run's trained model computes.
    widget(app, "selectbox", "deploy_format").set_value("onnx").run()
    widget(app, "button", "deploy_build").click().run()
    assert not app.exception and not app.error
    data, name = app.session_state[f"deploy_built:onnx:{run.name}:{rev}"]
    (app_env / name).write_bytes(data)
    xs = np.random.default_rng(0).random((4, 8, 8, 1)).astype("float32")
    session = onnxruntime.InferenceSession(str(app_env / name))
    got = session.run(None, {session.get_inputs()[0].name: xs})[0]
    trained = keras.saving.load_model(run / "model.keras")
    assert np.allclose(got, trained.predict(xs, verbose=0), atol=1e-4)

    # The model card: Markdown and its pictures, the run's confusion matrix among them.
    widget(app, "button", "card_build").click().run()
    assert not app.exception and not app.error
    data, name = app.session_state[f"card_built:{run.name}:{rev}"]
    assert name == "digits-mlp-card.zip"
    assert widget(app, "download_button", "dl_card").proto.label.startswith(f"⬇ {name} (")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    folder = "digits-mlp-card/digits-mlp"
    assert sorted(files) == sorted(
        f"{folder}{end}" for end in (".md", "-graph.png", "-curves.png", "-confusion.png")
    )
    text = files[f"{folder}.md"].decode()
    assert f"Run `{run.name}`" in text and "![Confusion matrix](digits-mlp-confusion.png)" in text
    for n, blob in files.items():
        if n.endswith(".png"):
            assert Image.open(io.BytesIO(blob)).format == "PNG"

    # No run: the card says so, and the deploy key is another one (nothing stale is offered).
    choice.set_value(exportview.FRESH).run()
    assert "fresh weights" in " ".join(c.value for c in app.caption)
    widget(app, "button", "card_build").click().run()
    data, _ = app.session_state[f"card_built::{rev}"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert "No run is attached" in zf.read("digits-mlp-card/digits-mlp.md").decode()
        assert len(zf.namelist()) == 2  # the card and its graph
