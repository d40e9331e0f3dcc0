"""Comparing designs and runs: the architecture diff, its graph, the table and the curves."""

from __future__ import annotations

from pathlib import Path

import pytest

from designer.design import templates
from designer.design.editing import delete_node
from designer.design.spec import Edge, Node
from designer.experiments import compare
from designer.training import rundir


def edited_mnist_mlp():
    a = templates.get("mnist-mlp")
    b = a.copy()
    b.node("dense").params["units"] = 64
    return a, delete_node(b, "dropout")


def test_mnist_mlp_diff_names_exactly_the_changed_units_and_the_removed_dropout():
    a, b = edited_mnist_mlp()
    d = compare.diff_designs(a, b)
    assert d.removed == [("dropout", "Dropout")] and d.added == []
    assert [(c.id, c.params) for c in d.changed] == [("dense", {"units": (128, 64)})]
    assert sorted(d.changed_ids()) == ["dense", "dropout"]
    assert d.unchanged == ["input", "flatten", "output"]
    # The rewiring that follows from the removal is listed under the removed node.
    assert d.edges_removed == [("dense", "dropout"), ("dropout", "output")]
    assert d.edges_added == [("dense", "output")]
    assert d.edges_of["dropout"][-1] == "edge dense -> output added (bypasses dropout)"
    assert d.rewired == [] and d.settings == {} and not d.identical

    lines = compare.diff_lines(d)
    node_lines = [line for line in lines if line.startswith(("  +", "  -", "  ~"))]
    assert node_lines == [
        "  - removed dropout (Dropout)",
        "  ~ changed dense (Dense): units 128 -> 64",
    ]


def test_diff_graph_colours_each_node_by_what_happened_to_it():
    a, b = edited_mnist_mlp()
    b.nodes.insert(3, Node("extra", "Dense", {"units": 8}))
    b.edges = [e for e in b.edges if (e.source, e.target) != ("dense", "output")]
    b.edges += [Edge("dense", "extra"), Edge("extra", "output")]
    graph = compare.diff_graph(a, b)
    colours = {n["id"]: n["color"] for n in graph["nodes"]}
    assert colours == {
        "input": compare.UNCHANGED,
        "flatten": compare.UNCHANGED,
        "dense": compare.CHANGED,
        "extra": compare.ADDED,
        "dropout": compare.REMOVED,
        "output": compare.UNCHANGED,
    }
    assert "units: 128 -> 64" in next(n for n in graph["nodes"] if n["id"] == "dense")["title"]
    edges = {(e["source"], e["target"]): e for e in graph["edges"]}
    assert (
        edges[("dense", "dropout")]["color"] == compare.REMOVED
        and edges[("dense", "dropout")]["dashes"]
    )
    assert edges[("dense", "extra")]["color"] == compare.ADDED
    assert edges[("input", "flatten")]["color"] == compare.UNCHANGED
    from streamlit_agraph import Edge as AEdge
    from streamlit_agraph import Node as ANode

    drawable = [ANode(**n).to_dict() for n in graph["nodes"]] + [
        AEdge(**e).to_dict() for e in graph["edges"]
    ]
    assert len(drawable) == 6 + 6


def test_identical_designs_type_changes_rewiring_and_settings():
    a = templates.get("mnist-mlp")
    d = compare.diff_designs(a, a.copy())
    assert d.identical and compare.diff_lines(d) == ["architecture: identical (5 nodes)"]
    b = a.copy()
    b.node("dropout").type = "GaussianNoise"
    b.node("dropout").params = {"stddev": 0.1}
    b.edges.append(Edge("flatten", "output"))  # a new edge between existing nodes
    b.compile.optimizer_params["learning_rate"] = 0.01
    b.training.batch_size = 64
    d = compare.diff_designs(a, b)
    change = d.changed[0]
    assert change.id == "dropout" and change.params["type"] == ("Dropout", "GaussianNoise")
    assert d.rewired == ["edge flatten -> output added"]
    assert d.settings == {"compile.learning_rate": (0.001, 0.01), "training.batch_size": (128, 64)}


def write_run(path: Path, design, history: list[dict], metrics: dict, status="finished") -> Path:
    path.mkdir(parents=True)
    design.save(path / rundir.DESIGN_FILE)
    rundir.write_history(path, history)
    rundir.write_json(path / rundir.METRICS_FILE, metrics)
    rundir.write_status(path, status)
    return path


def fake_runs(tmp_path: Path):
    a, b = edited_mnist_mlp()
    b.compile.optimizer_params["learning_rate"] = 0.01

    def hist(s: float) -> list[dict]:
        return [
            {
                "epoch": i + 1,
                "loss": s / (i + 1),
                "accuracy": 0.5 + 0.1 * i,
                "val_loss": s / (i + 1) + 0.1,
                "val_accuracy": 0.45 + 0.1 * i,
            }
            for i in range(3)
        ]

    ra = write_run(tmp_path / "run-a", a, hist(1.0), {"task": "classification", "accuracy": 0.91})
    rb = write_run(tmp_path / "run-b", b, hist(0.8), {"task": "classification", "accuracy": 0.94})
    return ra, rb


def test_run_table_marks_differences_and_the_best_metrics(tmp_path):
    runs = compare.load_runs(fake_runs(tmp_path))
    table = compare.run_table(runs)
    assert list(table.index) == ["run-a", "run-b"]
    assert table.loc["run-b", "test_accuracy"] == 0.94
    assert table.loc["run-a", "dense.units"] == 128 and table.loc["run-b", "dense.units"] == 64
    assert table.loc["run-a", "compile.loss"] == "sparse_categorical_crossentropy"
    diff = compare.differences(table)
    assert diff["dense.units"].all() and diff["compile.learning_rate"].all()
    assert not diff["data.dataset"].any() and not diff["training.batch_size"].any()
    best = compare.best_mask(table)
    assert best.loc["run-b", "test_accuracy"] and not best.loc["run-a", "test_accuracy"]
    assert best.loc["run-b", "final_loss"] and not best.loc["run-a", "final_loss"]
    html = compare.style_table(table).to_html()
    assert "#FFE0B2" in html and "#C8E6C9" in html


def test_curves_of_several_runs_on_one_chart(tmp_path):
    runs = compare.load_runs(fake_runs(tmp_path))
    assert compare.common_metrics(runs) == ["loss", "accuracy"]
    fig = compare.curves_figure(runs, "accuracy")
    assert [t.name for t in fig.data] == [
        "run-a · train",
        "run-a · validation",
        "run-b · train",
        "run-b · validation",
    ]
    assert list(fig.data[2].y) == pytest.approx([0.5, 0.6, 0.7])


def test_a_directory_that_is_not_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(compare.RunError, match="no such run directory"):
        compare.load_run(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(compare.RunError, match="not a run directory"):
        compare.load_run(tmp_path / "empty")
