"""pytest's entry point into the grader, for course authors: ``pytest exercises/tests --submission DIR``.

Registered through the ``pytest11`` entry point, so it loads in every pytest
run of the environment, and does nothing unless ``--submission`` is given.
Then it registers the same `GradingPlugin` that `grade` uses (fixtures
``student``, ``rng``, ``credit``, ``grade_options``, the ``part`` marker),
so authors write and debug tests with pytest's own tools (``-k``, ``--pdb``,
``-s``, ``-x``) and see at the end the points `grade` would give.
"""
from __future__ import annotations

from pathlib import Path

import pytest

_KEY = pytest.StashKey["object"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nn-grader", "grading a submission with the course tests")
    group.addoption("--submission", metavar="DIR", default=None,
                    help="grade the student files in DIR (e.g. solutions) with the collected course tests")
    group.addoption("--grade-option", metavar="KEY=VALUE", action="append", default=[],
                    help="a test option as in `grade --option` (repeatable)")


def pytest_configure(config: pytest.Config) -> None:
    folder = config.getoption("submission", default=None)
    if not folder:
        return
    from grader import course as course_mod
    from grader.trusted.plugin import GradingPlugin

    submission = Path(folder).resolve()
    if not submission.is_dir():
        raise pytest.UsageError(f"--submission {folder}: not a folder")
    try:
        course = course_mod.load(course_mod.find_root(submission))
    except course_mod.CourseError:
        course = course_mod.load()
    options = dict(o.split("=", 1) for o in config.getoption("grade_option") if "=" in o)
    plugin = GradingPlugin(course, submission, test_options=options)
    config.stash[_KEY] = plugin
    config.pluginmanager.register(plugin, "nn-grader-grading")


def pytest_terminal_summary(terminalreporter: "pytest.TerminalReporter", config: pytest.Config) -> None:
    plugin = config.stash.get(_KEY, None)
    if plugin is None or not plugin.records:
        return
    from grader.trusted import results

    records = list(plugin.records.values())
    ids = [e.id for e in plugin.course.exercises if any(r.exercise == e.id for r in records)]
    suite = "all" if any(r.hidden for r in records) else "public"
    result = results.build(plugin.course, ids, records, suite)
    terminalreporter.section("nn-grader: points")
    for ex in result["exercises"]:
        automatic = [p for p in ex["parts"] if not p["manual"]]
        score = sum(p["score"] for p in automatic)
        total = sum(p["max_score"] for p in automatic)
        terminalreporter.write_line(f"{ex['id']}: {score:g} / {total:g} "
                                    + " ".join(f"{p['id']}={p['score']:g}" for p in automatic))
    if plugin.test_errors:  # their tracebacks are in pytest's failure report above
        terminalreporter.section("nn-grader: test errors (bugs in the test code, not the student's fault)")
        for test_id in plugin.test_errors:
            terminalreporter.write_line(test_id)
