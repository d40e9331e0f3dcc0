"""The check every edit passes (designer.design.editing.edit_problems): the catalog refuses a value
once, in the one write path, whatever widget or callback proposed it."""

from designer.design import editing, sections, templates
from designer.design.editing import edit_problems
from designer.design.spec import Design


def digits() -> Design:
    return templates.get("digits-mlp")


def with_param(design: Design, node: str, name: str, value) -> Design:
    d = design.copy()
    d.node(node).params[name] = value
    return d


def test_a_valid_edit_passes():
    d = digits()
    assert edit_problems(d, editing.set_param(d, "dense", "units", 32)) == []


def test_none_out_of_range_and_wrong_types_are_refused():
    d = digits()
    for name, value, words in [
        ("units", None, "a value is required"),
        ("units", 0, "at least 1"),
        ("units", "64", "whole number"),
        ("units", 3.5, "whole number"),
        ("activation", "sparkle", "is not one of"),
        ("use_bias", 1, "true or false"),
        ("made_up", 3, "no parameter"),
    ]:
        problems = edit_problems(d, with_param(d, "dense", name, value))
        assert len(problems) == 1 and words in problems[0], (name, value, problems)
        assert problems[0].startswith("dense: ")


def test_only_changed_values_are_judged():
    """A bad value that came with an opened file does not block an edit of another field."""
    bad = with_param(digits(), "dropout", "rate", 7.0)
    fixed_elsewhere = editing.set_param(bad, "dense", "units", 16)
    assert edit_problems(bad, fixed_elsewhere) == []
    assert edit_problems(bad, with_param(bad, "dropout", "rate", 8.0))  # still bad: refused


def test_sections_are_checked_by_their_field_types():
    d = digits()
    wrong = d.copy()
    wrong.training.epochs = "ten"
    assert edit_problems(d, wrong) == ["'training.epochs' must be a whole number"]
    none = d.copy()
    none.data.seed = None
    assert edit_problems(d, none) == ["'data.seed' must not be null"]
    assert edit_problems(d, sections.set_section(d, "training", "epochs", 3)) == []


def test_augmentation_values_are_checked_like_layers():
    d = sections.add_augmentation(digits(), "RandomRotation")
    bad = d.copy()
    bad.augmentation[0].params["factor"] = -5
    assert edit_problems(d, bad) and "factor" in edit_problems(d, bad)[0]


def test_a_new_node_with_bad_params_is_refused():
    d = digits()
    new, node_id = editing.insert_after(d, "dense", "Dense", {"units": -1})
    assert edit_problems(d, new) and node_id in edit_problems(d, new)[0]
