"""Grade every submission in tests/submissions/<exercise>/<variant>/ and check expect.json.

Each grading is also rendered as the student reads it and scanned for English sentences
(tests/test_language.py has the scanner): the course is German, so none may reach a student.

expect.json: {"parts": {"a": 1.0, ...}, "messages": {"b": ["substring", ...]}}
Exact points per listed part (public + hidden tests) and, per part, substrings
(case-insensitive) that its failure messages must contain. A folder name like
`ex41_e` grades exercise `ex41` (the suffix only groups variants).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from conftest import ROOT
from grader.trusted import runner
from test_language import _report, scan

CORPUS = ROOT / "tests" / "submissions"


def variants() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*/*") if (p / "expect.json").is_file())


@pytest.fixture(scope="module")
def unseeded(course):
    """The course with an empty secret: a few partial-credit expectations (ex38 mazes) depend on the
    hidden draw and are stated for no secret; every full or zero verdict must hold for any secret
    (`grade validate --seeds` checks the references and right corpus students under random ones)."""
    return dataclasses.replace(course, secret_seed="")


@pytest.mark.parametrize("folder", variants(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_submission_scores_as_expected(unseeded, folder):
    course = unseeded
    expect = json.loads((folder / "expect.json").read_text())
    exercise = expect.get("exercise", folder.parent.name.split("_")[0] if folder.parent.name.startswith("ex")
                          else folder.parent.name)
    result = runner.grade(folder, [exercise], suite="all", course=course)
    ex = result["exercises"][0]
    parts = {p["id"]: p for p in ex["parts"]}
    got = {pid: parts[pid]["score"] for pid in expect["parts"]}
    messages = {pid: "\n".join(t["message"] for t in parts[pid]["tests"] if t["status"] != "passed")
                for pid in parts}
    assert got == pytest.approx(expect["parts"], abs=1e-3), json.dumps(messages, indent=1)[:3000]
    for pid, needles in expect.get("messages", {}).items():
        for needle in needles:
            assert needle.lower() in messages[pid].lower(), f"part {pid}: {needle!r} not in:\n{messages[pid][:2000]}"
    # the same grading, rendered as the student reads it (terminal, feedback.md/html, Gradescope): German only
    found = scan({f"{folder.parent.name}/{folder.name}": result})
    assert not found, "English sentences reach a student of this German course:" + _report(found)
