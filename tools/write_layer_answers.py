"""Write designer/model/layer_answers.json: Keras' answers about every layer of the blank
design and of every template, which a fresh server reads instead of importing Keras (see
designer/model/layer_cache.py). Run it after changing the code that asks Keras; the test
tests/test_layer_cache.py says when.

    .venv/bin/python tools/write_layer_answers.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from designer.design import templates  # noqa: E402
from designer.model import build, layer_cache  # noqa: E402


def main() -> None:
    answers: dict = {}
    for design in [templates.blank()] + [templates.get(key) for key in templates.TEMPLATES]:
        answers |= build.fresh_answers(design)
    layer_cache.write_shipped(answers)
    print(f"{len(answers)} answers written to {layer_cache.SHIPPED}")


if __name__ == "__main__":
    main()
