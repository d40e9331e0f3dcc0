"""Data sets: built-in ones load with the declared shapes, uploads fail with useful messages."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from designer import data
from designer.data import (
    DataError,
    builtin,
    check_fit,
    csv_columns,
    default_compile,
    encode_labels_for_loss,
    get_info,
    image_zip,
    list_datasets,
    load_csv,
    load_dataset,
    load_image_zip,
    load_npz,
)
from designer.data.preprocess import split_indices
from designer.design.spec import DataSpec

OFFLINE = [i.id for i in list_datasets() if i.source == "offline"]
KERAS = ["mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters"]


def one_line_error(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# ---- catalogue ----------------------------------------------------------------------------


def test_import_does_not_load_tensorflow():
    code = (
        "import designer.data, sys; assert 'tensorflow' not in sys.modules; "
        "assert 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_list_has_every_set_offline_first():
    infos = list_datasets()
    ids = [i.id for i in infos]
    for expected in [
        "digits",
        "iris",
        "wine",
        "breast_cancer",
        "diabetes",
        "moons",
        "circles",
        "blobs",
        "spirals",
        "xor",
        "fashion_mnist_local",
        "mnist_local",
        *KERAS,
    ]:
        assert expected in ids
    sources = [i.source for i in infos]
    assert sources == sorted(sources, key=lambda s: s != "offline")
    assert all(get_info(i).source == "keras" for i in KERAS)


def test_unknown_id_lists_known_ones():
    with pytest.raises(DataError) as e:
        get_info("mnits")
    assert "mnits" in one_line_error(e) and "digits" in str(e.value)


# ---- built-in offline sets ------------------------------------------------------------------


@pytest.mark.parametrize("dataset_id", OFFLINE)
def test_offline_set_matches_its_info(dataset_id):
    info = get_info(dataset_id)
    ds = load_dataset(dataset_id, limit=600)
    for x, y in ((ds.x_train, ds.y_train), (ds.x_val, ds.y_val), (ds.x_test, ds.y_test)):
        assert x.shape[1:] == info.input_shape
        assert len(x) == len(y) > 0
        assert x.dtype == np.dtype(info.input_dtype) and np.isfinite(x).all()
    if info.task == "regression":
        assert ds.num_classes == 0 and ds.y_train.dtype == np.float32
    else:
        assert ds.y_train.dtype == np.int64
        assert ds.num_classes == len(info.class_names) >= 2
        # Stratified: every class appears in training.
        assert set(np.unique(ds.y_train)) == set(range(ds.num_classes))
    assert len(ds.x_train) <= 600


def test_expected_class_counts_and_shapes():
    expected = {
        "digits": ((8, 8, 1), 10),
        "iris": ((4,), 3),
        "wine": ((13,), 3),
        "breast_cancer": ((30,), 2),
        "diabetes": ((10,), 0),
        "moons": ((2,), 2),
        "circles": ((2,), 2),
        "blobs": ((2,), 3),
        "spirals": ((2,), 2),
        "xor": ((2,), 2),
        "fashion_mnist_local": ((28, 28, 1), 10),
        "mnist_local": ((28, 28, 1), 10),
    }
    for dataset_id, (shape, classes) in expected.items():
        info = get_info(dataset_id)
        assert info.input_shape == shape and info.num_classes == classes, dataset_id
    assert get_info("fashion_mnist_local").class_names[:2] == ["T-shirt/top", "Trouser"]
    assert get_info("digits").class_names == [str(i) for i in range(10)]


def test_made_up_reviews_are_labelled_by_their_words_in_order():
    from designer.data import reviews

    x, y, vocab = reviews.make_reviews(3, n=400)
    assert x.shape == (400, 200) and x.dtype == np.int32 and y.mean() == 0.5
    assert np.array_equal(reviews.make_reviews(3, n=400)[0], x)  # the same seed, the same reviews
    flipped = 0
    for ids, label in zip(x, y):
        words = [vocab[i] for i in ids if i]
        assert ids[0] == 0 and words  # padded at the front
        # A sentiment word after "not" counts the other way: the label follows the sum.
        score, negate = 0, False
        for w in words:
            if w == "not":
                negate = True
            elif w in reviews.GOOD or w in reviews.BAD:
                score += (1 if w in reviews.GOOD else -1) * (-1 if negate else 1)
                negate = False
        assert (score > 0) == bool(label), " ".join(words)
        flipped += "not" in words
    assert flipped > 100  # negation is common enough to matter


def test_fashion_mnist_keeps_its_official_test_set():
    ds = load_dataset("fashion_mnist_local")
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (48000, 12000, 10000)
    assert ds.x_train.max() == 1.0


def test_fashion_mnist_missing_files_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(builtin, "FASHION_DIR", tmp_path)
    with pytest.raises(DataError) as e:
        load_dataset("fashion_mnist_local")
    assert "apt-get install dataset-fashion-mnist" in one_line_error(e)
    assert not data.is_available("fashion_mnist_local")


def test_split_is_seeded_and_disjoint():
    spec = DataSpec(dataset="moons", validation_split=0.25, test_split=0.15, seed=7)
    a, b = load_dataset(spec), load_dataset(spec)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    c = load_dataset(DataSpec(dataset="moons", validation_split=0.25, test_split=0.15, seed=8))
    assert not np.array_equal(a.x_train, c.x_train)
    rows = [{tuple(r) for r in part} for part in (a.x_train, a.x_val, a.x_test)]
    assert sum(map(len, rows)) == 1000
    assert not (rows[0] & rows[1] or rows[0] & rows[2] or rows[1] & rows[2])
    assert (len(a.x_val), len(a.x_test)) == (250, 150)


def test_split_indices_cover_everything_once_and_stratify():
    y = np.array([0] * 80 + [1] * 20)
    train, val, test = split_indices(y, (0.2, 0.1), seed=0, stratify=True)
    assert sorted(np.concatenate([train, val, test])) == list(range(100))
    assert (y[val] == 1).sum() == 4 and (y[test] == 1).sum() == 2


def test_bad_split_fractions_are_refused():
    with pytest.raises(DataError, match="validation_split"):
        load_dataset(DataSpec(dataset="iris", validation_split=0.6, test_split=0.5))
    with pytest.raises(DataError, match="between 0 and 1"):
        load_dataset(DataSpec(dataset="iris", validation_split=-0.1))


def test_scaling_modes():
    digits = load_dataset("digits")
    assert digits.x_train.min() == 0.0 and digits.x_train.max() == 1.0
    assert load_dataset(DataSpec(dataset="digits", scaling="none")).x_train.max() == 16.0
    iris = load_dataset("iris")  # auto = standardised with training statistics
    assert np.allclose(iris.x_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(iris.x_train.std(axis=0), 1, atol=1e-3)
    mm = load_dataset(DataSpec(dataset="wine", scaling="minmax"))
    assert mm.x_train.min() == 0.0 and np.isclose(mm.x_train.max(), 1.0)
    raw = builtin.load_raw("iris").x[:3]
    assert np.allclose(iris.transform(raw), (raw - iris.scaling["mean"]) / iris.scaling["std"])
    with pytest.raises(DataError, match="unknown scaling"):
        load_dataset(DataSpec(dataset="iris", scaling="log"))


# ---- keras.datasets (network needed) ----------------------------------------------------------


def test_keras_download_failure_is_a_helpful_message(monkeypatch):

    def offline(*args, **kwargs):
        # What keras.utils.get_file raises when there is no network.
        raise Exception(
            "URL fetch failure on https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz: "
            "None -- [Errno -2] Name or service not known"
        )

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    with pytest.raises(DataError) as e:
        load_dataset("cifar10")
    message = one_line_error(e)
    assert "could not download 'cifar10' (no network?)" in message
    assert "~/.keras/datasets" in message and "digits" in message


def test_keras_text_set_is_padded_int_sequences(monkeypatch):
    rng = np.random.default_rng(0)

    def fake(num_words=None):
        seqs = [list(rng.integers(1, num_words, size=rng.integers(5, 300))) for _ in range(40)]
        labels = np.arange(40) % 2
        return (np.array(seqs[:30], dtype=object), labels[:30]), (
            np.array(seqs[30:], dtype=object),
            labels[30:],
        )

    monkeypatch.setattr(keras.datasets.imdb, "load_data", fake)
    ds = load_dataset("imdb")
    assert ds.x_train.shape[1:] == (200,) and ds.x_train.dtype == np.int32
    assert ds.info.input_dtype == "int32" and ds.num_classes == 2
    assert ds.x_train.max() < ds.info.vocab_size and len(ds.x_test) == 10


# ---- CSV uploads ----------------------------------------------------------------------------


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def people_csv(tmp_path: Path, n: int = 40) -> Path:
    rows = ["age,colour,height,label"]
    for i in range(n):
        height = "" if i == 3 else str(150 + i)
        rows.append(
            f"{20 + i},{['red', 'green', 'blue'][i % 3]},{height},{'yes' if i % 2 else 'no'}"
        )
    return write_csv(tmp_path / "people.csv", rows)


def test_csv_with_categorical_column(tmp_path):
    warnings: list[str] = []
    x, y, info, names = load_csv(people_csv(tmp_path), "label", warnings=warnings)
    assert names == ["age", "colour=blue", "colour=green", "colour=red", "height"]
    assert x.shape == (40, 5) and info.input_shape == (5,)
    assert x[:, 1:4].sum(axis=1).tolist() == [1.0] * 40  # one-hot
    assert info.task == "classification" and info.class_names == ["no", "yes"]
    assert set(y.tolist()) == {0, 1} and info.source == "upload"
    assert any("height" in w and "median" in w for w in warnings)
    assert x[3, 4] == np.median(150 + np.delete(np.arange(40), 3))


def test_csv_upload_through_load_dataset(tmp_path):
    path = people_csv(tmp_path)
    ds = load_dataset(DataSpec(dataset="upload", path=str(path), target="age"))
    assert ds.info.task == "regression" and ds.num_classes == 0  # 40 distinct integers
    assert ds.x_train.shape[1] == 6 and ds.warnings
    assert csv_columns(path) == ["age", "colour", "height", "label"]
    ds = load_dataset(DataSpec(path=str(path), target="colour"))
    assert ds.info.class_names == ["blue", "green", "red"]


def test_csv_semicolons_and_junk_cells(tmp_path):
    rows = ["a;b;t"] + [f"{i};{'?' if i == 5 else i * 2};{i % 2}" for i in range(40)]
    warnings: list[str] = []
    x, y, info, _ = load_csv(write_csv(tmp_path / "eu.csv", rows), "t", warnings=warnings)
    assert x.shape == (40, 2) and info.class_names == ["0", "1"]
    assert any("'?'" in w for w in warnings)


def test_csv_free_text_column_is_named(tmp_path):
    rows = ["comment,value,label"] + [f"note number {i},{i},{i % 2}" for i in range(60)]
    with pytest.raises(DataError) as e:
        load_csv(write_csv(tmp_path / "t.csv", rows), "label")
    assert "'comment'" in one_line_error(e) and "60 different" in str(e.value)


def test_csv_missing_target_lists_columns(tmp_path):
    with pytest.raises(DataError) as e:
        load_csv(people_csv(tmp_path), "species")
    assert "'species'" in one_line_error(e) and "age, colour, height, label" in str(e.value)


def test_csv_single_row(tmp_path):
    with pytest.raises(DataError) as e:
        load_csv(write_csv(tmp_path / "one.csv", ["a,b", "1,2"]), "b")
    assert "1 data rows" in one_line_error(e) and "10" in str(e.value)


def test_csv_wrong_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"name,score\n" + "Zoë,1\n".encode("latin-1") * 20)
    with pytest.raises(DataError) as e:
        load_csv(path, "score")
    assert "UTF-8" in one_line_error(e)


def test_csv_ragged_row_names_the_line(tmp_path):
    rows = ["a,b,c"] + [f"{i},{i},{i % 2}" for i in range(20)]
    rows[7] = "1,2,3,4"
    with pytest.raises(DataError) as e:
        load_csv(write_csv(tmp_path / "r.csv", rows), "c")
    assert "line 8" in one_line_error(e)


# ---- ZIP of images --------------------------------------------------------------------------


def png(size=(6, 5), colour=(0, 0, 0), mode="RGB") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size, colour if mode == "RGB" else colour[0]).save(buf, format="PNG")
    return buf.getvalue()


def test_zip_with_parent_path_is_refused_and_writes_nothing(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # a relative extraction would land in work/ or, via "..", tmp_path/
    path = work / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(6):
            zf.writestr(f"cats/{i}.png", png())
            zf.writestr(f"dogs/{i}.png", png())
        zf.writestr("../evil.png", png())
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(DataError) as e:
        load_image_zip(path)
    assert "../evil.png" in one_line_error(e)
    assert sorted(tmp_path.rglob("*")) == before
    assert not (tmp_path / "evil.png").exists()


def test_zip_with_absolute_path_is_refused(tmp_path):
    path = tmp_path / "abs.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("/etc/evil.png"), png())
    with pytest.raises(DataError, match="absolute path"):
        load_image_zip(path)


def test_zip_of_class_folders(tmp_path):
    path = tmp_path / "pets.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(5):
            zf.writestr(f"pets/cats/{i}.png", png((6, 5), (200, 10, 10)))
            zf.writestr(f"pets/dogs/{i}.png", png((6, 5), (10, 10, 200)))
        zf.writestr("pets/dogs/odd.png", png((12, 10), (10, 10, 200)))
        zf.writestr("__MACOSX/pets/cats/._0.png", b"junk")
    warnings: list[str] = []
    x, y, info, _ = load_image_zip(path, warnings=warnings)
    assert info.class_names == ["cats", "dogs"] and info.kind == "image"
    assert x.shape == (11, 5, 6, 3) and x.dtype == np.uint8
    assert info.input_shape == (5, 6, 3)
    assert np.bincount(y).tolist() == [5, 6]
    assert (x[y == 0][..., 0] > 150).all() and (x[y == 1][..., 2] > 150).all()
    assert any("resized to 6x5" in w for w in warnings)
    ds = load_dataset(DataSpec(dataset="upload", path=str(path)))
    assert ds.x_train.max() <= 1.0 and ds.num_classes == 2


def test_zip_with_a_non_image_names_the_file(tmp_path):
    path = tmp_path / "mixed.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(6):
            zf.writestr(f"a/{i}.png", png(mode="L"))
            zf.writestr(f"b/{i}.png", png(mode="L"))
        zf.writestr("b/notes.png", b"this is not a picture")
    with pytest.raises(DataError) as e:
        load_image_zip(path)
    assert "b/notes.png" in one_line_error(e)


def test_zip_bomb_is_refused_from_the_header(tmp_path, monkeypatch):
    monkeypatch.setattr(image_zip, "MAX_UNPACKED_BYTES", 10_000)
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/big.png", b"\0" * 50_000)
    assert path.stat().st_size < 10_000
    with pytest.raises(DataError, match="unpacks to"):
        load_image_zip(path)


# ---- NPZ ------------------------------------------------------------------------------------


def test_npz_arrays(tmp_path):
    path = tmp_path / "arrays.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.integers(0, 255, (30, 8, 8), dtype=np.uint8), y=np.arange(30) % 3)
    x, y, info, _ = load_npz(path)
    assert x.shape == (30, 8, 8, 1) and info.kind == "image" and info.num_classes == 3
    ds = load_dataset(DataSpec(dataset="upload", path=str(path)))
    assert ds.x_train.max() <= 1.0 and ds.x_train.shape[1:] == (8, 8, 1)

    np.savez(path, x=rng.normal(size=(30, 3)), y=rng.normal(size=30))
    assert load_npz(path)[2].task == "regression"


def test_npz_mismatch_and_bad_contents(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x=np.zeros((30, 3)), y=np.zeros(29))
    with pytest.raises(DataError) as e:
        load_npz(path)
    assert "30" in one_line_error(e) and "29" in str(e.value)
    np.savez(path, features=np.zeros((30, 3)), y=np.zeros(30))
    with pytest.raises(DataError, match="named x and y"):
        load_npz(path)
    np.savez(path, x=np.array([{"a": 1}] * 30, dtype=object), y=np.zeros(30))
    with pytest.raises(DataError, match="Python objects"):
        load_npz(path)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable"):
        load_npz(tmp_path / "junk.npz")


def test_unknown_upload_type_and_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"\.csv"):
        load_dataset(DataSpec(dataset="upload", path=str(tmp_path / "x.xlsx")))
    with pytest.raises(DataError, match="choose a file"):
        load_dataset(DataSpec(dataset="upload"))


# ---- fit between design and data ------------------------------------------------------------


def test_check_fit_messages():
    digits = get_info("digits")
    assert check_fit(digits, {"input": (784,)}, {"dense_2": (5,)}) == [
        (
            "input",
            "Input shape is (784,) but data set 'digits' gives (8, 8, 1): "
            "set the Input shape to [8, 8, 1]",
        ),
        ("dense_2", "the output has 5 units but 'digits' has 10 classes: set units to 10"),
    ]
    assert check_fit(digits, {"in": (8, 8, 1)}, {"out": (10,)}) == []
    assert check_fit(get_info("breast_cancer"), {"in": (30,)}, {"out": (1,)}) == []
    [(node, message)] = check_fit(get_info("diabetes"), {"in": (10,)}, {"out": (3,)})
    assert node == "out" and "set units to 1" in message
    [(node, message)] = check_fit(digits, {"in": (8, 8, 1)}, {"conv": (6, 6, 10)})
    assert node == "conv" and "Flatten" in message
    assert check_fit(get_info("imdb"), {"in": (None,)}, {"out": (2,)}) == []


# ---- compile defaults -----------------------------------------------------------------------


def test_default_compile():
    assert default_compile(get_info("digits"), 10, "softmax") == {
        "loss": "sparse_categorical_crossentropy",
        "metrics": ["accuracy"],
    }
    assert default_compile(get_info("breast_cancer"), 1, "sigmoid") == {
        "loss": "binary_crossentropy",
        "metrics": ["accuracy"],
    }
    assert default_compile(get_info("breast_cancer"), 2, "softmax")["loss"] == (
        "sparse_categorical_crossentropy"
    )
    assert default_compile(get_info("diabetes"), 1, None) == {
        "loss": "mean_squared_error",
        "metrics": ["mae"],
    }


def test_encode_labels_for_loss():
    y = np.array([0, 2, 1])
    one_hot = encode_labels_for_loss(y, "categorical_crossentropy", 3)
    assert one_hot.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]] and one_hot.dtype == np.float32
    assert encode_labels_for_loss(y, "CategoricalCrossentropy", 3).shape == (3, 3)
    assert encode_labels_for_loss(y, "kl_divergence", 3).shape == (3, 3)
    assert encode_labels_for_loss(y, "binary_crossentropy", 3).shape == (3, 3)  # one per class
    binary = encode_labels_for_loss(np.array([0, 1, 1]), "binary_crossentropy", 2)
    assert binary.shape == (3, 1) and binary.dtype == np.float32
    assert encode_labels_for_loss(y, "sparse_categorical_crossentropy", 3) is y
