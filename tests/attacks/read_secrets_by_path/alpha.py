"""Probe: read or import hidden tests and solutions by absolute path.

Answers honestly; raises LEAK if any secret file can be read, listed or imported.
@@COURSE_ROOT@@ and @@REPO_ROOT@@ are filled in by the corpus runner (a student
would know these paths from the course repository layout).
"""
import os
import sys

import numpy as np

ROOTS = ["@@COURSE_ROOT@@", "@@REPO_ROOT@@"]
SECRETS = ["solutions", "autograder_tests", "data"]


def scale(x, factor):
    return x * factor


def total(x):
    found = []
    for root in ROOTS:
        for name in SECRETS:
            folder = os.path.join(root, name)
            try:
                entries = os.listdir(folder)
            except OSError:
                continue
            if entries:
                found.append(f"{folder}: {entries[:3]}")
        for rel in ("solutions/alpha.py", "autograder_tests/test_alpha_hidden.py"):
            try:
                with open(os.path.join(root, rel)) as fh:
                    found.append(f"read {rel}: {fh.read(40)!r}")
            except OSError:
                pass
        sys.path.insert(0, os.path.join(root, "autograder_tests"))
        try:
            import test_alpha_hidden  # noqa: F401
            found.append("imported test_alpha_hidden")
        except Exception:
            pass
        finally:
            sys.path.pop(0)
    if found:
        raise RuntimeError("LEAK " + "; ".join(found))
    return float(np.sum(x))
