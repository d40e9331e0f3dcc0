"""`keras-designer export --format card|svg|png`: the model card and the graph picture.

The card's layer table is compared with a model built by hand with Keras, its pictures are
opened (PIL, an XML parser), and the run it shows is a real one: the digits MLP trained for two
epochs by `keras-designer train` on a few hundred samples (conftest's ``digits_run``).
"""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import keras
from keras import layers
from PIL import Image

from designer.cli import main
from designer.design import templates
from designer.report.drawing import graph_layout

CARD_ROW = re.compile(r"^\| `([^`]+)` \| (\w+) \| (\([^|]*\)) \| ([\d,]+) \|$")
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")


def digits_mlp_by_hand() -> keras.Model:
    """The digits-mlp template written the way a person would, layers named as its nodes."""
    inputs = keras.Input((8, 8, 1), name="input")
    x = layers.Flatten(name="flatten")(inputs)
    x = layers.Dense(64, activation="relu", name="dense")(x)
    x = layers.Dropout(0.2, name="dropout")(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax", name="output")(x))


def table(markdown: str) -> dict[str, tuple[str, str, int]]:
    rows = {}
    for line in markdown.splitlines():
        m = CARD_ROW.match(line)
        if m:
            rows[m[1]] = (m[2], m[3], int(m[4].replace(",", "")))
    return rows


def open_png(path: Path) -> Image.Image:
    with Image.open(path) as img:
        img.verify()  # a whole, valid PNG
    img = Image.open(path)
    assert img.format == "PNG"
    return img.convert("RGB")


def colours(img: Image.Image) -> int:
    return len(img.getcolors(maxcolors=1 << 20) or [])


def test_a_card_without_a_run_has_keras_layer_table_and_says_no_run(digits_run, tmp_path, capsys):
    design, _ = digits_run
    card = tmp_path / "CARD.md"
    assert main(["export", str(design), "--format", "card", "-o", str(card)]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [f"wrote {card}", f"wrote {tmp_path / 'CARD-graph.png'}"]
    assert "no run attached" in captured.err
    text = card.read_text()
    assert "No run is attached" in text

    model = digits_mlp_by_hand()
    rows = table(text)
    assert list(rows) == [layer.name for layer in model.layers]
    for layer in model.layers:
        kind, shape, params = rows[layer.name]
        assert kind == type(layer).__name__.replace("InputLayer", "Input")
        assert shape == str(tuple(layer.output.shape))
        assert params == layer.count_params()
    assert f"**Total parameters: {model.count_params():,}**" in text
    assert "Digits" in text and "`sparse_categorical_crossentropy`" in text
    assert f"Epochs: {templates.get('digits-mlp').training.epochs}" in text

    assert IMAGE.findall(text) == ["CARD-graph.png"]
    graph = open_png(tmp_path / "CARD-graph.png")
    assert colours(graph) > 20  # boxes, lines and text, not a blank canvas


def test_a_card_with_a_run_shows_its_metrics_curves_and_confusion_matrix(
    digits_run, tmp_path, capsys
):
    design, run = digits_run
    card = tmp_path / "out" / "model.md"
    args = ["export", str(design), "--format", "card", "-o", str(card), "--run", str(run)]
    assert main(args) == 0
    names = ["model.md", "model-graph.png", "model-curves.png", "model-confusion.png"]
    assert capsys.readouterr().out.splitlines() == [f"wrote {card.with_name(n)}" for n in names]
    text = card.read_text()
    assert IMAGE.findall(text) == names[1:]
    for name in names[1:]:
        assert colours(open_png(card.with_name(name))) > 20

    metrics = json.loads((run / "metrics.json").read_text())
    assert f"Run `{run.name}`: finished, 2 epochs on `digits`" in text
    assert f"| accuracy | {metrics['accuracy']:.4g} |" in text
    assert f"| samples | {metrics['n']:,} |" in text
    assert "| Last epoch (2) | Training | Validation |" in text
    assert "No run is attached" not in text
    assert "another version of this design" not in text
    # The confusion matrix holds the run's test set: one row per class name.
    for name in metrics["class_names"]:
        assert re.search(rf"^\| {name} \| [\d.]+ \|", text, re.M)
    rows = table(text)
    assert {k: v[2] for k, v in rows.items()} == {
        layer.name: layer.count_params() for layer in digits_mlp_by_hand().layers
    }


def test_png_and_svg_are_the_same_gallery_drawing(tmp_path, capsys):
    design = templates.get("mini-resnet")  # branches: skip curves on the right
    path = tmp_path / "d.json"
    design.save(path)
    assert main(["export", str(path), "--format", "svg", "-o", str(tmp_path / "g.svg")]) == 0
    assert main(["export", str(path), "--format", "png", "-o", str(tmp_path / "g.png")]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"wrote {tmp_path / 'g.svg'}",
        f"wrote {tmp_path / 'g.png'}",
    ]
    svg = ET.parse(tmp_path / "g.svg").getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert len(svg.findall(f"{ns}rect")) == len(design.nodes)
    texts = [t.text for t in svg.findall(f"{ns}text")]
    assert texts[0].startswith("Input") and texts[-1].startswith("Dense 10")
    layout = graph_layout(design, max_width=600)
    png = open_png(tmp_path / "g.png")
    assert png.size == (2 * layout.width, 2 * layout.height)  # the SVG's size, twice as sharp
    assert (int(svg.get("width")), int(svg.get("height"))) == (layout.width, layout.height)
    assert colours(png) > 20


def test_a_bad_run_is_one_error_line_and_no_card(digits_run, tmp_path, capsys):
    design, _ = digits_run
    card = tmp_path / "CARD.md"
    empty = tmp_path / "not-a-run"
    empty.mkdir()
    for run in (empty, tmp_path / "missing"):
        args = ["export", str(design), "--format", "card", "-o", str(card), "--run", str(run)]
        assert main(args) == 2  # unreadable input, as for the deploy formats' --run
        captured = capsys.readouterr()
        assert captured.err.splitlines() == [
            f"error: {run}: not a run directory (no status.json or design.json)"
        ]
        assert not card.exists()
    code = main(["export", str(design), "--format", "card", "-o", str(tmp_path / "card.txt")])
    assert code == 2
    assert "must end in .md" in capsys.readouterr().err


def test_an_invalid_design_gets_no_card(tmp_path, capsys):
    design = templates.get("digits-mlp")
    design.node("dense").params["units"] = 0
    path = tmp_path / "d.json"
    design.save(path)
    assert main(["export", str(path), "--format", "card", "-o", str(tmp_path / "c.md")]) == 1
    assert capsys.readouterr().out.startswith("dense: ")
    assert not (tmp_path / "c.md").exists()


def test_a_run_of_another_version_of_the_design_is_said_so(digits_run, tmp_path, capsys):
    _, run = digits_run
    changed = templates.get("digits-mlp")
    changed.node("dense").params["units"] = 32
    path = tmp_path / "changed.json"
    changed.save(path)
    card = tmp_path / "c.md"
    assert main(["export", str(path), "--format", "card", "-o", str(card), "--run", str(run)]) == 0
    text = card.read_text()
    assert "the run trained another version of this design" in text
    dense = layers.Dense(32)
    dense.build((None, 64))
    assert table(text)["dense"][2] == dense.count_params()  # the table is the design's
