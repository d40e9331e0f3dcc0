"""Activations and gradients over time (issue 17, point 6): what the runner measures after
each epoch equals what Keras and a GradientTape give directly, and the hints name a layer
whose units died or whose gradients vanished."""

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from designer.design import templates
from designer.report import distributions as dist
from designer.report import viz
from designer.training import Registry, read_distributions, start_training


def compiled(model: keras.Model, loss: str = "mse") -> keras.Model:
    model.compile("sgd", loss)
    return model


def test_histograms_dead_units_and_gradient_norms_match_keras():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,))
    alive = layers.Dense(5, activation="relu", name="alive")(inputs)
    dead = layers.Dense(4, activation="relu", name="dead")(alive)
    model = compiled(keras.Model(inputs, layers.Dense(1, name="out")(dead)))
    kernel, _ = model.get_layer("dead").get_weights()
    model.get_layer("dead").set_weights([kernel, np.full(4, -1e3, "float32")])  # always off
    x = np.random.default_rng(1).normal(size=(40, 6)).astype("float32")
    y = np.random.default_rng(2).normal(size=(40, 1)).astype("float32")
    found = dist.LayerProbe(model, x, y).measure()
    assert list(found) == ["alive", "dead", "out"]
    assert sum(found["alive"]["counts"]) == 40 * 5  # every output value is in a bin
    assert found["dead"]["dead"] == 1.0 and found["alive"]["dead"] < 1.0
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(x))
    weights = model.get_layer("alive").trainable_weights
    direct = np.sqrt(sum(float(tf.reduce_sum(g**2)) for g in tape.gradient(loss, weights)))
    np.testing.assert_allclose(found["alive"]["grad_norm"], direct, rtol=1e-4)
    assert sum(found["alive"]["grad_counts"]) == 6 * 5 + 5  # kernel and bias values
    said = dist.hints(found)
    assert any(h.startswith("**dead**: 100% of its units output zero") for h in said), said
    # Nothing flows back through the dead layer: the one before it is told so, not its size.
    assert any(h.startswith("**alive**: no gradient reaches it") for h in said), said


def test_a_deep_sigmoid_stack_is_told_its_first_layers_gradients_vanish():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8,))
    x = inputs
    for i in range(10):
        x = layers.Dense(16, activation="sigmoid", name=f"s{i}")(x)
    model = compiled(keras.Model(inputs, layers.Dense(1, name="out")(x)))
    xs = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    found = dist.LayerProbe(model, xs, np.zeros((64, 1), "float32") + 3).measure()
    said = dist.hints(found)
    assert any(h.startswith("**s0**") and "vanishing" in h for h in said), said
    assert not any(h.startswith("**out**") for h in said)


def test_the_runner_measures_every_epoch_into_the_run_directory(tmp_path):
    registry = Registry(max_concurrent=1)
    try:
        job = start_training(
            templates.get("digits-mlp"), root=tmp_path, epochs=3, registry=registry
        )
        assert job.wait(300) == "finished", job.snapshot().last_error
    finally:
        registry.shutdown()
    epochs = read_distributions(job.run_dir)
    measured = [e["epoch"] for e in epochs]  # short epochs: some may be skipped, never these
    assert measured[0] == 1 and measured[-1] == 3 and measured == sorted(set(measured))
    last = epochs[-1]["layers"]
    assert {"flatten", "dense", "dropout", "output"} <= set(last)
    assert last["dense"]["grad_norm"] > 0 and last["flatten"]["grad_norm"] is None
    assert sum(last["dense"]["counts"]) == dist.PROBE * 64
    fig = viz.distribution_figure(epochs, "dense", "gradients")
    assert len(fig.data) == len(measured)  # one line per measured epoch
    assert len(viz.gradient_norms_figure(epochs).data) == 2  # dense and output have weights
