"""Files from strangers: malformed designs, models and uploads. Each is refused with one clear
line (exit code 2 on the command line, no traceback), nothing is written outside the working
folder, nothing in the file is executed.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import resource
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from designer import codegen, data
from designer.cli import main
from designer.design.spec import Design
from designer.model import importer
from designer.model.build import analyze, build_model

GRAPH = {
    "nodes": [
        {"id": "in", "type": "Input", "params": {"shape": [4]}},
        {"id": "out", "type": "Dense", "params": {"units": 2}},
    ],
    "edges": [{"source": "in", "target": "out"}],
}


def cli(*args: str, cwd: Path, limit_memory: int | None = None) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KERAS_DESIGNER_RUNS", "KERAS_DESIGNER_DEBUG")
    }
    # A runaway allocation then fails in the child instead of taking the machine down.
    limit = (
        (lambda: resource.setrlimit(resource.RLIMIT_AS, (limit_memory,) * 2))
        if limit_memory
        else None
    )
    return subprocess.run(
        [sys.executable, "-m", "designer.cli", *args],
        cwd=cwd,
        env={**env, "KERAS_DESIGNER_NO_BAR": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit,
    )


def run_main(capsys, *args: str) -> tuple[int, str, str]:  # no second TensorFlow import
    capsys.readouterr()
    return (main(list(args)), *capsys.readouterr())  # main() runs before the output is read


def assert_one_line_refusal(result, *words: str, code: int = 2) -> str:
    text = result.stdout + result.stderr
    assert result.returncode == code and "Traceback" not in text, text[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr[-2000:]
    assert all(word.lower() in errors[0].lower() for word in words), errors[0]
    return errors[0]


@pytest.fixture
def work(tmp_path):
    """A working folder for one command; afterwards, nothing new may appear beside it."""
    before = set(os.listdir(tmp_path.parent))
    yield tmp_path
    assert set(os.listdir(tmp_path.parent)) == before


def entries(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


# ---- design files ----------------------------------------------------------------------------
BAD_DESIGNS = {
    "truncated": (b'{"nodes": [{"id": "in", "type": "Inp', "invalid JSON"),
    "empty": (b"", "invalid JSON"),
    "top-level-list": (b"[1, 2]", "JSON object"),
    "nodes-not-list": (b'{"nodes": "Dense"}', "'nodes' must be a list"),
    "node-without-id": (b'{"nodes": [{"type": "Dense"}]}', "'id'"),
    "params-not-object": (b'{"nodes": [{"id": "a", "type": "Dense", "params": [1]}]}', "'params'"),
    "edge-ids-not-strings": (b'{"edges": [{"source": 1, "target": "x"}]}', "source"),
    "epochs-as-text": (b'{"training": {"epochs": "ten"}}', "training.epochs"),
    "unknown-field": (b'{"compile": {"lr": 0.1}}', "lr"),
    "10-MB-string": (b'{"name": "' + b"x" * 10 * 2**20 + b'"}', "larger than 5 MB"),
    "4-MB-name": (b'{"name": "' + b"x" * 4 * 2**20 + b'"}', "'name' is longer"),
    "deep-nesting": (b"[" * 100_000, "invalid JSON"),
    "deep-nesting-in-nodes": (
        b'{"nodes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "invalid JSON",
    ),
    "unknown-version": (b'{"version": 99, "nodes": []}', "version 99"),
    "version-as-text": (b'{"version": "2"}', "'version' must be an integer"),
    "non-utf8": (b'{"name": "caf\xe9 \xff\xfe"}', "invalid JSON"),
    "binary": (bytes(range(256)) * 4, "invalid JSON"),
}


@pytest.mark.parametrize("command", ["validate", "summary"])
@pytest.mark.parametrize("case", list(BAD_DESIGNS))
def test_malformed_design_files_are_refused_in_one_line(case, command, work):
    content, words = BAD_DESIGNS[case]
    (work / "design.json").write_bytes(content)
    result = cli(command, "design.json", cwd=work)
    line = assert_one_line_refusal(result, words)
    assert len(line) < 400 and result.stdout == ""
    assert entries(work) == {"design.json"}


def test_a_directory_or_a_missing_file_is_refused(work):
    (work / "folder.json").mkdir()
    assert_one_line_refusal(cli("validate", "folder.json", cwd=work), "cannot read")
    assert_one_line_refusal(cli("summary", "missing.json", cwd=work), "cannot read")
    assert entries(work) == {"folder.json"}


def test_nan_and_infinity_in_parameters_are_messages_on_their_nodes(work):
    text = json.dumps(GRAPH).replace('"shape": [4]', '"shape": [NaN]').replace("2}", "Infinity}")
    (work / "design.json").write_text(text)
    result = cli("validate", "design.json", cwd=work)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert [line.split(":")[:2] for line in result.stdout.splitlines()] == [
        ["in", " shape"],
        ["out", " units"],
    ]


def with_section(key: str, literal: str) -> str:
    return json.dumps(GRAPH)[:-1] + f', "{key}": {literal}}}'


CYCLE = (
    '{"nodes": [{"id": "a", "type": "Dense"}, {"id": "b", "type": "Dense"}], '
    '"edges": [{"source": "a", "target": "b"}, {"source": "b", "target": "a"}]}'
)
FORGED = (
    json.dumps(GRAPH)
    .replace('"out"', '"out\\nforged: a problem"')
    .replace('"units": 2', '"units": 0')
)
# Each of these once ended in a Python exception or was accepted (fixed in 5e61039).
REGRESSIONS = [  # command, design file, accepted exit codes, words the output must hold
    *(
        pytest.param(
            "validate",
            with_section("training", f'{{"epochs": {v}}}'),
            (2,),
            "training.epochs",
            id=f"epochs-{v}",
        )
        for v in ("NaN", "Infinity", "2.5")
    ),
    pytest.param(
        "validate", '{"version": 1, "nodes": 5}', (2,), "'nodes' must be a list", id="v1-nodes-5"
    ),
    pytest.param(
        "validate",
        '{"version": 1, "links": null}',
        (2,),
        "'links' must be a list",
        id="v1-links-null",
    ),
    pytest.param("summary", '{"nodes": []}', (1,), "problem: design", id="summary-empty"),
    pytest.param("summary", CYCLE, (1,), "problem: a", id="summary-all-in-a-cycle"),
    *(
        pytest.param("validate", with_section("compile", c), (1, 2), "compile", id=f"compile-{c}")
        for c in ('{"metrics": 5}', '{"loss": ["mse"]}', '{"loss": "bogus"}')
    ),
    pytest.param("validate", FORGED, (2,), "control character", id="id-with-a-newline"),
]


@pytest.mark.parametrize("command, text, codes, words", REGRESSIONS)
def test_designs_that_used_to_crash_get_messages(command, text, codes, words, tmp_path, capsys):
    (tmp_path / "design.json").write_text(text)
    code, out, err = run_main(capsys, command, str(tmp_path / "design.json"))
    assert code in codes and "Error:" not in err and words in out + err, out + err
    nodes = json.loads(text).get("nodes")
    names = {n["id"] for n in nodes if isinstance(n, dict)} if isinstance(nodes, list) else set()
    if command == "validate":  # each stdout line is "node_id: message" about a real node
        assert all(
            line.split(": ")[0] in names | {"design", "compile"} for line in out.splitlines()
        ), out


@pytest.mark.parametrize("first, second", [("a/b", "a_b"), ("é", "ü")])
def test_ids_whose_keras_names_clash_are_reported_or_build(first, second):
    design = Design.from_dict(
        {
            "nodes": [
                {"id": "in", "type": "Input", "params": {"shape": [4]}},
                {"id": first, "type": "Dense", "params": {"units": 3}},
                {"id": second, "type": "Dense", "params": {"units": 2}},
            ],
            "edges": [{"source": "in", "target": first}, {"source": first, "target": second}],
        }
    )
    analysis = analyze(design)
    assert analysis.ok or any(node_id in (first, second) for node_id, _ in analysis.problems)
    if analysis.ok:
        assert build_model(design).count_params() == analysis.total_params


def test_a_design_too_large_to_build_is_a_message_not_an_allocation(work):
    big = json.dumps(GRAPH).replace("[4]", "[100000]").replace('"units": 2', '"units": 65536')
    (work / "design.json").write_text(big)
    result = cli("validate", "design.json", cwd=work, limit_memory=4 * 2**30)
    assert result.returncode == 1 and result.stdout.startswith("out: "), result.stderr[-500:]
    assert "OOM" not in result.stdout and "function_node" not in result.stdout, result.stdout


def test_user_text_in_generated_code_stays_text(tmp_path, monkeypatch):
    marker = tmp_path / "MARKER"
    evil = f'x"); open({str(marker)!r}, "w"); ("'
    design = Design.from_dict(
        {
            "name": f'"""\nopen({str(marker)!r}, "w")\n"""',
            "description": f"\\'''{evil}",
            "nodes": [
                {"id": "in", "type": "Input", "params": {"shape": [4]}},
                {"id": evil, "type": "Dense", "params": {"units": 2}},
            ],
            "edges": [{"source": "in", "target": evil}],
        }
    )
    code = codegen.generate(design)
    namespace: dict = {"__name__": "generated"}
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "model.py", "exec"), namespace)
    namespace["build_model"]()
    assert not marker.exists()
    tree = ast.parse(code)  # and user text never became a call: only literals hold it
    called = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    assert not called & {"open", "exec", "eval", "__import__", "compile", "getattr"}, called


# ---- .keras files ----------------------------------------------------------------------------
def zip_file(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return path


def declare_size(path: Path, size: int) -> Path:
    """Patch the ZIP headers so that every member claims to unpack to ``size`` bytes."""
    raw = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        for at in [m.start() + offset for m in re.finditer(re.escape(signature), raw)]:
            raw[at : at + 4] = size.to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    return path


def writes(path: str):
    return lambda t: (open(path, "w").close(), t)[1]


@pytest.fixture(scope="module")
def code_models(tmp_path_factory):
    """A Lambda model and a custom-class model whose code, if it ever ran, writes MARKER."""
    import keras

    folder = tmp_path_factory.mktemp("models")
    marker = folder / "MARKER"

    @keras.saving.register_keras_serializable(package="Strangers")
    class Touch(keras.layers.Layer):
        def call(self, x):
            open(marker, "w").close()
            return x

    for name, layer in (
        ("lambda", keras.layers.Lambda(writes(str(marker)), name="evil_lambda")),
        ("custom", Touch(name="evil_custom")),
    ):
        inp = keras.Input((3,), name="x")
        keras.Model(inp, layer(inp)).save(folder / f"{name}.keras")
    marker.unlink()
    return folder, marker


def write(path: Path, content, declared: int | None = None) -> None:
    """``content``: the file's bytes, or a ZIP's members; ``declared``: lie about their size."""
    zip_file(path, content) if isinstance(content, dict) else path.write_bytes(content)
    if declared:
        declare_size(path, declared)


FUNCTIONAL = {"class_name": "Functional", "module": "keras", "config": {"layers": 5}}
SUBCLASSED = {"class_name": "MyNet", "module": "mynet", "config": {}}
MODEL_CASES = {  # name: (content, words of the message[, declared size of each member])
    "random-bytes": (os.urandom(4096), "not a .keras file"),
    "hdf5": (b"\x89HDF\r\n\x1a\n" + bytes(64), "HDF5"),
    "no-config": ({"metadata.json": b"{}"}, "no config.json"),
    "config-not-json": ({"config.json": b"{oops"}, "not valid JSON"),
    "config-not-a-model": ({"config.json": b'{"a": 1}'}, "Keras model"),
    "config-wrong-shape": ({"config.json": json.dumps(FUNCTIONAL).encode()}, "cannot load"),
    "subclassed": ({"config.json": json.dumps(SUBCLASSED).encode()}, "custom code"),
    "declared-bomb": ({"config.json": b"{}" * 1000}, "unpacks to more", 3 * 2**30),
}


@pytest.mark.parametrize("case", list(MODEL_CASES))
def test_malformed_keras_files_are_refused_in_one_line(case, tmp_path):
    content, words, *declared = MODEL_CASES[case]
    write(tmp_path / "model.keras", content, *declared)
    with pytest.raises(importer.ModelFileError) as info:
        importer.import_keras(tmp_path / "model.keras")
    message = str(info.value)
    assert "\n" not in message and words.lower() in message.lower(), message
    assert entries(tmp_path) == {"model.keras"}


@pytest.mark.parametrize(
    "kind, words", [("lambda", ("evil_lambda", "Lambda")), ("custom", ("evil_custom", "custom"))]
)
def test_models_holding_code_are_refused_without_running_it(kind, words, code_models):
    folder, marker = code_models
    with pytest.raises(importer.ModelFileError) as info:
        importer.import_keras(folder / f"{kind}.keras")
    assert all(w.lower() in str(info.value).lower() for w in words), str(info.value)
    assert not marker.exists()
    if kind == "lambda":  # the control: without the checks, loading the file runs its code
        import keras

        keras.saving.load_model(folder / "lambda.keras", safe_mode=False)
        assert marker.exists()
        marker.unlink()


@pytest.mark.parametrize(
    "layer, shape", [("SpatialDropout2D", (4, 4, 3)), ("SpatialDropout1D", (5, 2))]
)
def test_models_with_spatial_dropout_import(layer, shape):
    import keras

    inp = keras.Input(shape)
    model = keras.Model(inp, getattr(keras.layers, layer)(0.5)(inp))
    result = importer.import_model(model)
    assert [n.type for n in result.design.nodes] == ["Input", layer]


@pytest.mark.parametrize("case", ["random-bytes", "no-config", "declared-bomb", "lambda"])
def test_bad_keras_files_on_the_command_line(case, work, code_models):
    if case == "lambda":
        (work / "model.keras").write_bytes((code_models[0] / "lambda.keras").read_bytes())
    else:
        write(work / "model.keras", MODEL_CASES[case][0], *MODEL_CASES[case][2:])
    result = cli("import", "model.keras", "-o", "design.json", cwd=work)
    assert_one_line_refusal(result, "evil_lambda" if case == "lambda" else MODEL_CASES[case][1])
    assert entries(work) == {"model.keras"} and not code_models[1].exists()


# ---- uploads ---------------------------------------------------------------------------------
def png(width: int = 4, height: int = 4) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (the pixels are for 2x2)."""
    buf = io.BytesIO()
    Image.new("L", (2, 2)).save(buf, "PNG")
    raw = bytearray(buf.getvalue())
    raw[16:24] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    raw[29:33] = zlib.crc32(bytes(raw[12:29])).to_bytes(4, "big")
    return bytes(raw)


def images(extra: dict[str, bytes] | None = None, content: bytes | None = None) -> dict[str, bytes]:
    members = {f"{c}/{i}.png": content or png(2, 2) for c in ("cats", "dogs") for i in range(6)}
    return {**(extra or {}), **members}


def pickled_objects(path: Path) -> None:
    """An object array whose unpickling calls open(MARKER, "w"): code run from a data file."""
    opens = type("Opens", (), {"__reduce__": lambda _: (open, (str(path.parent / "MARKER"), "w"))})
    np.savez(path, x=np.array([opens()] * 12, dtype=object), y=np.arange(12))


ZIP_FILES = {f"c{i % 2}/{i}.png": b"" for i in range(data.MAX_ZIP_FILES + 1)}
UPLOADS = {  # name: (content or maker, words of the message[, declared size of each member])
    "latin-1.csv": (b"name,y\n" + b"caf\xe9,1\n" * 20, "not UTF-8"),
    "ragged.csv": (b"a,b,y\n" + b"1,2,0\n" * 12 + b"3,4\n", "has 2 fields"),
    "binary.csv": (png() * 3, "not a text file"),
    "traversal.zip": (images({"../../evil.png": png()}), "outside"),
    "absolute.zip": (images({"/tmp/evil.png": png()}), "absolute path"),
    "bomb.zip": (
        lambda p: zip_file(p, images({"c/0.png": bytes(data.MAX_UNPACKED_BYTES + 1)})),
        "unpacks to",
    ),
    "lying-header.zip": (images(content=bytes(2**20)), "lying-header.zip", 100),
    "not-images.zip": (images(content=b"just text, not a picture"), "not an image"),
    "pixel-bomb.zip": (images(content=png(5000, 5000)), "too large"),
    "too-many.zip": (ZIP_FILES, "the limit is"),
    "pickle.npz": (pickled_objects, "Python objects"),
    "bomb.npz": ({"x.npy": b"", "y.npy": b""}, "unpacks to", 3 * 2**30),
    "random.npz": (os.urandom(2048), "not a readable .npz"),
}
LOADERS = {
    ".csv": lambda p: data.load_csv(p, "y"),
    ".zip": data.load_image_zip,
    ".npz": data.load_npz,
}


def make_upload(path: Path) -> tuple[str, ...]:
    content, words, *declared = UPLOADS[path.name]
    content(path) if callable(content) else write(path, content, *declared)
    return words


@pytest.mark.parametrize("name", list(UPLOADS))
def test_bad_uploads_raise_one_line_data_errors(name, tmp_path):
    path = tmp_path / name
    words = make_upload(path)
    with pytest.raises(data.DataError) as info:
        LOADERS[path.suffix](path)
    message = str(info.value)
    assert "\n" not in message and words.lower() in message.lower(), message
    assert entries(tmp_path) == {name}  # nothing extracted, nothing unpickled
    if name == "pickle.npz":  # the control: with pickle allowed, loading runs the file's code
        np.load(path, allow_pickle=True)["x"]
        assert (tmp_path / "MARKER").exists()


def test_a_size_refusal_says_by_how_much(tmp_path):
    # A ZIP a few bytes over the limit must not read "200 MB; the limit is 200 MB".
    path = declare_size(zip_file(tmp_path / "big.zip", images()), data.MAX_UNPACKED_BYTES // 12 + 1)
    with pytest.raises(data.DataError) as info:
        data.load_image_zip(path)
    sizes = re.findall(r"([\d.,]+) (MB|bytes)", str(info.value))
    assert len(sizes) == 2 and sizes[0] != sizes[1], str(info.value)


@pytest.mark.parametrize("name", ["traversal.zip", "latin-1.csv"])
def test_bad_uploads_on_the_command_line(name, work):
    Design.from_dict(GRAPH).save(work / "design.json")
    words = make_upload(work / name)
    extra = ["--target", "y"] if name.endswith(".csv") else []
    result = cli("train", "design.json", "--data", name, *extra, "--epochs", "1", cwd=work)
    assert_one_line_refusal(result, words)
    assert entries(work) <= {"design.json", name, "runs"}
    assert not list(work.rglob("evil*"))
