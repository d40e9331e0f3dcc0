"""Sweeps: parameter paths, the checked grid, queued runs, results, chart and best design."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from test_ensemble import InlineRegistry

from designer.design import paths, templates
from designer.experiments import sweep


def test_paths_name_node_parameters_and_pseudo_nodes():
    d = templates.get("digits-mlp")
    assert paths.parse_set(d, "dense.units=16, 32,64") == ("dense.units", [16, 32, 64])
    assert paths.parse_set(d, "compile.learning_rate=1e-3,0.01,1") == (
        "compile.learning_rate",
        [0.001, 0.01, 1.0],
    )
    assert paths.parse_set(d, "training.batch_size=16,64") == ("training.batch_size", [16, 64])
    assert paths.parse_set(d, "compile.optimizer=Adam,SGD") == (
        "compile.optimizer",
        ["Adam", "SGD"],
    )
    assert paths.parse_set(d, "dense.activation=relu,none")[1] == ["relu", None]
    assert paths.parse_set(d, "dense.use_bias=true,false")[1] == [True, False]
    assert paths.split_values("3,[3,5],(1, 2)") == ["3", "[3,5]", "(1, 2)"]

    changed = paths.apply(
        d, {"dense.units": 8, "compile.learning_rate": 0.1, "training.batch_size": 8}
    )
    assert changed.node("dense").params["units"] == 8 and d.node("dense").params["units"] == 64
    assert changed.compile.optimizer_params == {"learning_rate": 0.1}
    assert changed.training.batch_size == 8
    sgd = paths.apply(changed, {"compile.optimizer": "SGD"})
    assert sgd.compile.optimizer == "SGD" and sgd.compile.optimizer_params == {"learning_rate": 0.1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dense=1,2", "write NODE.PARAM"),
        ("nope.units=1,2", "no node 'nope'"),
        ("dense.filters=1,2", "has no parameter 'filters'"),
        ("compile.speed=1", "not an optimizer parameter"),
        ("training.colour=1", "unknown training setting"),
        ("dense.units=abc", "not a number"),
        ("dense.units=", "write PATH=V1,V2"),
    ],
)
def test_bad_paths_and_values_are_one_clear_line(text, message):
    with pytest.raises(paths.PathError, match=message):
        paths.parse_set(templates.get("digits-mlp"), text)


def test_grid_is_every_combination_and_each_point_is_checked():
    d = templates.get("digits-mlp")
    points = sweep.grid(d, {"dense.units": [8, 16], "compile.learning_rate": [0.01, 0.1]})
    assert points == [
        {"dense.units": 8, "compile.learning_rate": 0.01},
        {"dense.units": 8, "compile.learning_rate": 0.1},
        {"dense.units": 16, "compile.learning_rate": 0.01},
        {"dense.units": 16, "compile.learning_rate": 0.1},
    ]
    with pytest.raises(sweep.SweepError, match=r"dense.units=0: .*units"):
        sweep.grid(d, {"dense.units": [8, 0]})
    with pytest.raises(sweep.SweepError, match="learning_rate"):
        sweep.grid(d, {"compile.learning_rate": [0.01, -1.0]})
    with pytest.raises(sweep.SweepError, match="at most 2 parameters"):
        sweep.grid(d, {"dense.units": [8], "dropout.rate": [0.1], "training.seed": [1]})
    with pytest.raises(sweep.SweepError, match="given twice"):
        sweep.grid(d, {"dense.units": [8, 8]})
    with pytest.raises(sweep.SweepError, match=r"must be a (whole |finite )?number"):
        sweep.grid(d, {"training.batch_size": ["big"]})


def test_sweep_queues_one_run_per_point_and_opens_the_best_design(tmp_path):
    d = templates.get("digits-mlp")
    d.training.checkpoint = False
    jobs = sweep.start_sweep(
        d, {"dense.units": [4, 48]}, out=tmp_path, epochs=2, limit=300, registry=InlineRegistry()
    )
    assert [j.wait(60) for j in jobs] == ["finished", "finished"]
    plan = json.loads((tmp_path / "sweep.json").read_text())
    assert plan["params"] == ["dense.units"] and len(plan["points"]) == 2
    table = sweep.results(tmp_path)
    assert list(table["dense.units"]) == [4, 48] and list(table["status"]) == ["finished"] * 2
    assert list(table["epochs"]) == [2, 2] and table["test_accuracy"].between(0, 1).all()
    best = sweep.best_row(table)
    assert best["test_accuracy"] == table["test_accuracy"].max()
    design = sweep.best_design(tmp_path)
    assert design.node("dense").params["units"] == best["dense.units"]
    assert design.training.epochs == 2
    fig = sweep.sweep_figure(table, plan["params"])
    assert list(fig.data[0].x) == [4, 48] and len(fig.data[0].y) == 2
    with pytest.raises(sweep.SweepError, match="already holds a sweep"):
        sweep.start_sweep(d, {"dense.units": [4]}, out=tmp_path, registry=InlineRegistry())


def test_two_parameter_chart_has_a_line_per_second_value_and_a_log_axis():
    table = pd.DataFrame(
        {
            "compile.learning_rate": [0.001, 0.1, 0.001, 0.1],
            "dense.units": [8, 8, 32, 32],
            "test_accuracy": [0.8, 0.7, 0.9, math.nan],
        }
    )
    fig = sweep.sweep_figure(table, ["compile.learning_rate", "dense.units"])
    assert [t.name for t in fig.data] == ["dense.units=8", "dense.units=32"]
    assert fig.layout.xaxis.type == "log"
    assert sweep.best_row(table)["dense.units"] == 32
