"""The keras-designer command as other tools use it: output lines and exit codes."""

import json
import os
import subprocess
import sys

import pytest

from designer import tf_startup
from designer.cli import main
from designer.design import catalog, templates

PY = sys.executable


def run(*args, cwd=None):
    return subprocess.run(
        [PY, "-m", "designer.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_help_is_instant_and_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from designer.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
        "main(['templates']); main(['layers'])\n"
        "assert 'tensorflow' not in sys.modules\n"
    )
    result = subprocess.run([PY, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_templates_and_layers_list_one_id_per_line(capsys):
    assert main(["templates"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(templates.TEMPLATES)
    assert main(["layers"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(catalog.LAYERS)


def test_new_then_validate_then_summary(tmp_path, capsys):
    path = tmp_path / "mlp.json"
    assert main(["new", "--template", "mnist-mlp", "-o", str(path)]) == 0
    assert json.loads(path.read_text())["nodes"][0]["type"] == "Input"
    assert main(["validate", str(path)]) == 0
    capsys.readouterr()
    assert main(["summary", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    from designer.model.build import build_model

    keras_count = build_model(templates.get("mnist-mlp")).count_params()
    assert out[-1] == f"Total params: {keras_count:,}"
    assert any(line.split()[:2] == ["dense", "Dense"] for line in out)


def test_validate_reports_each_problem_with_its_node_id(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "nodes": [
                    {"id": "pixels", "type": "Input", "params": {"shape": [784]}},
                    {"id": "conv_1", "type": "Conv2D", "params": {"filters": 8}},
                    {"id": "extra", "type": "Dense", "params": {"units": 0}},
                ],
                "edges": [
                    {"source": "pixels", "target": "conv_1"},
                    {"source": "pixels", "target": "extra"},
                ],
            }
        )
    )
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("conv_1: ")
    assert any(line.startswith("extra: units") for line in lines)


@pytest.mark.parametrize(
    "content",
    ["not json at all", '{"nodes": 3}', '{"version": 7, "nodes": []}', "", "[]"],
)
def test_files_that_are_not_designs_exit_2_with_one_line(tmp_path, content):
    path = tmp_path / "x.json"
    path.write_text(content)
    for command in ("validate", "summary"):
        result = run(command, str(path))
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr + result.stdout


def test_missing_file_and_unknown_template_exit_2(tmp_path):
    result = run("validate", str(tmp_path / "nope.json"))
    assert result.returncode == 2 and "cannot read" in result.stderr
    result = run("new", "--template", "no-such", "-o", str(tmp_path / "x.json"))
    assert result.returncode == 2 and "unknown template" in result.stderr


def test_every_template_validates_offline_through_the_command(tmp_path):
    for template_id in templates.TEMPLATES:
        path = tmp_path / f"{template_id}.json"
        templates.get(template_id).save(path)
        assert main(["validate", str(path)]) == 0, template_id


def test_a_command_that_imports_tensorflow_keeps_its_start_up_lines_off_stderr(tmp_path):
    path = tmp_path / "design.json"
    templates.get("digits-mlp").save(path)
    result = run("summary", str(path))
    assert result.returncode == 0 and result.stdout.splitlines()[-1].startswith("Total params:")
    assert result.stderr == ""  # no "absl::InitializeLog()", no "oneDNN custom operations"


def test_only_tensorflows_start_up_lines_are_dropped(capfd):
    with tf_startup._startup_lines_dropped():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are ")
        os.write(2, b"written to STDERR\n")
        os.write(2, b"I0000 00:00:1796174806.922965    3617 port.cc:153] oneDNN custom ops\n")
        os.write(2, b"W0000 00:00:1796174806.922965    3617 cpu_feature_guard.cc:1] slow\n")
        os.write(2, b"E0000 00:00:1796174806.922965    3617 gpu.cc:1] a real error\n")
        os.write(2, b"a warning from Python\n")
    err = capfd.readouterr().err.splitlines()
    assert err == [
        "E0000 00:00:1796174806.922965    3617 gpu.cc:1] a real error",
        "a warning from Python",
    ]
