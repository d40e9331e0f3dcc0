"""One settings module: the README's table lists exactly its variables, and the app and the
command line share one runs folder."""

import os
import re
import subprocess
import sys
from pathlib import Path

from app_widgets import widget

from designer import settings
from designer.design import templates

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_table_lists_every_setting_and_nothing_else():
    section = (ROOT / "README.md").read_text().split("## Settings", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `(KERAS_DESIGNER_\w+)` \| ([^|]+) \|", section, re.M)
    assert [name for name, _ in listed] == [s.name for s in settings.ALL]
    for (name, default), s in zip(listed, settings.ALL):
        assert default.strip() == (f"`{s.default}`" if s.default else "—"), name


def test_no_module_reads_a_designer_variable_but_the_settings_module():
    found = []
    for folder in ("designer", "ui", "pages"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "settings.py" and path.parent.name == "designer":
                continue
            for line in path.read_text().splitlines():
                if re.search(r"environ[^\n]*KERAS_DESIGNER_", line):
                    found.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    assert not found, "\n".join(found)


def test_a_run_trained_from_the_command_line_is_listed_by_runs_and_by_the_app(
    tmp_path, open_app, app_env, monkeypatch
):
    """`keras-designer train` without --out writes where the app looks, `keras-designer runs`
    without a folder lists it, and the Train page offers it."""
    design = tmp_path / "design.json"
    templates.get("digits-mlp").save(design)
    env = dict(os.environ, KERAS_DESIGNER_HOME=str(app_env))
    env.pop("KERAS_DESIGNER_RUNS", None)  # the default: <workspace>/runs

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "designer.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    trained = cli("train", str(design), "--dataset", "digits", "--epochs", "1")
    assert trained.returncode == 0, trained.stderr
    made = [p for p in (app_env / "runs").iterdir() if p.is_dir()]
    assert len(made) == 1, made
    run_id = made[0].name
    listed = cli("runs")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split()[0] == run_id

    monkeypatch.delenv("KERAS_DESIGNER_RUNS")  # app_env set it: the app takes the default too
    at = open_app()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    table = next(df.value for df in at.dataframe if "run" in df.value.columns)
    assert run_id in list(table["run"])
    assert run_id in widget(at, "multiselect", "compare_runs").options
