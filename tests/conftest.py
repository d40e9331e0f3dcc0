"""Shared test set-up: quiet TensorFlow, keep every test's files inside tmp_path, and start the
app in Streamlit's AppTest the same way in every app test."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_DESIGNER_HOME", os.path.join(os.getcwd(), ".pytest-workspace"))

APP = str(Path(__file__).resolve().parents[1] / "app.py")
APP_TIMEOUT = 120  # the first Keras import takes seconds, more on a busy machine


@pytest.fixture(autouse=True)
def keras_is_asked(monkeypatch):
    """In this process, the analysis asks Keras about every layer it has not seen in this
    test process: answers kept on disk by earlier tests or runs (designer/model/layer_cache.py)
    would leave a test of how a layer is built nothing to build. tests/test_layer_cache.py
    reads the disk on purpose, and app servers in subprocesses read it as in real use."""
    from designer.model import build

    monkeypatch.setattr(build, "_DISK", {})


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """A throw-away workspace (sessions, uploads, runs) and no background warm-up."""
    monkeypatch.setenv("KERAS_DESIGNER_HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_DESIGNER_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("KERAS_DESIGNER_PREWARM", "0")
    return tmp_path


@pytest.fixture
def open_app(app_env):
    """``open_app(session=None, query=None)``: a new browser session on the app, run once
    (``session``: the id of a tab being refreshed; ``query``: more of the address's query), in
    the throw-away workspace of ``app_env``."""
    from streamlit.testing.v1 import AppTest

    def open_(session: str | None = None, timeout: float = APP_TIMEOUT, query: dict | None = None):
        at = AppTest.from_file(APP, default_timeout=timeout)
        if session:
            at.query_params["session"] = session
        for name, value in (query or {}).items():  # the rest of the address (?design=...)
            at.query_params[name] = value
        return at.run()

    return open_


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """(design file, run directory) of a real run: the digits-mlp template trained for two
    epochs on 300 samples per split by ``keras-designer train`` (about ten seconds), shared by
    the tests that need a run's files (model card, Export page)."""
    from designer.design import templates

    work = tmp_path_factory.mktemp("digits-run")
    design = work / "digits-mlp.json"
    templates.get("digits-mlp").save(design)
    run = work / "digits-mlp-run"
    env = dict(os.environ, KERAS_DESIGNER_NO_BAR="1", KERAS_DESIGNER_HOME=str(work))
    result = subprocess.run(
        [sys.executable, "-m", "designer.cli", "train", str(design), "--dataset", "digits"]
        + ["--epochs", "2", "--limit", "300", "--out", str(run)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return design, run
