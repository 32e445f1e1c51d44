"""Course tests are packages (exercises.tests, autograder_tests): several courses in one process stay apart.

Two copies of the mini course share every module name; the second copy's
public test expects another factor, so the reference scores part a in one
copy and not in the other. Graded in this process one after the other, each
copy must be judged by its own tests, and the first copy's modules must come
back still imported (warm) when it is graded again.
"""
from __future__ import annotations

import shutil
import sys

from conftest import MINI, ROOT, part_scores
from grader import course as course_mod
from grader.trusted import runner, testmodules


def test_two_copies_of_a_course_are_graded_by_their_own_tests(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for root in (first, second):
        shutil.copytree(MINI, root)
    test_file = second / "exercises" / "tests" / "test_alpha.py"
    test_file.write_text(test_file.read_text().replace("2.5 * x,", "3.5 * x,"))
    submission = MINI / "solutions"
    try:
        scores = []
        for root in (first, second, first):
            result = runner.grade(submission, ["alpha"], suite="public", course=course_mod.load(root), fork=False)
            scores.append(part_scores(result)["alpha.a"])
            if root == first and len(scores) == 1:
                warm = sys.modules["exercises.tests.test_alpha"]
        assert scores == [0.5, 0.0, 0.5]
        assert sys.modules["exercises.tests.test_alpha"] is warm      # restored from the stash, not re-imported
        assert warm.__file__.startswith(str(first))
    finally:
        testmodules.use_course(ROOT)  # the course (warmed by conftest) is current again for later tests


def test_no_test_folder_is_put_on_sys_path(tmp_path):
    """The plugin no longer edits sys.path with the test folders; only the course root is importable."""
    root = tmp_path / "course"
    shutil.copytree(MINI, root)
    course = course_mod.load(root)
    try:
        runner.grade(MINI / "solutions", ["beta"], suite="all", course=course, fork=False)
        assert str(course.public_tests_dir) not in sys.path and str(course.hidden_tests_dir) not in sys.path
        assert sys.path[0] == str(root.resolve())
    finally:
        testmodules.use_course(ROOT)


def test_support_modules_keep_sandbox_drivers_apart_from_the_oracle():
    """support/*_drivers.py: only self-contained driver functions (no module-level import, no torch, no free
    names); the oracles define no function they send into the sandbox."""
    import ast
    import textwrap

    from grader.trusted.remote import free_names

    support = ROOT / "exercises" / "tests" / "support"
    drivers = sorted(support.glob("*_drivers.py"))
    assert drivers
    driver_names = set()
    for path in drivers:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        assert not [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))], path.name
        assert "torch" not in {n.names[0].name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)}
        functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        assert functions and len(functions) == len(tree.body) - 1  # the docstring and the drivers
        for function in functions:
            assert free_names(textwrap.dedent(ast.get_source_segment(source, function))) == [], function.name
            driver_names.add(function.name)
    for path in sorted(support.glob("*.py")):
        if path in drivers:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        sent = {call.args[0].id for call in ast.walk(tree) if isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute) and call.func.attr == "run"
                and call.args and isinstance(call.args[0], ast.Name)}
        assert not sent & defined, f"{path.name} defines drivers it sends: {sorted(sent & defined)}"
        assert sent <= driver_names, path.name


def test_a_public_test_imported_into_a_hidden_module_is_refused(tmp_path):
    """pytest collects imported test functions too: a hidden module that imports a public test would grade it
    again as a hidden test, so a submission that hard-codes the public case would score hidden points."""
    import pytest

    root = tmp_path / "course"
    shutil.copytree(MINI, root)
    hidden = root / "autograder_tests" / "test_alpha_hidden.py"
    hidden.write_text(hidden.read_text().replace(
        "SECRET_FACTOR = 7.125", "from exercises.tests.test_alpha import test_scale  # noqa: F401\n\nSECRET_FACTOR = 7.125"))
    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copy(MINI / "solutions" / "beta.py", submission / "beta.py")
    (submission / "alpha.py").write_text(  # right only for the public factor 2.5
        "import numpy as np\n\n\ndef scale(x, factor):\n    return x * 2.5\n\n\n"
        "def total(x):\n    return float(np.sum(x))\n")
    # a test made by a support module (a factory) is collected once: accepted
    (root / "exercises" / "tests" / "support").mkdir()
    (root / "exercises" / "tests" / "support" / "__init__.py").write_text("")
    (root / "exercises" / "tests" / "support" / "made.py").write_text(
        "import pytest\n\n\ndef make_test():\n    @pytest.mark.part('b')\n    def check(student):\n"
        "        assert student.alpha.total([1.0]) == 1.0\n    return check\n")
    public_tests = root / "exercises" / "tests" / "test_alpha.py"
    public_tests.write_text(public_tests.read_text()
                          + "\n\nfrom exercises.tests.support.made import make_test\n\ntest_made = make_test()\n")
    course = course_mod.load(root)
    try:
        public = runner.grade(submission, ["alpha"], suite="public", course=course, fork=False)
        assert part_scores(public)["alpha.a"] == 0.5
        assert any(t["name"] == "test_made" for ex in public["exercises"] for p in ex["parts"] for t in p["tests"])
        with pytest.raises(runner.GradingError, match="test_scale.*defined in exercises.tests.test_alpha"):
            runner.grade(submission, ["alpha"], suite="all", course=course, fork=False)
    finally:
        testmodules.use_course(ROOT)
