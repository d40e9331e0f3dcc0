"""`keras-designer export` and `import`: files written, lines printed, exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from designer.cli import main
from designer.design import templates
from designer.model import exporting

from helpers.same_model import assert_same_layers

RUFF = Path(sys.executable).with_name("ruff")


@pytest.fixture
def design_file(tmp_path):
    def write(tid="digits-mlp", name="design.json"):
        path = tmp_path / name
        templates.get(tid).save(path)
        return path

    return write


def test_help_lists_export_and_import_without_importing_tensorflow():
    code = (
        "import sys\nfrom designer.cli import build_parser\n"
        "text = build_parser().format_help()\n"
        "assert ' export ' in text and ' import ' in text, text\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_export_py_writes_a_clean_script(design_file, tmp_path, capsys):
    out = tmp_path / "model.py"
    assert main(["export", str(design_file()), "--format", "py", "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    lint = subprocess.run(
        [str(RUFF), "check", "--no-cache", str(out)], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout
    ns = {}
    exec(compile(out.read_text(), str(out), "exec"), ns)
    assert_same_layers(
        ns["build_model"](), exporting.build_export_model(templates.get("digits-mlp"))
    )


def test_export_keras_opens_with_plain_keras(design_file, tmp_path, capsys):
    out = tmp_path / "model.keras"
    assert (
        main(["export", str(design_file("mini-resnet")), "--format", "keras", "-o", str(out)]) == 0
    )
    model = keras.models.load_model(out)  # safe mode, no custom objects
    assert_same_layers(model, exporting.build_export_model(templates.get("mini-resnet")))
    assert model.optimizer.__class__.__name__ == "Adam"  # compiled with the design's settings


def test_import_then_export_keeps_the_trained_function(tmp_path, capsys):
    inputs = keras.Input((6,), name="features")
    x = layers.Dense(16, activation="relu", name="hidden")(inputs)
    x = layers.BatchNormalization(name="bn")(x)
    model = keras.Model(inputs, layers.Dense(3, activation="softmax", name="out")(x))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    model.fit(rng.random((64, 6)), rng.integers(0, 3, 64), epochs=1, verbose=0)
    model.save(tmp_path / "trained.keras")

    design = tmp_path / "imported.json"
    assert main(["import", str(tmp_path / "trained.keras"), "-o", str(design)]) == 0
    assert (tmp_path / "imported.weights.h5").is_file()
    assert [n["id"] for n in json.loads(design.read_text())["nodes"]] == [
        "features",
        "hidden",
        "bn",
        "out",
    ]
    capsys.readouterr()
    out = tmp_path / "again.keras"
    assert main(["export", str(design), "--format", "keras", "-o", str(out)]) == 0
    assert "3 layer(s) restored from imported.weights.h5" in capsys.readouterr().err
    again = keras.models.load_model(out)
    x = rng.random((10, 6))
    assert np.allclose(model.predict(x, verbose=0), again.predict(x, verbose=0), atol=1e-6)
    # --no-weights: the same architecture, fresh weights.
    assert main(["export", str(design), "--format", "keras", "--no-weights", "-o", str(out)]) == 0
    fresh = keras.models.load_model(out)
    assert not np.allclose(model.predict(x, verbose=0), fresh.predict(x, verbose=0))


def test_invalid_design_exits_1_with_one_line_per_node(tmp_path, capsys):
    design = templates.get("digits-mlp")
    design.node("dense").params["units"] = 0
    design.node("dropout").params["rate"] = 2.0
    path = tmp_path / "bad.json"
    design.save(path)
    for fmt, name in (("py", "bad.py"), ("keras", "bad.keras")):
        assert main(["export", str(path), "--format", fmt, "-o", str(tmp_path / name)]) == 1
        assert capsys.readouterr().out.splitlines() == [
            "dense: units: must be at least 1 (got 0)",
            "dropout: rate: must be at most 0.99 (got 2)",
        ]
        assert not (tmp_path / name).exists()


def test_unreadable_inputs_exit_2_without_traceback(tmp_path, capsys, design_file):
    (tmp_path / "notes.json").write_text("not json")
    (tmp_path / "notes.keras").write_text("not a zip")
    cases = [
        ["export", str(tmp_path / "notes.json"), "-o", str(tmp_path / "x.py")],
        ["export", str(tmp_path / "missing.json"), "-o", str(tmp_path / "x.py")],
        ["export", str(design_file()), "--format", "keras", "-o", str(tmp_path / "x.h5")],
        ["import", str(tmp_path / "notes.keras"), "-o", str(tmp_path / "x.json")],
        ["import", str(tmp_path / "missing.keras"), "-o", str(tmp_path / "x.json")],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err and len(err.splitlines()) == 1


def test_import_refuses_a_lambda_model_and_runs_nothing(tmp_path, capsys):
    marker = tmp_path / "marker"
    touch = eval(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]")
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Lambda(touch, name="payload")(inputs))
    marker.unlink()
    model.save(tmp_path / "lambda.keras")
    assert main(["import", str(tmp_path / "lambda.keras"), "-o", str(tmp_path / "d.json")]) == 2
    err = capsys.readouterr().err
    assert "layer 'payload' is refused" in err and "Lambda" in err
    assert not marker.exists() and not (tmp_path / "d.json").exists()


def test_import_reports_what_the_design_cannot_hold_and_still_writes_it(tmp_path, capsys):
    model = keras.Sequential(
        [
            keras.Input((4,), name="x"),
            layers.Dense(8, name="hidden"),
            layers.PReLU(name="prelu"),  # not in the catalog
            layers.Dense(2, name="out"),
        ]
    )
    model.save(tmp_path / "prelu.keras")
    assert main(["import", str(tmp_path / "prelu.keras"), "-o", str(tmp_path / "p.json")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "prelu: cannot be represented: prelu: layer type PReLU is not in the catalog"
    )
    assert (tmp_path / "p.json").is_file() and (tmp_path / "p.weights.h5").is_file()


def test_import_keeps_what_the_form_does_not_offer_and_exits_0(tmp_path, capsys):
    model = keras.Sequential(
        [
            keras.Input((4,), name="x"),
            layers.Dense(8, kernel_regularizer="l2", name="reg"),
            layers.Dense(2, name="out"),
        ]
    )
    model.save(tmp_path / "reg.keras")
    assert main(["import", str(tmp_path / "reg.keras"), "-o", str(tmp_path / "reg.json")]) == 0
    assert capsys.readouterr().out == ""
    kept = json.loads((tmp_path / "reg.json").read_text())["nodes"][1]["params"]["keras"]
    assert kept["kernel_regularizer"]["class_name"] == "L2"


def test_a_damaged_weights_file_is_an_unreadable_input(design_file, tmp_path, capsys):
    path = design_file("moons-mlp", "moons.json")
    (tmp_path / "moons.weights.h5").write_text("garbage")
    out = tmp_path / "moons.keras"
    assert main(["export", str(path), "--format", "keras", "-o", str(out)]) == 2
    assert "--no-weights" in capsys.readouterr().err
    assert main(["export", str(path), "--format", "keras", "--no-weights", "-o", str(out)]) == 0


def test_compile_and_augmentation_problems_are_reported_like_node_problems(tmp_path, capsys):
    design = templates.get("cifar10-cnn")
    design.augmentation[0].type = "Dense"
    design.compile.loss = "bogus"
    path = tmp_path / "design.json"
    design.save(path)
    assert main(["export", str(path), "--format", "keras", "-o", str(tmp_path / "m.keras")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("compile: unknown loss 'bogus'")
    assert lines[1] == "flip: Dense is not an augmentation layer"
