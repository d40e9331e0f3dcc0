"""Shared test set-up: quiet TensorFlow, and keep every test's files inside tmp_path."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_DESIGNER_HOME", os.path.join(os.getcwd(), ".pytest-workspace"))
