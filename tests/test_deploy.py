"""`keras-designer export --format savedmodel|litert|onnx|svg`: artefacts that run outside
Keras and give Keras' own outputs, and a one-line message when a format cannot hold a design."""

import numpy as np
import pytest

from designer.cli import main
from designer.design import templates
from designer.model import exporting
from designer.model.sidecar import save_model_weights, sidecar_path

# Every template but the transfer one (a whole MobileNetV2: slow, and covered by the importer).
TEMPLATES = [t for t in templates.TEMPLATES if t != "transfer-mobilenetv2"]


def keras_model_and_design(tid, tmp_path):
    """The design file, and the Keras model whose weights its sidecar holds."""
    design = templates.get(tid)
    path = tmp_path / "design.json"
    design.save(path)
    model = exporting.build_export_model(design)
    save_model_weights(sidecar_path(path), design, model)
    return path, model


def inputs_for(model, n=3, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for x in model.inputs:
        shape = (n, *[d or 4 for d in x.shape[1:]])
        if "int" in str(x.dtype):
            out.append(rng.integers(0, 20, size=shape).astype(x.dtype))
        else:
            out.append(rng.random(shape, dtype=np.float32))
    return out


def keras_outputs(model, xs):
    out = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    return out if isinstance(out, list) else [out]


# text-lstm's LSTM converts to TensorFlow (Flex) ops, which the LiteRT runtime does not have.
LITERT = [t for t in TEMPLATES if t != "text-lstm"]


@pytest.mark.parametrize("tid", LITERT)
def test_litert_gives_keras_outputs(tid, tmp_path, capsys):
    from ai_edge_litert.interpreter import Interpreter

    path, model = keras_model_and_design(tid, tmp_path)
    out = tmp_path / "model.tflite"
    assert main(["export", str(path), "--format", "litert", "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out} (")
    xs = inputs_for(model)
    runner = Interpreter(model_path=str(out)).get_signature_runner()
    feed = {}
    for x, value in zip(model.inputs, xs):
        name = next(k for k in runner.get_input_details() if x.name.split(":")[0] in k)
        feed[name] = value
    got = runner(**feed)
    expected = keras_outputs(model, xs)
    assert len(got) == len(expected)
    for mine in expected:
        assert any(
            v.shape == mine.shape and np.allclose(v, mine, atol=1e-4) for v in got.values()
        ), tid


def test_a_model_litert_cannot_run_is_one_line_and_no_file(tmp_path, capsys):
    path = tmp_path / "d.json"
    templates.get("text-lstm").save(path)
    out = tmp_path / "m.tflite"
    assert main(["export", str(path), "--format", "litert", "-o", str(out)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"{path}: this design cannot be exported as litert: it needs TensorFlow ops (Flex"
    )
    assert not out.exists()


@pytest.mark.parametrize("tid", TEMPLATES)
def test_onnx_gives_keras_outputs(tid, tmp_path, capsys):
    import onnxruntime

    path, model = keras_model_and_design(tid, tmp_path)
    out = tmp_path / "model.onnx"
    assert main(["export", str(path), "--format", "onnx", "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out} (")
    xs = inputs_for(model)
    session = onnxruntime.InferenceSession(str(out))
    feed = {i.name: x for i, x in zip(session.get_inputs(), xs)}
    got = session.run(None, feed)
    for mine, theirs in zip(keras_outputs(model, xs), got):
        assert np.allclose(theirs, mine, atol=1e-4), tid


@pytest.mark.parametrize("tid", ["two-inputs", "lenet5"])
def test_savedmodel_gives_keras_outputs(tid, tmp_path, capsys):
    import tensorflow as tf

    path, model = keras_model_and_design(tid, tmp_path)
    out = tmp_path / "saved"
    assert main(["export", str(path), "--format", "savedmodel", "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out} (")
    xs = inputs_for(model)
    loaded = tf.saved_model.load(str(out))
    got = loaded.serve(xs if len(xs) > 1 else xs[0])
    got = got if isinstance(got, (list, tuple)) else [got]
    for mine, theirs in zip(keras_outputs(model, xs), got):
        assert np.allclose(np.asarray(theirs), mine, atol=1e-4)


def test_a_wrong_file_name_is_refused_before_anything_is_built(tmp_path, capsys):
    path = tmp_path / "d.json"
    templates.get("digits-mlp").save(path)
    assert main(["export", str(path), "--format", "litert", "-o", str(tmp_path / "m.bin")]) == 2
    assert "must end in .tflite" in capsys.readouterr().err
    assert not (tmp_path / "m.bin").exists()


def test_a_format_that_cannot_hold_the_design_is_one_line(tmp_path, capsys, monkeypatch):
    import keras

    def refuse(self, filepath, format="tf_saved_model", **kw):
        raise ValueError("op SomeOp is not supported\nlong converter trace")

    monkeypatch.setattr(keras.Model, "export", refuse)
    path = tmp_path / "d.json"
    templates.get("digits-mlp").save(path)
    assert main(["export", str(path), "--format", "onnx", "-o", str(tmp_path / "m.onnx")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}: this design cannot be exported as onnx: op SomeOp")
    assert not (tmp_path / "m.onnx").exists()


def test_svg_is_the_gallery_drawing(tmp_path, capsys):
    from designer.report.drawing import design_svg

    path = tmp_path / "d.json"
    templates.get("lenet5").save(path)
    out = tmp_path / "g.svg"
    assert main(["export", str(path), "--format", "svg", "-o", str(out)]) == 0
    assert out.read_text() == design_svg(templates.get("lenet5"), max_width=600)
    assert out.read_text().startswith("<svg")


def test_run_gives_the_trained_weights(tmp_path, capsys):
    import onnxruntime

    path = tmp_path / "d.json"
    design = templates.get("moons-mlp")
    design.save(path)  # no sidecar: without --run the weights would be fresh
    run = tmp_path / "run"
    run.mkdir()
    trained = exporting.build_export_model(design)
    trained.save(run / "model.keras")
    out = tmp_path / "m.onnx"
    assert main(["export", str(path), "--format", "onnx", "-o", str(out), "--run", str(run)]) == 0
    assert f"restored from {run}" in capsys.readouterr().err
    xs = inputs_for(trained)
    got = onnxruntime.InferenceSession(str(out)).run(None, {"input": xs[0]})
    assert np.allclose(got[0], keras_outputs(trained, xs)[0], atol=1e-4)
    assert main(["export", str(path), "--format", "onnx", "-o", str(out), "--run", str(tmp_path)])
    assert "not a run with a trained model" in capsys.readouterr().err
