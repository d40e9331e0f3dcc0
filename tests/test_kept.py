"""Arguments kept from an imported model (``params["keras"]``): checked, built, edited, safe."""

import sys

import keras
import pytest

from designer.design import editing
from designer.design.editing import EditError, edit_problems
from designer.design.params import kept_source
from designer.design.spec import Design, Edge, Node
from designer.model.build import analyze, build_model
from designer.model.sidecar import fingerprint

VARIANCE = {
    "module": "keras.initializers",
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal", "seed": None},
    "registered_name": None,
}


def design(kept):
    return Design(
        nodes=[
            Node("input", "Input", {"shape": [6]}),
            Node("dense", "Dense", {"units": 4, "keras": kept}),
        ],
        edges=[Edge("input", "dense")],
    )


def test_kept_arguments_are_built_into_the_layer():
    model = build_model(design({"kernel_initializer": VARIANCE, "bias_constraint": None}))
    layer = model.get_layer("dense")
    assert type(layer.kernel_initializer).__name__ == "VarianceScaling"
    assert layer.kernel_initializer.mode == "fan_out"


def test_a_kept_value_overrides_the_form_value_until_the_form_is_used():
    d = design({"kernel_initializer": VARIANCE})
    d.node("dense").params["kernel_initializer"] = "zeros"
    assert analyze(d).ok
    layer = build_model(d).get_layer("dense")
    assert type(layer.kernel_initializer).__name__ == "VarianceScaling"
    edited = editing.set_param(d, "dense", "kernel_initializer", "he_normal")
    assert "keras" not in edited.node("dense").params  # the form's value wins from now on
    layer = build_model(edited).get_layer("dense")
    assert type(layer.kernel_initializer).__name__ == "HeNormal"
    assert "keras" not in editing.drop_kept(d, "dense").node("dense").params
    with pytest.raises(EditError):
        editing.drop_kept(edited, "dense")


def test_kept_values_are_judged_by_keras_not_by_the_form():
    d = design({"kernel_initializer": VARIANCE})
    assert edit_problems(design({}), d) == []
    assert edit_problems(design({}), design(["not", "a", "dict"]))
    bad = analyze(design({"no_such_argument": 1}))
    assert bad.problems and bad.problems[0][0] == "dense"
    assert "no_such_argument" in bad.problems[0][1]


def test_a_kept_object_from_another_module_is_refused_and_never_imported(tmp_path):
    sys.modules.pop("json.tool", None)
    evil = {"module": "json.tool", "class_name": "main", "config": {}, "registered_name": None}
    report = analyze(design({"kernel_initializer": evil}))
    assert report.problems == [
        (
            "dense",
            "kept arguments refused: class 'main' comes from module "
            "'json.tool', not from Keras (custom code)",
        )
    ]
    assert "json.tool" not in sys.modules


def test_kept_values_are_written_as_the_call_that_makes_them():
    assert kept_source(VARIANCE) == (
        "keras.initializers.VarianceScaling(scale=2.0, mode='fan_out', "
        "distribution='truncated_normal', seed=None)"
    )
    assert kept_source([[0, 1], [0, 1]]) == "((0, 1), (0, 1))"
    assert kept_source([None, 1, 1, 1]) == "(None, 1, 1, 1)"
    made = eval(kept_source(VARIANCE), {"keras": keras})  # the text means the object
    assert keras.saving.serialize_keras_object(made)["config"]["mode"] == "fan_out"
    # Anything but a Keras module stays a plain dict literal: no name reaches the code.
    assert kept_source({"module": "os", "class_name": "system", "config": {}}) == (
        "{'module': 'os', 'class_name': 'system', 'config': {}}"
    )


def test_kept_values_are_part_of_the_weights_fingerprint():
    a = fingerprint(Node("d", "Dense", {"units": 4}), [(None, 6)])
    b = fingerprint(Node("d", "Dense", {"units": 4, "keras": {"use_bias": False}}), [(None, 6)])
    assert a != b
