"""A search's space: NODE.enabled leaves a layer out (and the design still builds, as the
model written by hand without that layer), PATH=SPEC parsing and its one-line refusals, and
the ranges the app pre-fills."""

from __future__ import annotations

import pytest

from designer.design import paths, templates
from designer.design.editing import EditError, bypass
from designer.experiments import space
from designer.experiments.space import Dimension, SpaceError, parse_space

from helpers.same_model import assert_same_layers


def test_enabled_false_removes_the_layer_and_the_model_is_the_one_written_without_it():
    import keras

    from designer.model.build import build_model

    d = templates.get("digits-mlp")
    assert paths.parse_set(d, "dense.enabled=true,false") == ("dense.enabled", [True, False])
    kept = paths.apply(d, {"dense.enabled": True})
    assert kept == d
    out = paths.apply(d, {"dense.enabled": False, "dropout.rate": 0.3})
    assert out.node_ids() == ["input", "flatten", "dropout", "output"]
    assert d.node_ids() == ["input", "flatten", "dense", "dropout", "output"]  # not changed

    model = build_model(out)
    inputs = keras.Input((8, 8, 1), name="input")
    x = keras.layers.Flatten(name="flatten")(inputs)
    x = keras.layers.Dropout(0.3, name="dropout")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="output")(x)
    by_hand = keras.Model(inputs, outputs)
    assert_same_layers(model, by_hand)
    assert model.count_params() == by_hand.count_params()
    assert model.output_shape == by_hand.output_shape


def test_leaving_out_a_layer_before_a_merge_keeps_the_merge_input_order():
    from designer.model.build import build_model

    d = templates.get("mini-resnet")
    assert d.predecessors("b1_add") == ["b1_conv2", "stem"]
    out = bypass(d, "b1_conv2")
    assert out.predecessors("b1_add") == ["b1_conv1", "stem"]
    model = build_model(out)
    add = model.get_layer("b1_add")
    assert [t._keras_history.operation.name for t in add._inbound_nodes[0].input_tensors] == [
        "b1_conv1",
        "stem",
    ]
    assert model.count_params() == build_model(d).count_params() - sum(
        w.size for w in build_model(d).get_layer("b1_conv2").get_weights()
    )


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ("input", "is an Input"),
        ("output", "is an output of the model"),
        ("b1_add", "has 2 inputs"),
    ],
)
def test_only_a_layer_with_one_input_and_one_output_can_be_left_out(node, message):
    d = templates.get("mini-resnet" if node == "b1_add" else "digits-mlp")
    with pytest.raises(EditError, match=message):
        bypass(d, node)
    with pytest.raises(paths.PathError, match=message):
        paths.parse_set(d, f"{node}.enabled=true,false")


def test_a_space_is_checked_dimension_by_dimension():
    d = templates.get("digits-mlp")
    dims = parse_space(
        d,
        [
            "dense.units=int:16:128:log",
            "compile.learning_rate=float:1e-4:1e-2:log",
            "dropout.rate=float:0:0.5",
            "dense.activation=choice:relu,tanh,none",
            "dropout.enabled=choice:true,false",
            "compile.optimizer=choice:Adam,SGD",
            "training.batch_size=int:16:64",
        ],
    )
    assert [x.text() for x in dims] == [
        "int:16:128:log",
        "float:0.0001:0.01:log",
        "float:0:0.5",
        "choice:relu,tanh,none",
        "choice:true,false",
        "choice:Adam,SGD",
        "int:16:64",
    ]
    assert dims[3].choices == ("relu", "tanh", None) and dims[4].choices == (True, False)
    # Optuna keeps choices as plain values; lists (a kernel size) go through as text and back.
    kernel = Dimension("c1.kernel_size", "choice", choices=([3, 3], [5, 5]))
    assert kernel.labels() == ["[3, 3]", "[5, 5]"]
    assert kernel.decode("[5, 5]") == [5, 5] and kernel.label_of([3, 3]) == "[3, 3]"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope.units=int:1:2", "no node 'nope'"),
        ("dense.filters=int:1:2", "has no parameter 'filters'"),
        ("dense.units=int:0:64", "0 is refused: units: must be at least 1"),
        ("dropout.rate=float:0:1.5", "1.5 is refused"),
        ("compile.learning_rate=float:0:1", "0 is refused"),
        ("training.batch_size=int:0:64", "batch_size must be at least 1"),
        ("dense.activation=choice:relu,wobbly", "wobbly is refused"),
        ("compile.optimizer=choice:Adam,Fast", "unknown optimizer 'Fast'"),
        ("dense.units=float:1:2", "takes whole numbers"),
        ("compile.learning_rate=int:1:2", "takes any number"),
        ("dense.activation=int:1:2", "is not a number"),
        ("dense.units=int:64:8", "LOW is above HIGH"),
        ("dropout.rate=float:0:0.5:log", "a log range needs LOW above 0"),
        ("dense.units=int:8", "int:LOW:HIGH or int:LOW:HIGH:log"),
        ("dense.units=range:8:16", "starts with int:, float: or choice:"),
        ("dense.units", "write PATH=SPEC"),
        ("dense.units=choice:8,8", "given twice"),
        ("dropout.enabled=choice:true,maybe", "not true or false"),
    ],
)
def test_a_bad_dimension_is_one_line_that_names_it(text, message):
    with pytest.raises((SpaceError, paths.PathError), match=message) as err:
        parse_space(templates.get("digits-mlp"), [text])
    assert "\n" not in str(err.value)


def test_a_path_given_twice_and_an_empty_space_are_refused():
    d = templates.get("digits-mlp")
    with pytest.raises(SpaceError, match="given twice"):
        parse_space(d, ["dense.units=int:8:16", "dense.units=int:16:32"])
    with pytest.raises(SpaceError, match="at least one"):
        parse_space(d, [])


def test_the_app_lists_what_can_be_searched_and_starts_around_the_current_values():
    d = templates.get("digits-mlp")
    found = space.searchable(d)
    assert "dense.units" in found and "dense.enabled" in found and "dropout.rate" in found
    assert "output.units" not in found and "output.activation" not in found  # the data's
    assert "output.enabled" not in found and "input.enabled" not in found
    assert found[-3:] == ["compile.optimizer", "compile.learning_rate", "training.batch_size"]
    starts = {p: space.suggest(d, p) for p in found}
    assert starts["dense.units"].text() == "int:16:256:log"  # 64 / 4 .. 64 * 4
    assert starts["compile.learning_rate"].text() == "float:0.0001:0.01:log"  # 0.001 in decades
    assert starts["dropout.rate"].text() == "float:0:0.5"
    assert starts["dense.activation"].choices[0] == "relu"  # the current one first
    assert starts["dense.enabled"].choices == (True, False)
    # Every suggestion is a space the parser accepts, and it holds the current value.
    for path, dim in starts.items():
        assert parse_space(d, [f"{path}={dim.text()}"]) == [dim]
        assert dim.contains(paths.value_at(d, path)), path
