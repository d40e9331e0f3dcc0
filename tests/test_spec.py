import json

import pytest

from designer.design import spec, templates
from designer.design.spec import Design, DesignFileError


def test_minimal_file_is_a_complete_design():
    d = Design.from_json(
        json.dumps(
            {
                "nodes": [
                    {"id": "in", "type": "Input", "params": {"shape": [4]}},
                    {"id": "out", "type": "Dense", "params": {"units": 3}},
                ],
                "edges": [{"source": "in", "target": "out"}],
            }
        )
    )
    assert d.output_ids() == ["out"]
    assert d.input_ids() == ["in"]
    assert d.version == spec.SPEC_VERSION
    assert d.training.epochs > 0 and d.compile.optimizer == "Adam"


@pytest.mark.parametrize("template_id", list(templates.TEMPLATES))
def test_every_template_round_trips_through_json(template_id, tmp_path):
    d = templates.get(template_id)
    path = tmp_path / "d.json"
    d.save(path)
    again = spec.load(path)
    assert again == d
    assert again.to_json() == d.to_json()


def test_version_1_files_are_migrated():
    old = {
        "version": 1,
        "nodes": [
            {"id": "a", "type": "Input", "config": {"shape": [2]}},
            {"id": "b", "type": "Dense", "config": {"units": 1}},
        ],
        "links": [{"from": "a", "to": "b"}],
    }
    d = Design.from_dict(old)
    assert d.node("b").params == {"units": 1}
    assert d.predecessors("b") == ["a"]
    assert d.version == spec.SPEC_VERSION


@pytest.mark.parametrize(
    "text, words",
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "top level"),
        ('{"version": 99, "nodes": []}', "unknown design version 99"),
        ('{"nodes": {"a": 1}}', "'nodes' must be a list"),
        ('{"nodes": [{"id": "a"}]}', "type"),
        ('{"nodes": [{"id": 3, "type": "Dense"}]}', "id"),
        ('{"nodes": [], "edges": [{"source": "a"}]}', "source"),
        ('{"nodes": [], "training": {"epochs": "ten"}}', "training.epochs"),
        ('{"nodes": [], "compile": {"lr": 1}}', "unknown field"),
        ("[" * 100_000 + "]" * 100_000, "not a design"),
    ],
)
def test_malformed_files_raise_one_clear_error(text, words):
    with pytest.raises(DesignFileError) as err:
        Design.from_json(text)
    assert words in str(err.value)
    assert "\n" not in str(err.value)


def test_huge_file_is_refused(tmp_path):
    path = tmp_path / "big.json"
    path.write_text('{"name": "' + "x" * (spec.MAX_FILE_BYTES + 10) + '"}')
    with pytest.raises(DesignFileError, match="larger than"):
        spec.load(path)


def test_new_id_avoids_existing_ids():
    d = templates.get("digits-mlp")
    assert d.new_id("Dense") == "dense_2"
    assert d.new_id("Conv2D") == "conv2d"


def test_field_types_come_from_the_type_hints_not_their_text():
    """Without ``from __future__ import annotations`` the hints are types, not strings: the
    check must read them as types (it used to match the text, and passed everything)."""
    import dataclasses

    from designer.design.spec import field_problem

    @dataclasses.dataclass
    class Plain:
        count: int = 1
        rate: float = 0.5
        name: str | None = None
        tags: list[str] = dataclasses.field(default_factory=list)

    assert field_problem(Plain, "plain", "count", "3") == "'plain.count' must be a whole number"
    assert field_problem(Plain, "plain", "count", True) == "'plain.count' must be a whole number"
    assert (
        field_problem(Plain, "plain", "rate", float("nan"))
        == "'plain.rate' must be a finite number"
    )
    assert field_problem(Plain, "plain", "name", None) is None
    assert field_problem(Plain, "plain", "name", 3) == "'plain.name' must be a string"
    assert (
        field_problem(Plain, "plain", "tags", ["a", 1]) == "'plain.tags' must be a list of strings"
    )
    assert field_problem(Plain, "plain", "count", None) == "'plain.count' must not be null"
