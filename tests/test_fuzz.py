"""Fuzzing the design pipeline: random designs through validate, summary, build, export, import.

Whatever a design file holds, the pipeline answers with ``(node_id, message)`` pairs on nodes
of the design (or the pseudo ids ``design``/``compile``), never with an exception. Whatever
validates also builds with Keras to the same parameter count, exports to code that compiles,
and comes back from a ``.keras`` file with the same size.

Keras work is kept small on purpose: generated Inputs have 1 to 3 axes of size 1..12 and
"valid" parameter values stay near their minimum (huge in-range values are a resource
question, covered in test_bad_input.py). Longer runs, with pretrained bases now and then:
``./run.sh test -m slow tests/test_fuzz.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from designer import codegen
from designer.cli import main
from designer.data import list_datasets
from designer.design import catalog, compile_catalog, compiling, graph
from designer.design.spec import CompileSpec, DataSpec, Design, DesignFileError, Edge, Node
from designer.model import exporting, importer
from designer.model.build import analyze, build_model, summary_rows
from designer.model.validate import validate

from helpers.same_model import assert_same_layers

PSEUDO_IDS = {"design", "compile"}
TYPES = [t for t, s in catalog.LAYERS.items() if s.category != "pretrained"]
LAYER_TYPES = [t for t in TYPES if t != "Input"]
PRETRAINED = [t for t, s in catalog.LAYERS.items() if s.category == "pretrained"]
# How far above its minimum a generated "valid" value may go: keeps every Keras call small.
CAP = {
    "units": 16,
    "filters": 6,
    "input_dim": 40,
    "output_dim": 6,
    "n": 4,
    "height": 12,
    "width": 12,
    "size": 3,
    "depth_multiplier": 2,
    "value_range": 255,
}


def fuzz_settings(examples: int, **kw) -> settings:
    slow = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
    return settings(max_examples=examples, deadline=None, suppress_health_check=slow, **kw)


# ---- strategies ----------------------------------------------------------------------------
json_scalars = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def valid_value(p) -> st.SearchStrategy:
    """A value the parameter's check accepts, small enough for a fast Keras call."""
    if p.kind == "bool":
        return st.booleans()
    if p.kind == "choice":
        return st.sampled_from(p.choices)
    if p.kind == "str":
        return st.text(max_size=10)
    if p.kind == "float":
        return st.floats(p.min, p.max, allow_nan=False, allow_infinity=False)
    if p.kind == "shape":
        if p.name == "dims":  # Permute: an ordering of the axes 1..k
            return st.integers(1, 3).flatmap(lambda k: st.permutations(list(range(1, k + 1))))
        sizes = st.lists(st.integers(1, 12), min_size=1, max_size=3)
        return st.just([-1]) | sizes if p.name == "target_shape" else sizes
    lo = -3 if p.name == "axis" else int(p.min or 0)
    small = st.integers(lo, min(int(p.max), lo + CAP.get(p.name, 3)))
    if p.kind == "ints" and p.name == "value_range":
        return st.lists(small, min_size=2, max_size=2, unique=True).map(sorted)
    if p.kind == "ints":
        return small | st.lists(small, min_size=p.length, max_size=p.length)
    return small


def bad_value(p) -> st.SearchStrategy:
    """A value the check must refuse: out of range, wrong length or wrong type."""
    wrong = [
        st.text(max_size=4),
        st.lists(st.text(max_size=3), min_size=1, max_size=2),
        st.dictionaries(st.text(max_size=3), json_scalars, max_size=2),
        st.sampled_from([float("nan"), float("inf"), -float("inf")]),
    ]
    if not p.optional:
        wrong.append(st.none())
    wrong.append(st.integers(0, 1) if p.kind == "bool" else st.booleans())
    if p.kind in ("int", "ints", "float"):
        if p.min is not None:
            wrong.append(st.just(type(p.min)(p.min) - 1 if p.kind == "float" else int(p.min) - 1))
        if p.max is not None:
            wrong.append(st.just(p.max + 1 if p.kind == "float" else int(p.max) + 1))
    if p.kind == "int":
        wrong.append(st.just(2.5))
    if p.kind == "ints" and p.length:
        wrong.append(st.just([1] * (p.length + 1)))
    if p.kind == "shape":
        wrong.append(st.sampled_from([[], [0], [1] * 9, [100_001], [1.5], ["a"], "28"]))
    return st.one_of(wrong)


@st.composite
def params_for(draw, layer_type: str, *, bad: bool) -> dict:
    spec = catalog.LAYERS[layer_type]
    out = {}
    for p in spec.params:
        roll = draw(st.integers(0, 9))
        if roll < 3:
            continue  # left out: the catalog default applies
        out[p.name] = draw(bad_value(p) if bad and roll == 9 else valid_value(p))
    if bad and draw(st.integers(0, 9)) == 0:
        out[draw(st.text(min_size=1, max_size=6))] = draw(json_scalars)
    return out


# No control characters: files refuse them in ids (a newline would forge `validate` lines).
weird_ids = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
unknown_types = st.sampled_from(["Dense2", "dense", "Lambda"]) | st.text(min_size=1, max_size=10)
free_text = st.sampled_from(['"""', "\\", "\n", "'" * 3, "é", "{x}"]) | st.text(max_size=20)
compile_specs = st.builds(
    CompileSpec,
    loss=st.sampled_from([None, *compile_catalog.LOSSES]),
    optimizer=st.sampled_from(list(compile_catalog.OPTIMIZERS)),
    metrics=st.none()
    | st.lists(st.sampled_from(list(compile_catalog.METRICS)), max_size=2, unique=True),
)


@st.composite
def random_designs(draw, pretrained: bool = False) -> Design:
    """Anything goes: unknown types, bad params, duplicate ids, cycles, dangling edges."""
    n = draw(st.integers(0, 6))
    ids: list[str] = []
    for i in range(n):
        roll = draw(st.integers(0, 9))
        ids.append(
            draw(weird_ids)
            if roll == 0
            else draw(st.sampled_from(ids))
            if roll == 1 and ids
            else f"n{i}"
        )
    nodes = []
    for k, node_id in enumerate(ids):
        roll = draw(st.integers(0, 19))
        if (k == 0 and roll < 14) or roll == 0:
            t = "Input"
        elif roll == 1:
            t = draw(unknown_types)
        elif pretrained and roll == 2:
            t = draw(st.sampled_from(PRETRAINED))
        else:
            t = draw(st.sampled_from(LAYER_TYPES))
        known = t in catalog.LAYERS
        params = draw(
            params_for(t, bad=True)
            if known
            else st.dictionaries(st.text(max_size=5), json_scalars, max_size=3)
        )
        nodes.append(Node(node_id, t, params))
    end = st.sampled_from([*ids, "ghost"])
    chain = [Edge(a, b) for a, b in zip(ids, ids[1:])] if draw(st.booleans()) else []
    extra = draw(st.lists(st.builds(Edge, end, end), max_size=n + 2))
    outputs = draw(st.none() | st.lists(end, max_size=2))
    return Design(nodes=nodes, edges=chain + extra, outputs=outputs or None)


@st.composite
def plausible_designs(draw, max_layers=5, pretrained=False, types=tuple(LAYER_TYPES)) -> Design:
    """Input -> a few layers with valid parameters, sometimes branching and merging, so that
    a good share validates and reaches the builder, the exporter and the importer."""
    shape = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3))
    if pretrained and draw(st.integers(0, 4)) == 0:
        shape = [32, 32, 3]
    nodes = [Node("input", "Input", {"shape": shape})]
    edges: list[Edge] = []
    for i in range(draw(st.integers(1, max_layers))):
        t = draw(st.sampled_from(types))
        if pretrained and draw(st.integers(0, 9)) == 0:
            t = draw(st.sampled_from(PRETRAINED))
        prior = [n.id for n in nodes]
        spec = catalog.LAYERS[t]
        if spec.min_inputs >= 2:
            if len(prior) < 2:
                t, spec = "Dense", catalog.LAYERS["Dense"]
                preds = [prior[-1]]
            else:
                preds = [prior[-1], draw(st.sampled_from(prior[:-1]))]
        else:
            preds = [prior[-1] if draw(st.integers(0, 3)) else draw(st.sampled_from(prior))]
        node_id = f"{t.lower()}_{i}"
        params = draw(params_for(t, bad=False))
        if spec.module == "applications":
            params["weights"] = None
        nodes.append(Node(node_id, t, params))
        edges += [Edge(p, node_id) for p in preds]
    return Design(
        nodes=nodes,
        edges=edges,
        name=draw(free_text),
        description=draw(free_text),
        compile=draw(compile_specs),
        data=DataSpec(dataset=draw(st.sampled_from([None, *(i.id for i in list_datasets())]))),
    )


# ---- the properties ------------------------------------------------------------------------
def assert_node_level(design: Design, problems) -> None:
    ids = {n.id for n in design.nodes} | PSEUDO_IDS
    for problem in problems:
        assert isinstance(problem, tuple) and len(problem) == 2, problem
        node_id, message = problem
        assert node_id in ids, f"problem on {node_id!r}, not a node: {message}"
        assert isinstance(message, str) and message.strip(), problem
        assert "\n" not in message and "Traceback" not in message, message


def check_design(design: Design, build: bool = True):
    """Validate and summarise; whatever validates is built and counted by Keras too."""
    analysis = analyze(design)
    assert_node_level(design, analysis.problems)
    assert analysis.ok == (not analysis.problems)
    rows = summary_rows(design, analysis)
    assert [r["node"] for r in rows] == analysis.order
    assert all(isinstance(r["params"], int) and r["params"] >= 0 for r in rows)
    assert_node_level(design, compiling.problems(design.compile))
    if build and analysis.ok:
        assert build_model(design).count_params() == analysis.total_params
    return analysis


@given(random_designs())
@fuzz_settings(150)
def test_random_designs_get_node_level_messages_never_exceptions(design):
    check_design(design)


@given(plausible_designs())
@fuzz_settings(60)
def test_designs_that_validate_also_build_with_the_same_count(design):
    check_design(design)


# Minutes long: deselected by default (pyproject's addopts), run with `./run.sh test -m slow`.
@pytest.mark.slow
@given(random_designs(pretrained=True) | plausible_designs(max_layers=8, pretrained=True))
@fuzz_settings(600)
def test_long_run_with_pretrained_bases(design):
    check_design(design)


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@given(random_designs() | plausible_designs(max_layers=3))
@fuzz_settings(40)
def test_cli_validate_and_summary_agree_with_analyze(design):
    analysis = validate(design)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "design.json"
        design.save(path)
        code, out, err = run_cli("validate", str(path))
        assert code == (0 if analysis.ok else 1), err
        assert out.splitlines() == [line for line in analysis.lines() for line in line.splitlines()]
        code, out, err = run_cli("summary", str(path))
        assert code == (0 if analysis.ok else 1), err
        assert out.splitlines()[-1] == f"Total params: {analysis.total_params:,}"
        assert "Traceback" not in out + err
        assert sorted(p.name for p in Path(folder).iterdir()) == ["design.json"]


# ---- export and import (designer/codegen.py, designer/importer.py) -------------------------
@given(plausible_designs(max_layers=4), st.integers(0, 9))
@fuzz_settings(30)
def test_valid_designs_export_code_that_compiles(design, roll):
    analysis = analyze(design)
    assume(analysis.ok)
    compiled = compile(codegen.generate(design), "<generated model.py>", "exec")
    if roll == 0:  # running the script is slower: a few examples only
        namespace: dict = {"__name__": "generated"}
        exec(compiled, namespace)
        model = namespace["build_model"]()
        assert model.count_params() == analysis.total_params
        assert_same_layers(model, exporting.build_export_model(design))  # layer by layer


def save_and_import(design: Design):
    model = build_model(design)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        result = importer.import_keras(path)
        back, problems = result.design, result.problems
        assert sorted(p.name for p in Path(folder).iterdir()) == ["model.keras"]
    assert_node_level(back, problems)
    return back, problems


@given(plausible_designs(max_layers=4))
@fuzz_settings(15)
def test_importing_what_we_build_gives_node_level_messages(design):
    assume(analyze(design).ok)
    save_and_import(design)


@given(plausible_designs(max_layers=4))
@fuzz_settings(15)
def test_valid_designs_round_trip_through_keras_files(design):
    analysis = analyze(design)
    assume(analysis.ok)
    back, problems = save_and_import(design)
    assert problems == []  # our own model: nothing in it that a design cannot hold
    again = analyze(back)
    assert again.ok, again.lines()
    assert again.total_params == analysis.total_params


# The types Keras stores differently from how they were built (augmentation layers recorded
# with training=True, RandomCrop's invented seed, factor 0.2 as [0, 0.2], axis -1 as [-1]):
# each one, on its own, round-trips without a problem.
ODD_CONFIGS = sorted(
    {t for t, s in catalog.LAYERS.items() if s.category == "augmentation"}
    | {"LayerNormalization", "Normalization"}
)


@pytest.mark.parametrize("layer_type", ODD_CONFIGS)
def test_layer_types_with_odd_configs_round_trip(layer_type):
    params = {"height": 4, "width": 4} if "Crop" in layer_type else {}
    nodes = [Node("input", "Input", {"shape": [8, 8, 3]}), Node("x", layer_type, params)]
    design = Design(nodes=nodes, edges=[Edge("input", "x")])
    assert importer.import_model(build_model(design)).problems == []


# ---- the design file itself ----------------------------------------------------------------
node_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=4) | json_values,
        "type": st.sampled_from(TYPES) | json_values,
        "params": st.dictionaries(st.text(max_size=6), json_values, max_size=3) | json_values,
        "config": json_values,
    },
)


def _section(*keys: str) -> st.SearchStrategy:
    return st.dictionaries(st.sampled_from(keys), json_values)


design_like = st.fixed_dictionaries(
    {},
    optional={
        "version": st.sampled_from([1, 2, 3, 0, -1, "2", 2.0, True, None]),
        "nodes": st.lists(node_like, max_size=4) | json_values,
        "edges": st.lists(_section("source", "target")) | json_values,
        "links": st.lists(_section("from", "to")) | json_values,
        "outputs": json_values,
        "name": json_values,
        "layout": json_values,
        "augmentation": st.lists(node_like, max_size=2) | json_values,
        "compile": _section("loss", "optimizer", "optimizer_params", "metrics", "bogus"),
        "training": _section("epochs", "batch_size", "seed", "early_stopping"),
        "data": _section("dataset", "path", "target", "seed"),
    },
)


@given(
    json_values.map(json.dumps)
    | design_like.map(json.dumps)
    | st.text(max_size=60)
    | st.binary(max_size=60)
)
@fuzz_settings(400)
def test_from_json_only_raises_design_file_error(text):
    try:
        design = Design.from_json(text)
    except DesignFileError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    # What opens also saves and reopens unchanged, and gets structural messages, not errors.
    assert Design.from_json(design.to_json()).to_json() == design.to_json()
    assert_node_level(design, graph.structural_problems(design))
    assert_node_level(design, compiling.problems(design.compile))
