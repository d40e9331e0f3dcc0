"""Every hidden unit on the 2-D sets (issue 17, point 1): the maps the runner streams are the
units' activations as Keras computes them, on the same grid."""

import keras
import numpy as np
from keras import layers

from designer.design import templates
from designer.report import neurons, viz
from designer.report.evaluate import load_run_model
from designer.training import Registry, start_training


def mlp() -> keras.Model:
    inputs = keras.Input((2,))
    x = layers.Dense(5, activation="relu", name="h1")(inputs)
    x = layers.Dense(40, activation="tanh", name="h2")(x)
    return keras.Model(inputs, layers.Dense(2, activation="softmax", name="out")(x))


def test_unit_maps_are_each_units_activation_computed_with_keras():
    keras.utils.set_random_seed(3)
    model = mlp()
    xs, ys = neurons.grid_axes(np.random.default_rng(0).normal(size=(50, 2)), 9)
    found = neurons.UnitProbe(model).maps(xs, ys)
    assert [e["layer"] for e in found] == ["h1", "h2"]  # the output layer is not hidden
    gx, gy = np.meshgrid(xs, ys)
    points = np.c_[gx.ravel(), gy.ravel()]
    for entry in found:
        layer = model.get_layer(entry["layer"])
        direct = keras.Model(model.inputs, layer.output).predict(points, verbose=0)
        k = len(entry["maps"])
        assert k == min(layer.units, neurons.MAX_UNITS) and entry["units"] == layer.units
        for u in range(k):
            # maps[u][i][j] is the unit at (xs[j], ys[i])
            np.testing.assert_allclose(
                entry["maps"][u], direct[:, u].reshape(len(ys), len(xs)), atol=1e-4
            )
        kernel, bias = layer.get_weights()
        np.testing.assert_allclose(entry["weights"], kernel[:, :k].T, atol=1e-4)
        np.testing.assert_allclose(entry["bias"], bias[:k], atol=1e-4)
    assert neurons.activation_name(found[0]) == "relu"
    fig = viz.unit_maps_figure(found, xs.tolist(), ys.tolist(), shown=8)
    assert len(fig.data) == 5 + 8  # all 5 of h1, the first 8 of h2's 40
    assert "incoming weights" in fig.data[0].hovertemplate
    assert "8 of 40" in " ".join(a.text for a in fig.layout.annotations)


def test_the_runner_streams_the_hidden_units_of_the_model_it_trains(tmp_path):
    registry = Registry(max_concurrent=1)
    try:
        job = start_training(templates.get("moons-mlp"), root=tmp_path, epochs=2, registry=registry)
        assert job.wait(300) == "finished", job.snapshot().last_error
    finally:
        registry.shutdown()
    units = job.snapshot().grid["units"]
    assert [e["layer"] for e in units["layers"]] == ["hidden1", "hidden2"]
    model = load_run_model(job.run_dir)  # saved at the end: the last epoch's weights
    again = neurons.UnitProbe(model).maps(np.array(units["xs"]), np.array(units["ys"]))
    for streamed, direct in zip(units["layers"], again):
        assert np.asarray(streamed["maps"]).shape == (8, neurons.SIZE, neurons.SIZE)
        np.testing.assert_allclose(streamed["maps"], direct["maps"], atol=1e-3)
        np.testing.assert_allclose(streamed["weights"], direct["weights"], atol=1e-3)
