"""Designs shared by link: every template survives the trip, a damaged link is refused in one
line, and the command line makes and reads the same links as the app."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest

from designer.cli import main
from designer.design import linking, spec, templates
from designer.design.linking import LinkError
from designer.design.spec import Design, Node

from helpers.links import cut, envelope, flip

PY = sys.executable


def big_design(layers: int) -> Design:
    """A design whose JSON does not compress away: every layer has its own made-up name."""
    d = templates.get("digits-mlp")
    for i in range(layers):
        tag = hashlib.sha256(str(i).encode()).hexdigest()[:24]
        d.nodes.append(Node(f"dense_{tag}", "Dense", {"units": i + 1}))
    return d


@pytest.mark.parametrize("template_id", list(templates.TEMPLATES))
def test_every_template_survives_the_link(template_id):
    design = templates.get(template_id)
    link = linking.make_link(design)
    assert link.startswith(linking.DEFAULT_BASE + "?design=")
    assert len(link) < 2_000  # a template link fits in a chat message or a QR code
    assert linking.read_link(link) == design
    assert linking.read_payload(linking.payload_of(link)) == design


def test_the_link_keeps_other_query_parameters_and_bases():
    design = templates.get("lenet5")
    link = linking.make_link(design, "https://class.example.org/kd/?lang=en")
    query = parse_qs(urlsplit(link).query)
    assert query["lang"] == ["en"] and linking.read_link(link) == design
    assert linking.make_link(design, "http://host:8501").startswith("http://host:8501/?design=")


def test_a_link_does_not_carry_a_path_on_the_makers_machine():
    design = templates.get("digits-mlp")
    design.data.path = "/home/teacher/uploads/grades.csv"
    assert linking.read_link(linking.make_link(design)).data.path is None


@pytest.mark.parametrize(
    "damage,why",
    [
        (cut, "damaged or incomplete"),
        (flip, "damaged or incomplete"),
        (lambda p: p + "xyz", "damaged"),
        (lambda p: p.replace("1.", "", 1), "version number"),
        (lambda p: "7." + p.split(".", 1)[1], "newer Keras Designer"),
        (lambda p: p[:2] + "!!" + p[4:], "characters a link never has"),
        (lambda p: "1.", "damaged or incomplete"),
    ],
)
def test_a_damaged_link_is_refused_in_one_line(damage, why):
    good = linking.payload(templates.get("mini-resnet"))
    with pytest.raises(LinkError, match=why) as caught:
        linking.read_payload(damage(good))
    assert "\n" not in str(caught.value)


def test_a_link_that_holds_no_design_is_refused_like_a_file():
    with pytest.raises(LinkError, match="does not hold a design.*top level"):
        linking.read_payload(envelope(b"[1, 2, 3]"))
    with pytest.raises(LinkError, match="does not hold a design.*'edges' must be a list"):
        linking.read_payload(envelope(json.dumps({"nodes": [], "edges": 5}).encode()))


def test_oversized_links_and_designs_are_refused():
    with pytest.raises(LinkError, match="too long"):
        linking.read_payload("1." + "A" * (linking.MAX_PAYLOAD_CHARS + 10))
    # a few kilobytes that inflate to megabytes are refused without inflating them
    bomb = envelope(b'{"nodes": [], "name": "' + b" " * (8 * linking.MAX_JSON_BYTES) + b'"}')
    assert len(bomb) < linking.MAX_PAYLOAD_CHARS
    with pytest.raises(LinkError, match="more than 1,024 KB"):
        linking.read_payload(bomb)
    with pytest.raises(LinkError, match="too large to share by link.*share the design file"):
        linking.payload(big_design(600))
    fits = big_design(100)
    assert linking.read_link(linking.make_link(fits)) == fits


def test_not_a_link():
    with pytest.raises(LinkError, match="no 'design=' part"):
        linking.read_link("http://localhost:8501/?session=abc")


# ---- the command line ---------------------------------------------------------------------------
def test_link_then_new_gives_the_same_design(tmp_path, capsys):
    source = tmp_path / "resnet.json"
    templates.get("mini-resnet").save(source)
    assert main(["link", str(source), "--base", "http://class.example.org:8501/"]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith("http://class.example.org:8501/?design=") and "\n" not in link
    out = tmp_path / "copy.json"
    assert main(["new", "--link", link, "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert spec.load(out) == templates.get("mini-resnet")
    assert main(["link", str(source)]) == 0
    assert capsys.readouterr().out.startswith(linking.DEFAULT_BASE + "?design=")


@pytest.mark.parametrize(
    "make,why",
    [
        (lambda link: cut(link), "damaged or incomplete"),
        (lambda link: flip(link), "damaged or incomplete"),
        (lambda link: link + "A" * linking.MAX_PAYLOAD_CHARS, "too long"),
        (lambda link: link.split("?")[0], "no 'design=' part"),
    ],
)
def test_new_from_a_bad_link_exits_2_with_one_line(tmp_path, make, why):
    link = make(linking.make_link(templates.get("two-inputs")))
    out = tmp_path / "never.json"
    result = subprocess.run(
        [PY, "-m", "designer.cli", "new", "--link", link, "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and why in lines[0], lines
    assert not out.exists()


def test_link_of_a_design_too_large_exits_1_and_of_a_non_design_2(tmp_path, capsys):
    big = tmp_path / "big.json"
    big_design(600).save(big)
    assert main(["link", str(big)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "too large to share by link" in err[0]
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    assert main(["link", str(bad)]) == 2


def test_new_takes_a_template_or_a_link_not_both(tmp_path):
    result = subprocess.run(
        [PY, "-m", "designer.cli", "new", "--template", "lenet5", "--link", "x", "-o", "y"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "not allowed with" in result.stderr
    assert main(["new", "-o", str(tmp_path / "d.json")]) == 0  # the default template still
    assert spec.load(tmp_path / "d.json") == templates.get("digits-mlp")
