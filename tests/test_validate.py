"""`grade validate` on a copy of the mini course: intact it passes, each planted mistake is named.

Grading is the slow part, so the broken course is validated once and every
planted mistake is looked up in that one list of problems.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import MINI
from grader import course as course_mod
from grader.staff import validate

TASK = "# Aufgabe {id}\n\nEine kleine Aufgabe.\n"
LEAKED = "# the hidden factor is seven and one eighth, never tell anyone"


def make_course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    shutil.copytree(MINI, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "exercises" / "tasks").mkdir()
    for ex_id in ("alpha", "beta"):
        (root / "exercises" / "tasks" / f"{ex_id}.md").write_text(TASK.format(id=ex_id), encoding="utf-8")
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_intact_course_validates_through_the_cli(tmp_path, monkeypatch):
    root = make_course(tmp_path)
    monkeypatch.setenv("GRADE_COURSE_ROOT", str(root))
    from grader.cli import cli

    result = CliRunner().invoke(cli, ["validate", "--only", "alpha", "--seeds", "2", "--seed-base", "cli"])
    assert result.exit_code == 0, result.output
    assert "validate: OK" in result.output
    assert "alpha: grading the reference" in result.output  # progress per exercise
    assert "secret seeds: validate-cli-0 ... validate-cli-1 (2)" in result.output
    assert "alpha: grading 1 right submission(s) under 2 secret seed(s)" in result.output


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> list[str]:
    root = make_course(tmp_path_factory.mktemp("broken"))
    ex, sol, hidden = root / "exercises", root / "solutions", root / "autograder_tests"
    # reference wrong on a public test of alpha.b, and a public helper the stub lacks
    edit(sol / "alpha.py", "return float(np.sum(x))", "return float(np.sum(x)) + 1.0")
    (sol / "alpha.py").write_text((sol / "alpha.py").read_text() + "\n\ndef helper(x):\n    return x\n")
    # stub solves alpha.scale (scores points) and has another signature for total
    edit(ex / "alpha.py", 'raise NotImplementedError("scale fehlt noch")', "return x * factor")
    edit(ex / "alpha.py", "def total(x):", "def total(x, axis=None):")
    # points of alpha.b do not add up: public_share 0.5 but no hidden test
    edit(root / "course.toml", 'points = 2\npublic_share = 1.0', 'points = 2\npublic_share = 0.5')
    # a beta test without part marker: the grader refuses the tests
    (ex / "tests" / "test_beta.py").write_text((ex / "tests" / "test_beta.py").read_text()
                                              + "\n\ndef test_unmarked(student):\n    assert True\n")
    # a test file no exercise owns
    (ex / "tests" / "test_gamma.py").write_text("def test_x():\n    pass\n")
    # leaks: a hidden-test line quoted in a task text, the SEED, a copy of a reference
    (hidden / "test_alpha_hidden.py").write_text((hidden / "test_alpha_hidden.py").read_text() + LEAKED + "\n")
    (ex / "tasks" / "alpha.md").write_text(TASK.format(id="alpha") + "\n" + LEAKED + "\n")
    (hidden / "SEED").write_text("s3cr3t-seed-value-0042\n")
    shutil.copy(hidden / "SEED", ex / "SEED")
    (ex / "tests" / "support").mkdir(exist_ok=True)
    shutil.copy(sol / "beta.py", ex / "tests" / "support" / "copied.py")
    # beta's task text is missing
    (ex / "tasks" / "beta.md").unlink()
    lines: list[str] = []
    problems = validate.validate(course_mod.load(root), echo=lines.append)
    assert any(line.startswith("alpha: ") for line in lines)
    return [str(p) for p in problems]


def _has(problems: list[str], *needles: str) -> bool:
    return any(all(n in p for n in needles) for p in problems)


@pytest.mark.parametrize("needles", [
    ("alpha:", "part b", "reference fails public test test_total"),
    ("alpha:", "alpha.py: helper is in the reference but not in the stub"),
    ("alpha:", "part a", "the stub passes public test test_scale"),
    ("alpha:", "part a", "the stub passes hidden test test_scale_hidden"),
    ("alpha:", "total differs", "stub def (x, axis=None)", "reference def (x)"),
    ("alpha:", "part b: tests carry 1 points", "says 2", "no hidden test"),
    ("beta:", "the grader fails on the reference", "test_unmarked", "part"),
    ("beta:", "the grader fails on the stub", "test_unmarked"),
    ("beta:", "task text exercises/tasks/beta.md is missing"),
    ("course:", "exercises/tests/test_gamma.py belongs to no exercise"),
    ("release:", "exercises/tasks/alpha.md:", "autograder_tests/test_alpha_hidden.py"),
    ("release:", "exercises/SEED", "secret file"),
    ("release:", "exercises/tests/support/copied.py", "identical to solutions/beta.py"),
], ids=lambda n: n[1][:40])
def test_each_planted_mistake_is_reported(broken, needles):
    assert _has(broken, *needles), "\n".join(broken)


def test_problems_are_one_line_each(broken):
    assert broken and all("\n" not in p for p in broken)


def test_nothing_intact_is_reported(broken):
    # alpha.a's reference is right; beta's signatures match: no problem may name them
    assert not _has(broken, "reference fails", "test_scale")
    assert not _has(broken, "beta: beta.py:")


def test_public_api_compares_names_parameters_defaults_and_methods():
    api = validate.public_api(
        "import numpy as np\nfrom x import y\nLIMIT: int = 3\n_private = 1\n"
        "def f(a, /, b, c=2, *args, d, e=None, **kw):\n    pass\n"
        "def _helper():\n    pass\n"
        "class Net(Base, metaclass=M):\n"
        "    def __init__(self, n=4):\n        pass\n"
        "    @staticmethod\n    def make(k):\n        pass\n"
        "    def _inner(self):\n        pass\n")
    assert api == {
        "LIMIT": "variable",
        "f": "def (a, /, b, c=2, *args, d, e=None, **kw)",
        "Net": "class(Base, metaclass=M)",
        "Net.__init__": "def (self, n=4)",
        "Net.make": "def @staticmethod (k)",
    }


def test_signature_mismatch_in_a_method_is_found(tmp_path):
    root = make_course(tmp_path)
    edit(root / "solutions" / "beta.py", "def add(self, k):", "def add(self, k, times=1):")
    problems = validate.check_signatures(course_mod.load(root), course_mod.load(root).exercise("beta"))
    assert [str(p) for p in problems] == [
        "beta: beta.py: Counter.add differs: stub def (self, k), reference def (self, k, times=1)"]


def test_grading_error_lines_are_one_per_test():
    text = "tests are not gradable:\na.py::t1: test has no marker\nb.py::t2: unknown part 'z'"
    assert validate.grading_error_lines(text) == ["tests are not gradable: a.py::t1: test has no marker",
                                                 "tests are not gradable: b.py::t2: unknown part 'z'"]
    crash = "the tests could not be loaded:\nTraceback (most recent call last):\n  File x\nImportError: no y"
    assert validate.grading_error_lines(crash) == ["the tests could not be loaded ... ImportError: no y"]


def test_release_of_the_real_course_leaks_nothing(course):
    problems = validate.check_release(course)
    assert problems == [], "\n".join(map(str, problems))
    assert len(validate.secret_lines(course)) > 50  # the check has material to look for


# -- many secret seeds ---------------------------------------------------------------------------------

#: Fixed seeds: the planted submissions below each fail for about half of all hidden inputs, so
#: under some of these (1 in 64 that none fails, were the plugin's seeding changed).
SEEDS = validate.random_seeds(6, "planted")
RIGHT = "import numpy as np\n\n\ndef scale(x, factor):\n    return np.multiply(x, factor)\n\n\n" \
        "def total(x):\n    return float(sum(np.ravel(x)))\n"


def _student(root: Path, name: str, source: str, expect: dict) -> Path:
    folder = root / "tests" / "submissions" / "alpha" / name
    folder.mkdir(parents=True)
    (folder / "alpha.py").write_text(source, encoding="utf-8")
    (folder / "expect.json").write_text(json.dumps(expect), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> tuple[Path, list[str]]:
    """A course copy with a seed-sensitive reference and corpus: the seed check's problems (and the root)."""
    root = make_course(tmp_path_factory.mktemp("seeded"))
    # wrong only when the hidden input's first entry is positive: about every second secret seed
    edit(root / "solutions" / "alpha.py", "    return x * factor",
         "    return x * factor + (1.0 if x.shape == (5, 2) and x[0, 0] > 0 else 0.0)")
    _student(root, "loops", RIGHT, {"right": True, "parts": {"a": 1.0, "b": 2.0}})
    _student(root, "fragile", RIGHT.replace("np.multiply(x, factor)",
                                           "np.multiply(x, factor) + (x.shape == (5, 2) and x[1, 1] < 0)"),
             {"parts": {"a": 1.0, "b": 2.0}})  # right by its full points, without the marker
    _student(root, "wrong", RIGHT.replace("np.multiply(x, factor)", "2 * x"), {"parts": {"a": 0.0, "b": 2.0}})
    course = course_mod.load(root)
    problems = validate.check_seeds(course, course.exercise("alpha"), SEEDS, echo=lambda line: None)
    return root, [str(p) for p in problems]


def test_right_students_are_marked_or_have_full_points(seeded):
    root, _ = seeded
    course = course_mod.load(root)
    assert [f.name for f in validate.right_students(course, course.exercise("alpha"))] == ["fragile", "loops"]


def test_a_seed_sensitive_reference_and_corpus_student_are_caught(seeded):
    root, problems = seeded
    assert len(problems) == 2, "\n".join(problems)
    assert _has(problems, "alpha:", "the reference loses up to", "secret seeds (repeat with GRADE_SECRET_SEED="
                "validate-planted-", "part a: hidden test test_scale_hidden")
    assert _has(problems, "alpha:", "right corpus student alpha/fragile loses up to")
    assert not _has(problems, "alpha/loops") and not _has(problems, "alpha/wrong")


def test_intact_course_passes_three_seeds(tmp_path):
    root = make_course(tmp_path)
    _student(root, "loops", RIGHT, {"right": True, "parts": {"a": 1.0, "b": 2.0}})
    course = course_mod.load(root)
    assert validate.check_seeds(course, course.exercise("alpha"), SEEDS[:3], echo=lambda line: None) == []
