"""Attack: patch pytest, unittest and AssertionError (only reaches the sandbox's copies)."""
import builtins
import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    try:
        import pytest
        pytest.approx = lambda *a, **k: -1.0
        pytest.fail = lambda *a, **k: None
        import _pytest.assertion.rewrite as rw
        rw.AssertionRewriter = None
    except Exception:
        pass
    import unittest
    unittest.TestCase.assertEqual = lambda *a, **k: None
    unittest.TestCase.assertTrue = lambda *a, **k: None
    unittest.TestCase.assertAlmostEqual = lambda *a, **k: None
    builtins.AssertionError = type("NotAnAssertionError", (Exception,), {})
    builtins.isinstance = lambda *a: True
    return -1.0
