"""keras-designer ensemble / bag / compare / sweep: output lines and exit codes."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from test_compare import fake_runs  # the tests directory is on sys.path (rootdir import)
from test_ensemble import InlineRegistry, shared_members

from designer.cli import main
from designer.commands import experiments
from designer.design import templates

PY = sys.executable
LAST_LINE = re.compile(r"^ensemble accuracy: (\d+\.\d+)$")


def run(*args):
    return subprocess.run(
        [PY, "-m", "designer.cli", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def design_file(tmp_path):
    d = templates.get("digits-mlp")
    d.training.checkpoint = False
    path = tmp_path / "design.json"
    d.save(path)
    return path


def fraction(out: str) -> float:
    match = LAST_LINE.match(out.strip().splitlines()[-1])
    assert match, out
    value = float(match.group(1))
    assert 0 <= value <= 1
    return value


def test_help_of_the_new_commands_needs_no_tensorflow():
    code = (
        "import sys\nfrom designer.cli import main\n"
        "for c in ('ensemble', 'bag', 'compare', 'sweep'):\n"
        "    try:\n        main([c, '--help'])\n"
        "    except SystemExit as e:\n        assert e.code == 0\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
    )
    result = subprocess.run([PY, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_compare_prints_the_table_and_names_each_changed_node(tmp_path):
    a, b = fake_runs(tmp_path)
    result = run("compare", str(a), str(b))  # reads files only: instant, no TensorFlow
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"^test_accuracy\s+0\.91\s+0\.94\s+\*$", out, re.M)
    assert re.search(r"^dense\.units\s+128\s+64\s+\*$", out, re.M)
    assert "  - removed dropout (Dropout)" in out
    assert "  ~ changed dense (Dense): units 128 -> 64" in out
    same = run("compare", str(a), str(a))
    assert same.returncode == 0 and "architecture: identical (5 nodes)" in same.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["compare", "{tmp}/nope", "{tmp}/nope2"],
        ["compare", "{tmp}"],
        ["ensemble", "{tmp}/nope", "{tmp}/nope2", "--out", "{tmp}/e"],
        ["sweep", "{tmp}/bad.json", "--set", "dense.units=1,2", "--out", "{tmp}/s"],
        ["sweep", "{design}", "--set", "dense.units", "--out", "{tmp}/s"],
        ["bag", "{design}", "--dataset", "no-such-set", "--out", "{tmp}/b"],
        ["bag", "{design}", "--members", "2", "--epochs", "0", "--out", "{tmp}/b"],
    ],
)
def test_unreadable_input_exits_2_with_one_line(tmp_path, design_file, args):
    (tmp_path / "bad.json").write_text("not json")
    result = run(*[a.format(tmp=tmp_path, design=design_file) for a in args])
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error:")
    assert "Traceback" not in result.stdout + result.stderr


def test_ensemble_prints_members_then_the_ensemble_accuracy_last(tmp_path, capsys):
    runs = shared_members()[:2]
    assert (
        main(["ensemble", *map(str, runs), "--method", "average", "--out", str(tmp_path / "e")])
        == 0
    )
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].startswith("member seed1: test accuracy ") and lines[1].startswith(
        "member seed2"
    )
    fraction(out)
    assert (tmp_path / "e" / "ensemble.keras").is_file()
    assert main(["ensemble", *map(str, runs), "--method", "vote"]) == 0
    fraction(capsys.readouterr().out)
    # The same run twice: a content problem, exit 1, one line.
    assert main(["ensemble", str(runs[0]), str(runs[0])]) == 1
    assert "twice" in capsys.readouterr().err


def test_sweep_reports_bad_values_per_point_and_runs_a_grid(
    tmp_path, design_file, capsys, monkeypatch
):
    assert (
        main(["sweep", str(design_file), "--set", "dense.units=8,0", "--out", str(tmp_path / "x")])
        == 1
    )
    assert "dense.units=0: dense: units: must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()

    monkeypatch.setattr(experiments, "job_registry", lambda args: InlineRegistry())
    out = tmp_path / "sweep"
    code = main(
        [
            "sweep",
            str(design_file),
            "--dataset",
            "digits",
            "--set",
            "dense.units=4,32",
            "--set",
            "compile.learning_rate=0.01",
            "--epochs",
            "1",
            "--limit",
            "200",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split()[:3] == ["dense.units", "compile.learning_rate", "status"]
    assert len(lines) == 4 and lines[-1].startswith("best: ")
    assert len(list(out.glob("*/metrics.json"))) == 2


def test_bag_trains_members_through_the_job_queue(tmp_path, design_file, capsys):
    out = tmp_path / "bag"
    code = main(
        [
            "bag",
            str(design_file),
            "--dataset",
            "digits",
            "--members",
            "2",
            "--epochs",
            "1",
            "--limit",
            "200",
            "--jobs",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert captured.err.count(" finished") == 2  # one line per member as it ends
    fraction(captured.out)
    assert (out / "ensemble.keras").is_file() and (out / "bag-member-2" / "model.keras").is_file()
