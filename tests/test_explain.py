"""Where an image model looks (issue 17, points 3 and 4): Grad-CAM, saliency and integrated
gradients against gradients worked out by hand, on a model that learnt to look at one region,
and the ``keras-designer explain`` command on real runs."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import layers
from PIL import Image

from designer.cli import main
from designer.design import editing, templates
from designer.report.explain import ExplainError, explain


# ---- against a hand-computed gradient --------------------------------------------------------
def linear_model(w: float, v: np.ndarray) -> keras.Model:
    """score = Σ v_ij · (w · x_ij): a 1×1 convolution that multiplies by ``w``, then a Dense
    layer with weights ``v`` (no biases), so every gradient is known in closed form."""
    inputs = keras.Input((4, 4, 1))
    conv = layers.Conv2D(1, 1, use_bias=False, name="conv")
    dense = layers.Dense(1, use_bias=False)
    model = keras.Model(inputs, dense(layers.Flatten()(conv(inputs))))
    conv.set_weights([np.full((1, 1, 1, 1), w, dtype="float32")])
    dense.set_weights([v.reshape(16, 1).astype("float32")])
    return model


def test_the_three_methods_equal_the_gradients_worked_out_by_hand():
    rng = np.random.default_rng(0)
    v, x = rng.normal(size=(4, 4)), rng.uniform(0.1, 1.0, size=(4, 4))
    model = linear_model(2.0, v)
    sample = x[..., None].astype("float32")
    # d score / d x_ij = w · v_ij
    saliency = explain(model, sample, "saliency").heatmap
    np.testing.assert_allclose(saliency, np.abs(2.0 * v), rtol=1e-5)
    # A linear score: integrated gradients from black are exactly x · gradient.
    integrated = explain(model, sample, "integrated-gradients").heatmap
    np.testing.assert_allclose(integrated, np.abs(x * 2.0 * v), rtol=1e-4)
    # Grad-CAM: the maps are w·x, their gradient is v, weighted by its mean, negatives cut.
    cam = explain(model, sample, "gradcam")
    assert cam.layer == "conv"
    np.testing.assert_allclose(cam.heatmap, np.maximum(v.mean() * 2.0 * x, 0), rtol=1e-4, atol=1e-6)


def test_a_method_that_does_not_apply_says_why():
    dense_only = keras.Sequential([keras.Input((4, 4, 1)), layers.Flatten(), layers.Dense(3)])
    with pytest.raises(ExplainError, match="convolution"):
        explain(dense_only, np.zeros((4, 4, 1)), "gradcam")
    assert explain(dense_only, np.ones((4, 4, 1)), "saliency").heatmap.shape == (4, 4)
    table = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    with pytest.raises(ExplainError, match="not an image"):
        explain(table, np.zeros(4), "saliency")


# ---- a model that learnt to look at one region -----------------------------------------------
def one_region_data(n: int, seed: int):
    """16×16 noise; class 1 when the top-left 6×6 patch is brighter. Nothing else decides."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 0.5, size=(n, 16, 16, 1)).astype("float32")
    y = rng.integers(0, 2, size=n)
    x[y == 1, :6, :6] += 0.5
    return x, y


def test_most_of_the_saliency_and_gradcam_mass_falls_in_the_region_that_decides():
    keras.utils.set_random_seed(1)
    x, y = one_region_data(3000, 0)
    # Max pooling over the whole picture: the answer comes from where the strongest patch is.
    model = keras.Sequential(
        [
            keras.Input((16, 16, 1)),
            layers.Conv2D(8, 3, padding="same", activation="relu"),
            layers.Conv2D(8, 3, padding="same", activation="relu"),
            layers.GlobalMaxPooling2D(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=6, batch_size=64, verbose=0)
    x_test, y_test = one_region_data(200, 1)
    assert model.evaluate(x_test, y_test, verbose=0)[1] > 0.9
    region = np.zeros((16, 16), bool)
    region[:6, :6] = True  # 14% of the picture
    for method in ("saliency", "gradcam", "integrated-gradients"):
        shares = []
        for sample in x_test[y_test == 1][:10]:
            heat = explain(model, sample, method, class_index=1).heatmap
            assert heat.shape == (16, 16) and (heat >= 0).all()
            shares.append(heat[region].sum() / heat.sum())
        assert np.median(shares) > 0.5, (method, shares)


# ---- the command line ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def conv_run(tmp_path_factory):
    """The digits MLP with a Conv2D after its Input, trained for two epochs by the CLI."""
    work = tmp_path_factory.mktemp("conv-run")
    design, conv = editing.insert_after(templates.get("digits-mlp"), "input", "Conv2D")
    design = editing.set_param(design, conv, "filters", 8)
    path = work / "digits-conv.json"
    design.save(path)
    run = work / "run"
    result = subprocess.run(
        [sys.executable, "-m", "designer.cli", "train", str(path), "--dataset", "digits"]
        + ["--epochs", "2", "--limit", "300", "--out", str(run)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "KERAS_DESIGNER_NO_BAR": "1"},
    )
    assert result.returncode == 0, result.stderr
    return run


@pytest.mark.parametrize("method", ["gradcam", "saliency", "integrated-gradients"])
def test_explain_writes_the_overlay_and_the_raw_heatmap(conv_run, tmp_path, capsys, method):
    png, npy = tmp_path / "e.png", tmp_path / "e.npy"
    args = ["explain", str(conv_run), "--index", "3", "--method", method, "-o", str(png)]
    assert main(args + ["--npy", str(npy), "--class", "7"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {png}: {method}") and out.rstrip().endswith("class 7")
    with Image.open(png) as img:
        img.verify()
    heat = np.load(npy)
    assert heat.shape == (8, 8) and heat.dtype == np.float32 and (heat >= 0).all()
    assert heat.max() > 0
    if method == "gradcam":
        assert "at layer conv2d" in out


def test_explain_of_the_same_sample_is_the_test_split_in_order(conv_run, tmp_path):
    """--index N is x_test[N] of the run's own data: the heatmap is the one the function
    gives for that sample."""
    from designer.data import load_dataset
    from designer.report.evaluate import load_run_model

    npy = tmp_path / "s.npy"
    main(
        ["explain", str(conv_run), "--index", "5", "--method", "saliency"]
        + ["-o", str(tmp_path / "s.png"), "--npy", str(npy)]
    )
    design = json.loads((conv_run / "design.json").read_text())
    limit = json.loads((conv_run / "run.json").read_text()).get("limit")
    data = load_dataset(design["data"], limit=limit)
    direct = explain(load_run_model(conv_run), data.x_test[5], "saliency").heatmap
    np.testing.assert_allclose(np.load(npy), direct, rtol=1e-5)


def test_explain_exit_codes(conv_run, digits_run, tmp_path, capsys):
    _, mlp_run = digits_run
    out = str(tmp_path / "x.png")
    assert main(["explain", str(mlp_run), "--index", "0", "--method", "gradcam", "-o", out]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "convolution" in lines[0]
    assert main(["explain", str(mlp_run), "--index", "0", "--method", "saliency", "-o", out]) == 0
    capsys.readouterr()
    assert (
        main(["explain", str(conv_run), "--index", "99999", "--method", "saliency", "-o", out]) == 2
    )
    assert "test split has" in capsys.readouterr().err
    assert main(["explain", str(tmp_path), "--index", "0", "--method", "saliency", "-o", out]) == 2
    assert "not a run" in capsys.readouterr().err
    args = ["explain", str(conv_run), "--index", "0", "--method", "gradcam", "-o", out]
    assert main(args + ["--layer", "dense"]) == 1
    assert "conv2d" in capsys.readouterr().out
    assert main(args + ["--class", "cat"]) == 1
