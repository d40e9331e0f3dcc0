"""The generated coloured shapes: an offline colour-image set the CNN templates train on."""

from __future__ import annotations

import runpy

import numpy as np

from designer import codegen
from designer.data import check_fit, get_info, load_dataset, shapes
from designer.design import templates
from designer.model.build import analyze
from designer.training.request import TrainRequest


def test_the_same_seed_draws_the_same_images_and_another_seed_others():
    x, y = shapes.make_shapes(5, 300)
    x_again, y_again = shapes.make_shapes(5, 300)
    assert np.array_equal(x, x_again) and np.array_equal(y, y_again)
    x_other, y_other = shapes.make_shapes(6, 300)
    assert not np.array_equal(x, x_other) and not np.array_equal(y, y_other)


def test_images_are_32x32_colour_bytes_with_balanced_labels():
    x, y = shapes.make_shapes(1, 1000)
    assert x.shape == (1000, 32, 32, 3) and x.dtype == np.uint8
    assert y.shape == (1000,) and y.dtype == np.int64
    assert np.array_equal(np.bincount(y), [100] * len(shapes.SHAPE_NAMES))
    assert x.min() < 40 and x.max() > 215  # the colours span the byte range
    # Noise and stripes: no image is a flat colour, and the shape's pixels stand out.
    assert (x.reshape(1000, -1, 3).std(axis=1).max(axis=1) > 10).all()


def test_the_test_split_is_fixed_and_shares_no_image_with_training():
    (x1, y1), (t1, ty1) = shapes.shapes_split(1, n_train=200, n_test=100)
    (x2, _), (t2, ty2) = shapes.shapes_split(2, n_train=200, n_test=100)
    assert np.array_equal(t1, t2) and np.array_equal(ty1, ty2)  # whatever the seed
    assert not np.array_equal(x1, x2)
    assert np.array_equal(np.bincount(ty1), [10] * 10)
    seen = {img.tobytes() for img in x1}
    assert not any(img.tobytes() in seen for img in t1)
    data = load_dataset("shapes")  # the app keeps that split as the test set
    assert len(data.x_test) == shapes.N_TEST
    assert np.array_equal(data.y_test, shapes.shapes_split(42, n_train=1)[1][1])
    assert data.info.class_names[3] == "star" and data.x_train.shape[1:] == (32, 32, 3)


def test_the_colour_image_templates_take_shapes_by_default():
    info = get_info("shapes")
    for tid in ("cifar10-cnn", "mini-resnet", "transfer-mobilenetv2"):
        design = templates.get(tid)
        assert design.data.dataset == "shapes"
        analysis = analyze(design)
        assert analysis.ok, (tid, analysis.problems)

        def shapes_of(ids, analysis=analysis):
            return {i: tuple(analysis.nodes[i].output_shape[1:]) for i in ids}

        ins, outs = shapes_of(design.input_ids()), shapes_of(design.output_ids())
        assert check_fit(info, ins, outs) == [], tid


def test_the_cifar10_cnn_template_learns_the_shapes(tmp_path):
    from designer.training.callbacks import Control
    from designer.training.worker import train

    design = templates.get("cifar10-cnn")
    design.training.batch_size = 32
    request = TrainRequest(str(tmp_path), design.to_dict(), 5, limit=4000)
    done = train(request, lambda event: None, Control())
    assert done["status"] == "finished"
    assert done["metrics"]["accuracy"] > 0.6, done["metrics"]  # ten classes: chance is 0.1


def test_the_generated_script_draws_the_same_images(tmp_path):
    """The script embeds the app's generator (no copy that could drift) and runs standalone."""
    design = templates.get("cifar10-cnn")
    text = codegen.generate(design)
    assert "def make_shapes(" in text and "designer" not in text.split('"""', 2)[2]
    path = tmp_path / "cnn.py"
    path.write_text(text)
    ns = runpy.run_path(str(path), run_name="generated")
    (x_train, y_train), (x_test, y_test) = ns["load_data"]()
    (raw_train, raw_y), (raw_test, raw_y_test) = shapes.shapes_split(design.data.seed)
    assert np.allclose(x_train, raw_train / 255.0) and np.array_equal(y_train, raw_y)
    assert np.allclose(x_test, raw_test / 255.0) and np.array_equal(y_test, raw_y_test)
    model = ns["build_model"]()
    history = model.fit(x_train[:256], y_train[:256], epochs=1, batch_size=64, verbose=0)
    assert np.isfinite(history.history["loss"][0])
