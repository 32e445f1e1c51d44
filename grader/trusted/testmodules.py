"""Which course's test packages are importable in this process: `exercises` and `autograder_tests`.

Course tests are packages rooted at the course folder (exercises/__init__.py,
exercises/tests/__init__.py, exercises/tests/support/__init__.py,
autograder_tests/__init__.py). pytest imports a test file under its package
name (``exercises.tests.test_ex41``), and test modules import shared helpers
and each other the same way (``from exercises.tests.support.maze import ...``,
``from exercises.tests.test_ex41 import ...`` in a hidden test), so no test
folder has to be on ``sys.path``; only the course root is (pytest puts it
there when it imports the first test file).

One process may hold several courses with these same package names (the
project's own tests warm the course and the mini course; copies of a course
are graded one after the other). `use_course` makes one of them current:
the modules of every other course move from ``sys.modules`` into a stash
kept per course root (they come back, still imported and warm, when that
course is graded again) and the course root comes first on ``sys.path``, so
a package that is not imported yet is found in the right course.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType

#: The top-level package names of course tests (exercises/ holds the public ones, autograder_tests/ the hidden).
PACKAGES = ("exercises", "autograder_tests")

#: course root -> its test modules that are not current ({module name: module}).
_STASH: dict[str, dict[str, ModuleType]] = {}


def use_course(root: Path) -> None:
    """Make the test packages of the course at ``root`` the ones ``import exercises...`` finds."""
    root_text = str(Path(root).resolve())
    for name, module in list(sys.modules.items()):
        top = name.split(".")[0]
        if top not in PACKAGES:
            continue
        owner = course_root_of(module, top)
        if owner != root_text:
            _STASH.setdefault(owner, {})[name] = sys.modules.pop(name)
    sys.modules.update(_STASH.pop(root_text, {}))
    if root_text in sys.path:
        sys.path.remove(root_text)
    sys.path.insert(0, root_text)


def course_root_of(module: ModuleType, top: str) -> str:
    """The course folder a test module was loaded from ("" when it has no file)."""
    origin = getattr(module, "__file__", None) or ""
    marker = os.sep + top + os.sep
    if marker not in origin:
        return ""
    return origin.rsplit(marker, 1)[0]
