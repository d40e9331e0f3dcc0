"""Shared test set-up: quiet TensorFlow, keep every test's files inside tmp_path, and start the
app in Streamlit's AppTest the same way in every app test."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_DESIGNER_HOME", os.path.join(os.getcwd(), ".pytest-workspace"))

APP = str(Path(__file__).resolve().parents[1] / "app.py")
APP_TIMEOUT = 120  # the first Keras import takes seconds, more on a busy machine


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """A throw-away workspace (sessions, uploads, runs) and no background warm-up."""
    monkeypatch.setenv("KERAS_DESIGNER_HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_DESIGNER_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("KERAS_DESIGNER_PREWARM", "0")
    return tmp_path


@pytest.fixture
def open_app(app_env):
    """``open_app(session=None)``: a new browser session on the app, run once (``session``: the
    id of a tab being refreshed), in the throw-away workspace of ``app_env``."""
    from streamlit.testing.v1 import AppTest

    def open_(session: str | None = None, timeout: float = APP_TIMEOUT):
        at = AppTest.from_file(APP, default_timeout=timeout)
        if session:
            at.query_params["session"] = session
        return at.run()

    return open_
