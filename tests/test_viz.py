"""Figure builders (designer.report.viz): what each picture holds, without a browser."""

import numpy as np
import pytest

from designer.design import templates
from designer.design.spec import Node
from designer.report import drawing, viz


def test_design_svg_draws_every_layer_and_edge():
    d = templates.get("two-inputs")
    svg = drawing.design_svg(d)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == len(d.nodes)
    assert svg.count("<line") + svg.count("<path") == len(d.edges)
    assert "Concatenate" in svg and "Input (4,)" in svg


def test_design_svg_bends_skip_connections_and_escapes_text():
    svg = drawing.design_svg(templates.get("mini-resnet"))
    assert svg.count("<path") == 2  # the two residual connections
    d = templates.blank()
    d.nodes[0].type = "<script>"
    assert "<script>" not in drawing.design_svg(d)


def test_levels_are_longest_paths():
    depth = drawing.levels(templates.get("mini-resnet"))
    assert depth["input"] == 0 and depth["b1_add"] == 4 and depth["output"] == 11


@pytest.mark.parametrize(
    "node,caption",
    [
        (Node("c", "Conv2D", {"filters": 16, "kernel_size": [5, 3]}), "Conv2D 16·5×3"),
        (Node("d", "Dense", {"units": 10, "activation": "softmax"}), "Dense 10 softmax"),
        (Node("p", "MaxPooling1D", {}), "MaxPooling1D 2"),
        (Node("i", "Input", {"shape": [784]}), "Input (784,)"),
        (Node("e", "Embedding", {"input_dim": 100, "output_dim": 8}), "Embedding 100→8"),
        (Node("x", "Mystery", {}), "Mystery"),
    ],
)
def test_layer_captions(node, caption):
    assert drawing.layer_caption(node) == caption


def test_dataset_thumbnails_show_samples_points_or_balance():
    rng = np.random.default_rng(0)
    images = drawing.dataset_thumbnail_svg(rng.random((9, 8, 8, 1)), np.arange(9) % 3, "image", 3)
    assert images.count("<image ") == 3 and "data:image/png;base64," in images
    points = drawing.dataset_thumbnail_svg(
        rng.normal(size=(50, 2)), np.arange(50) % 2, "points2d", 2
    )
    assert points.count("<circle ") == 50
    balance = drawing.dataset_thumbnail_svg(
        rng.normal(size=(30, 4)), np.arange(30) % 3, "tabular", 3
    )
    assert balance.count("<rect ") == 3
    target = drawing.dataset_thumbnail_svg(
        rng.normal(size=(30, 4)), rng.normal(size=30), "tabular", 0
    )
    assert target.count("<rect ") == 12  # a histogram of the regression target


def test_curves_train_and_validation():
    fig = viz.curves_figure([("r", {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})], "loss")
    assert [t.name for t in fig.data] == ["train", "validation"]
    assert list(fig.data[1].y) == [1.1, 0.7] and list(fig.data[0].x) == [1, 2]


def test_every_figure_wears_the_white_template_even_without_asking_for_it():
    """The template comes as plotly's default (cheaper than a copy per figure): the charts
    must look as they did with ``template="plotly_white"`` in each."""
    import plotly.io as pio

    white = pio.templates["plotly_white"].layout.to_plotly_json()
    figures = [
        viz.curves_figure([("r", {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})], "loss"),
        viz.confusion_figure([[3, 1], [0, 4]], ["a", "b"]),
        viz.image_grid_figure(np.zeros((2, 4, 4)), ["x", "y"]),
    ]
    for fig in figures:
        assert fig.layout.template.layout.to_plotly_json() == white
        assert fig.to_dict()["layout"]["template"]["layout"]["plot_bgcolor"] == "white"


def test_live_line_charts_leave_out_only_template_defaults_lines_never_use():
    """The charts a watched run redraws every second carry plotly_white's layout without its
    per-trace defaults (60 % of the template, copied and sent at every redraw). That keeps
    their look only while they hold nothing but lines and markers."""
    import plotly.io as pio

    white = pio.templates["plotly_white"]
    layer = {"edges": [0.0, 0.5, 1.0], "counts": [3, 1], "grad_norm": 0.2}
    epochs = [{"epoch": e, "layers": {"dense": layer, "out": layer}} for e in (1, 2)]
    live = [
        viz.curves_figure([("r", {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})], "loss"),
        viz.curves_figure([("a", {"loss": [1.0]}), ("b", {"accuracy": [0.5]})], "accuracy"),
        viz.distribution_figure(epochs, "dense"),
        viz.gradient_norms_figure(epochs),
    ]
    for fig in live:
        # Built without Plotly's second validation, it is still exactly a valid figure.
        assert fig.to_dict() == pio.from_json(fig.to_json(), skip_invalid=False).to_dict()
        template = fig.to_dict()["layout"]["template"]
        assert template["layout"] == white.layout.to_plotly_json()
        assert len(template.get("data") or {}) < len(white.data.to_plotly_json())
        for trace in fig.data:
            # plotly_white's only Scatter default is a fill pattern, drawn only with a shape.
            assert trace.type == "scatter" and not trace.fillpattern.shape, trace.type


def test_curves_axes_read_like_a_textbook():
    short = viz.curves_figure([("r", {"accuracy": [0.91, 0.93, 0.95]})], "accuracy")
    assert short.layout.xaxis.dtick == 1  # epochs 1, 2, 3: no 1.5
    assert tuple(short.layout.yaxis.range) == (0, 1.02)  # accuracy on its whole scale
    long = viz.curves_figure([("r", {"loss": [1.0 / (i + 1) for i in range(95)]})], "loss")
    assert long.layout.xaxis.dtick == 10 and long.layout.yaxis.rangemode == "tozero"


def test_curves_compare_runs_and_empty_history():
    fig = viz.curves_figure(
        [("a", {"accuracy": [0.5]}), ("b", {"accuracy": [0.6], "val_accuracy": [0.55]})], "accuracy"
    )
    assert [t.name for t in fig.data] == ["a · train", "b · train", "b · validation"]
    empty = viz.curves_figure([("a", {})], "loss")
    assert not empty.data and empty.layout.annotations


def test_confusion_matrix_counts_and_row_normalised():
    cm = [[5, 1], [2, 2]]
    fig = viz.confusion_figure(cm, ["cat", "dog"])
    assert list(fig.data[0].x) == ["cat", "dog"] and list(fig.data[0].text[0]) == ["5", "1"]
    norm = viz.confusion_figure(cm, ["cat", "dog"], normalize=True)
    assert np.allclose(np.asarray(norm.data[0].z).sum(axis=1), 1.0)
    assert list(norm.data[0].text[1]) == ["0.50", "0.50"]
    zero = viz.confusion_figure([[0, 0], [0, 3]], ["a", "b"], normalize=True)
    assert np.isfinite(np.asarray(zero.data[0].z)).all()


def test_decision_boundary_has_the_map_and_the_points():
    xs, ys = np.linspace(-1, 1, 5), np.linspace(-1, 1, 4)
    z = np.random.default_rng(0).random((4, 5))
    pts, labels = np.random.default_rng(1).normal(size=(20, 2)), np.arange(20) % 2
    fig = viz.decision_boundary_figure(xs, ys, z, pts, labels, ["a", "b"])
    assert fig.data[0].type == "heatmap" and np.asarray(fig.data[0].z).shape == (4, 5)
    assert [t.name for t in fig.data[1:]] == ["a", "b"]
    assert sum(len(t.x) for t in fig.data[1:]) == 20


def test_image_grid_and_histograms_and_heatmaps():
    imgs = np.random.default_rng(0).random((10, 8, 8, 1))
    fig = viz.image_grid_figure(imgs, [str(i) for i in range(10)], cols=4)
    assert len(fig.data) == 10 and fig.data[0].type == "heatmap"
    rgb = viz.image_grid_figure(np.random.default_rng(0).random((2, 4, 4, 3)), cols=2)
    assert rgb.data[0].type == "image"
    assert len(viz.histogram_figure(np.arange(100), "w").data[0].x) == 100
    heat = viz.heatmap_figure(np.array([[1.0, -2.0]]), "k")
    assert heat.data[0].zmid == 0 and heat.data[0].zmax == 2.0


def test_roc_residuals_balance_probabilities():
    roc = viz.roc_figure([0, 0.5, 1], [0, 0.8, 1], 0.9)
    assert "0.900" in roc.data[1].name
    res = viz.residuals_figure([1.0, 2.0], [1.5, 1.0])
    assert list(res.data[0].y) == [-0.5, 1.0]
    bal = viz.class_balance_figure([0, 1, 1, 2], ["a", "b", "c"])
    assert list(bal.data[0].y) == [1, 2, 1]
    probs = viz.probabilities_figure([0.1, 0.9], ["no", "yes"])
    assert probs.data[0].marker.color[1] == viz.ACCENT


def test_pixel_canvas_draws_every_pixel_and_painting_sets_them():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ui import evalview

    grid = np.zeros((8, 8), dtype=np.float32)
    fig = viz.pixel_canvas_figure(grid)
    assert len(fig.data[0].x) == 64 and fig.layout.dragmode == "select"  # a box paints a stroke
    painted = evalview.paint(grid, [0, 9, 63, 999], 1.0)  # 999: outside the picture, ignored
    assert painted.sum() == 3 and painted[1, 1] == 1 and grid.sum() == 0  # a new array
    assert evalview.paint(painted, [9], 0.0).sum() == 2  # the eraser

    class Digits:  # scikit-learn's digits are 0..16, divided by 16 for training
        scaling = {"method": "divide", "by": 16.0}

    sample = evalview.drawing_as_sample(painted, Digits())
    assert sample.shape == (8, 8, 1) and sample.max() == 16.0
