"""Train, Evaluate, Inspect and Export: the progress line, and the whole flow a student takes.

The flow test trains for real (a background process per job), so it takes a minute.
"""

import json
import sys
import time
from pathlib import Path

import pytest
from app_widgets import widget

from designer.training.snapshot import RunSnapshot

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # ui/ lives beside app.py
from ui import trainview  # noqa: E402

TIMEOUT = 180


@pytest.fixture
def app(open_app):
    return open_app(timeout=TIMEOUT)


def python_code(at) -> str:
    """The generated script (the page's other code box holds the Copy link)."""
    return next(c.value for c in at.code if c.language == "python")


def charts(at) -> int:
    return len(at.get("plotly_chart"))


# ---- the progress line ------------------------------------------------------------------------
def snapshot(**fields) -> RunSnapshot:
    base = {"run_id": "r", "run_dir": "runs/r", "status": "running", "phase": "training"}
    return RunSnapshot(**(base | {"done": False, "epoch": 0, "epochs": 5} | fields))


def test_progress_text_while_training():
    snap = snapshot(epoch=2, epochs=20, batch=41, batches=57, eta_s=12.4)
    assert trainview.progress_text(snap) == "epoch 3/20 · batch 41/57 · 12 s left"
    assert trainview.progress_fraction(snap) == pytest.approx((2 + 41 / 57) / 20)


def test_progress_text_before_and_after():
    assert "queue" in trainview.progress_text(
        snapshot(status="queued", phase="queued", queue_position=2)
    )
    starting = snapshot(phase="loading data")
    assert trainview.progress_text(starting) == "loading the data…"
    done = snapshot(status="finished", phase="done", done=True, epoch=5, elapsed=9.6)
    assert trainview.progress_text(done) == "finished · 5/5 epochs in 10 s"
    assert trainview.progress_fraction(done) == 1.0


def test_a_queued_job_is_polled_less_than_a_running_one():
    def every(status, running=1.0, queued=5.0):
        job = snapshot(status=status, done=status not in ("queued", "running", "paused"))
        return trainview.poll_seconds(job, running, queued)

    assert every("running") == every("paused") == 1.0
    assert every("queued") == 5.0 and every("queued", 10.0, None) is None
    assert every("finished") is None and trainview.poll_seconds(None, 1.0, 5.0) is None


@pytest.mark.parametrize(
    "status, intervals",
    [("running", [1.0, 10.0]), ("paused", [1.0, 10.0]), ("queued", [5.0]), ("finished", [])],
)
def test_the_train_page_polls_as_often_as_its_job_changes(open_app, monkeypatch, status, intervals):
    """The intervals the Train page's fragments ask the browser to rerun them at: the live
    panel and the layers' pictures while the job trains or is paused; the live panel alone,
    and slower, while it waits in the queue; nothing once it has ended."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

    from ui import runs

    def snap(run_id):
        done = status == "finished"
        return snapshot(status=status, done=done, epoch=1, history=[{"loss": 1.0}])

    asked: list[float] = []
    enqueue = ScriptRunContext.enqueue

    def watch(self, msg):
        if msg.HasField("auto_rerun"):
            asked.append(msg.auto_rerun.interval)
        return enqueue(self, msg)

    at = open_app()
    monkeypatch.setattr(runs, "snapshot", snap)
    monkeypatch.setattr(ScriptRunContext, "enqueue", watch)
    at.session_state["run_id"] = "r"
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert asked == intervals


def test_dense_units_after_a_flatten_are_shown_as_images():
    import numpy as np

    from designer.design import templates
    from designer.model.build import build_model
    from ui import inspectview

    model = build_model(templates.get("digits-mlp"))  # Input 8×8×1 → Flatten → Dense 64
    dense = model.get_layer("dense")
    images = inspectview.unit_images(model, dense)
    kernel = dense.get_weights()[0]
    assert images.shape == (32, 8, 8)
    # Unit 5's picture is its 64 input weights, where Flatten took them from (row by row).
    np.testing.assert_array_equal(images[5], kernel[:, 5].reshape(8, 8))
    assert inspectview.unit_images(model, model.get_layer("output")) is None  # after a Dropout


def test_metric_names_for_the_second_chart():
    history = [
        {"loss": 1, "accuracy": 0.5, "val_loss": 1, "val_accuracy": 0.4, "learning_rate": 0.1}
    ]
    assert trainview.metric_names(history) == ["accuracy"]
    assert trainview.metric_names([{"epoch": 1, "loss": 2.0, "mae": 1.0}]) == ["mae"]


def test_an_idle_train_page_invites_to_start(app):
    app.switch_page("pages/train.py").run()
    assert not app.exception
    assert any("Start" in i.value for i in app.info)
    assert app.button(key="train_stop").disabled and not app.button(key="train_start").disabled
    app.switch_page("pages/evaluate.py").run()
    assert any("No trained model" in i.value for i in app.info)


# ---- the whole flow ---------------------------------------------------------------------------
def test_two_settings_changed_in_one_run_both_stick(app):
    app.switch_page("pages/train.py").run()
    widget(app, "number_input", "t:epochs").set_value(3)
    widget(app, "number_input", "t:batch_size").set_value(8)
    app.run()
    assert not app.exception
    training = app.session_state["design"].training
    assert (training.epochs, training.batch_size) == (3, 8)
    assert widget(app, "number_input", "t:epochs").value == 3


def test_template_to_trained_model_to_confusion_matrix(app):
    from designer.training import default_registry

    # Home: "Use Digits MLP" → Train: fewer epochs, Start → wait → Evaluate.
    app.button(key="use_digits-mlp").click().run()
    app.switch_page("pages/train.py").run()
    widget(app, "number_input", "t:epochs").set_value(3).run()
    app.button(key="train_start").click().run()
    assert not app.exception and not app.error
    run_id = app.session_state["run_id"]
    job = default_registry().get(run_id)
    assert job is not None
    assert job.wait(timeout=600) == "finished", job.snapshot().last_error
    app.run()
    assert not app.exception
    progress = [p.proto.text for p in app.get("progress")]
    assert progress == ["finished · 3/3 epochs" + progress[0].split("epochs", 1)[1]]
    # Loss and accuracy; in the collapsed expander under them, the chosen layer's outputs and
    # gradients per epoch and every layer's gradient norm.
    assert charts(app) == 2 + 3
    assert any(e.label.startswith("Activations and gradients") for e in app.expander)
    assert app.button(key="train_stop").disabled
    assert [r["run"] for r in app.dataframe[0].value.to_dict("records")] == [run_id]

    app.switch_page("pages/evaluate.py").run()
    assert not app.exception
    accuracy = next(m.value for m in app.metric if m.label.startswith("Accuracy"))
    assert float(accuracy.rstrip("%")) > 30  # well above chance (10%) after 3 epochs
    confusion = next(c for c in app.get("plotly_chart") if "Confusion" in c.proto.spec)
    assert '"texttemplate":"%{text}"' in confusion.proto.spec.replace(" ", "")
    per_class = next(df for df in app.dataframe if "precision" in df.value.columns)
    assert len(per_class.value) == 10
    app.toggle(key="eval_normalize").set_value(True).run()
    assert any("row-normalised" in c.proto.spec for c in app.get("plotly_chart"))
    assert any(h.value == "Most confident mistakes" for h in app.subheader)
    specs = [json.loads(c.proto.spec) for c in app.get("plotly_chart")]
    titles = [a.get("text", "") for spec in specs for a in spec["layout"].get("annotations", [])]
    assert any("→" in t for t in titles)  # the gallery's "true→predicted confidence" titles

    # Where the model looks: an MLP has no convolution, so saliency by default, and Grad-CAM
    # says why it does not apply; the gallery can show where each wrong answer came from.
    assert any(h.value == "Where the model looks" for h in app.subheader)
    look = next(c for c in app.get("plotly_chart") if "Saliency" in c.proto.spec)
    assert "true" in look.proto.spec
    app.toggle(key="mistakes_looked").set_value(True).run()
    assert not app.exception
    app.session_state["look_method"] = "gradcam"
    app.run()
    assert any("convolution" in i.value for i in app.info)

    # Try it: a test sample, then a drawing (a vertical stroke, as a pen would leave it).
    assert any(m.label == "Prediction" for m in app.metric)
    stroke = [[1.0 if c in (3, 4) and 1 <= r <= 6 else 0.0 for c in range(8)] for r in range(8)]
    app.session_state["try_source"] = "Draw"
    app.session_state["try_grid"] = stroke
    app.run()
    assert not app.exception
    drawn = next(m for m in app.metric if m.label == "Prediction")
    assert drawn.value in [str(i) for i in range(10)] and "sure" in drawn.delta

    app.switch_page("pages/inspect_model.py").run()
    assert not app.exception
    assert app.radio(key="inspect_layer").value == "dense"
    assert charts(app) >= 4  # kernel and bias histograms, the kernel heatmap, the unit images
    units = next(
        json.loads(c.proto.spec)
        for c in app.get("plotly_chart")
        if "What each unit" in c.proto.spec
    )
    assert len(units["data"]) == 32  # the first 32 of the 64 hidden units, as 8×8 pictures

    app.switch_page("pages/export.py").run()
    assert not app.exception
    keys = {b.key for b in app.get("download_button")}
    assert {"dl_script", "dl_design", "dl_keras", "dl_run"} <= keys
    assert "def build_model" in python_code(app)


def test_step_trains_one_epoch_then_continue_finishes_the_same_run(app):
    """▸ Step on an idle page starts a run that pauses after epoch 1; the page then offers
    ▶ Continue (Pause turned into it), and Continue trains the rest in the same run."""
    from designer.training import default_registry

    app.button(key="use_moons-mlp").click().run()
    app.switch_page("pages/train.py").run()
    widget(app, "number_input", "t:epochs").set_value(3).run()
    app.button(key="train_step").click().run()
    assert not app.exception and not app.error
    run_id = app.session_state["run_id"]
    job = default_registry().get(run_id)
    deadline = time.monotonic() + TIMEOUT
    while not (job.status == "paused" and job.snapshot().epoch == 1):
        assert time.monotonic() < deadline and not job.done, job.snapshot().last_error
        time.sleep(0.1)
    app.run()
    assert not app.exception
    progress = [p.proto.text for p in app.get("progress")]
    assert progress and progress[0].startswith("paused after epoch 1/3")
    assert app.button(key="train_pause").label == "▶ Continue"
    app.button(key="train_pause").click().run()
    assert job.wait(timeout=TIMEOUT) == "finished", job.snapshot().last_error
    app.run()
    assert app.session_state["run_id"] == run_id and job.snapshot().epoch == 3
    assert (
        app.button(key="train_pause").disabled and app.button(key="train_pause").label == "‖ Pause"
    )
    # Moons: every hidden unit's map beside the decision boundary, live and on Evaluate.
    assert any("hidden1 (tanh)" in c.proto.spec for c in app.get("plotly_chart"))
    # The layers' outputs and gradients over the three epochs, one line per epoch.
    assert any(e.label.startswith("Activations and gradients") for e in app.expander)
    dist = next(c for c in app.get("plotly_chart") if "hidden1: outputs" in c.proto.spec)
    assert json.loads(dist.proto.spec)["data"][-1]["name"] == "epoch 3"
    app.switch_page("pages/evaluate.py").run()
    assert not app.exception
    units = next(c for c in app.get("plotly_chart") if "hidden2 (tanh)" in c.proto.spec)
    assert "incoming weights" in units.proto.spec


def test_a_design_that_cannot_train_says_why(app):
    from designer.training import default_registry

    app.button(key="use_moons-mlp").click().run()  # two classes, 2-D points
    app.switch_page("pages/data.py").run()
    app.button(key="ds_iris").click().run()  # 4 features, 3 classes: no fit
    app.switch_page("pages/train.py").run()
    widget(app, "number_input", "t:epochs").set_value(1).run()
    app.button(key="train_start").click().run()
    job = default_registry().get(app.session_state["run_id"])
    assert job.wait(timeout=600) == "failed"
    app.run()
    assert not app.exception
    assert any("input" in e.value.lower() for e in app.error)


def test_runs_are_listed_and_compared(app, tmp_path):
    from designer.training import rundir

    for name, acc in (("a-run", [0.5, 0.7]), ("b-run", [0.4, 0.6, 0.8])):
        path = tmp_path / "runs" / name
        path.mkdir(parents=True)
        rows = [
            {
                "epoch": i + 1,
                "loss": 1 - a,
                "accuracy": a,
                "val_loss": 1.1 - a,
                "val_accuracy": a - 0.05,
            }
            for i, a in enumerate(acc)
        ]
        rundir.write_history(path, rows)
        rundir.write_status(path, "finished", epochs=len(acc), epochs_done=len(acc))
        (path / "design.json").write_text(json.dumps({"name": name, "nodes": [], "edges": []}))
    # A run another browser session started is not listed here (nor on Home, Evaluate...).
    theirs = tmp_path / "runs" / "their-run"
    theirs.mkdir()
    rundir.write_status(theirs, "finished", epochs=1, epochs_done=1)
    rundir.write_owner(theirs, "0123456789ab")
    rundir.write_owner(tmp_path / "runs" / "b-run", app.session_state["session_id"])
    app.switch_page("pages/train.py").run()
    table = app.dataframe[0].value
    assert set(table["run"]) == {"a-run", "b-run"}
    assert all("finished" in s for s in table["status"])
    app.multiselect(key="compare_runs").set_value(["a-run", "b-run"]).run()
    specs = [json.loads(c.proto.spec) for c in app.get("plotly_chart")]
    names = {t["name"] for spec in specs for t in spec["data"]}
    assert {"a-run · train", "b-run · validation"} <= names
    # The pickers follow the run this session shows, also when it changes from elsewhere.
    for name in ("a-run", "b-run"):
        (tmp_path / "runs" / name / "model.keras").write_bytes(b"")
    for shown in ("a-run", "b-run"):
        app.session_state["run_id"] = shown
        app.run()
        assert app.selectbox(key="show_run").value == shown
        assert app.selectbox(key="resume_run").value == shown
    app.selectbox(key="show_run").set_value("a-run").run()
    assert app.session_state["run_id"] == "a-run"
    app.switch_page("pages/home.py").run()
    assert set(app.dataframe[0].value["run"]) == {"a-run", "b-run"}  # Home: recent runs
