"""Keras' answers kept on disk (designer/model/layer_cache.py): the shipped file is what Keras
says now, a fresh server shows a template's shapes without importing Keras, and answers a
workspace computed come back in the next process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from designer.design import templates
from designer.design.spec import Node
from designer.model import build, layer_cache

ROOT = Path(__file__).resolve().parents[1]
REWRITE = "write it again: .venv/bin/python tools/write_layer_answers.py"


@pytest.fixture
def cold(monkeypatch, tmp_path):
    """build's memory cache empty and not yet read from disk, in a workspace of its own."""
    monkeypatch.setenv("KERAS_DESIGNER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(build, "_CACHE", type(build._CACHE)())
    monkeypatch.setattr(build, "_DISK", None)
    return tmp_path / "home" / "cache" / "layer_answers.jsonl"


def test_the_shipped_answers_are_what_keras_says_now():
    shipped = json.loads(layer_cache.SHIPPED.read_text(encoding="utf-8"))
    assert shipped["code"] == layer_cache.code_digest(), f"the code changed: {REWRITE}"
    assert shipped["answers"]
    for key, answer in shipped["answers"].items():
        layer_type, params, inputs = json.loads(key)
        node = Node(id="x", type=layer_type, params=params)
        now = build._evaluate_uncached(node, [(tuple(s), d) for s, d in inputs])
        assert build.answer_of(now) == answer, f"Keras says otherwise about {key}: {REWRITE}"


@pytest.mark.parametrize("template", [None, *templates.TEMPLATES])
def test_every_template_is_analysed_from_the_shipped_answers_alone(cold, monkeypatch, template):
    design = templates.blank() if template is None else templates.get(template)
    expected = build.analyze(design)  # asks Keras (the memory cache is cold)...
    monkeypatch.setattr(build, "_CACHE", type(build._CACHE)())
    monkeypatch.setattr(build, "_DISK", None)
    cold.unlink(missing_ok=True)  # ...and the workspace keeps nothing: the shipped file only

    def asked(*_args):
        raise AssertionError("Keras was asked")

    monkeypatch.setattr(build, "_evaluate_uncached", asked)
    assert build.analyze(design) == expected


def test_an_answer_computed_once_is_read_back_and_a_damaged_line_is_skipped(cold, monkeypatch):
    node = Node(id="odd", type="Dense", params={"units": 37})
    inputs = [((None, 19), "float32")]
    first = build._evaluate(node, inputs)
    assert first.params == 19 * 37 + 37
    with cold.open("a", encoding="utf-8") as fh:
        fh.write('["half a line\n')
    monkeypatch.setattr(build, "_CACHE", type(build._CACHE)())
    monkeypatch.setattr(build, "_DISK", None)
    monkeypatch.setattr(build, "_evaluate_uncached", lambda *_: pytest.fail("Keras was asked"))
    assert build._evaluate(node, inputs) == first


def test_answers_of_another_keras_or_code_are_not_read(cold, monkeypatch):
    node = Node(id="odd", type="Dense", params={"units": 41})
    inputs = [((None, 3), "float32")]
    build._evaluate(node, inputs)
    monkeypatch.setattr(build, "_CACHE", type(build._CACHE)())
    monkeypatch.setattr(build, "_DISK", None)
    key = json.dumps(["Dense", {"units": 41}, [[[None, 3], "float32"]]], sort_keys=True)
    assert key in layer_cache.read()
    monkeypatch.setattr(layer_cache, "stamp", lambda: "keras 9.9 · code other")
    assert key not in layer_cache.read()
    monkeypatch.setattr(layer_cache, "code_digest", lambda: "other")
    assert layer_cache.read() == {}  # nor the shipped answers, made by other code


def test_a_fresh_server_shows_the_first_design_page_without_keras(tmp_path):
    """The first Design page of a new server, with its warm-up off, draws the blank design's
    totals and never imports Keras or TensorFlow."""
    script = textwrap.dedent(
        """
        import sys
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file("app.py", default_timeout=120)
        at.run()
        at.switch_page("pages/design.py").run()
        assert not at.exception, at.exception
        shown = {m.label: m.value for m in at.metric}
        print(shown["Parameters"], "keras" in sys.modules, "tensorflow" in sys.modules)
        """
    )
    env = {
        **__import__("os").environ,
        "KERAS_DESIGNER_HOME": str(tmp_path / "home"),
        "KERAS_DESIGNER_PREWARM": "0",
    }
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-3000:]
    params, keras_loaded, tf_loaded = out.stdout.split()[-3:]
    expected = build.analyze(templates.blank()).total_params
    assert params == f"{expected:,}"
    assert (keras_loaded, tf_loaded) == ("False", "False")
