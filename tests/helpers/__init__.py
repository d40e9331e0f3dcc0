"""Code the test modules share (not collected: no ``test_`` names)."""

import pytest

# Their asserts explain themselves like the tests' own (pytest rewrites test modules only).
pytest.register_assert_rewrite("helpers.same_model")
