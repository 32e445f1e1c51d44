"""Typed results (grader.trusted.results): the dataclasses read and write exactly the JSON the grader writes.

Real documents come from grading real submissions (the mini course, the gan
corpus, a `grade batch` run); the document of an earlier version is a fixture
written by hand from docs/results.md as the grader wrote it before the
``staff`` key and the test's ``mistake``/``cause`` fields existed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MINI, ROOT
from grader.feedback import findings
from grader.trusted import results, runner
from grader.trusted.results import Outcome, Result, Status, TestStatus

GAN = ROOT / "tests" / "submissions" / "gan"
OLD = Path(__file__).resolve().parent / "fixtures" / "results" / "grading_before_staff_key.json"
REF = {n: (MINI / "solutions" / n).read_text() for n in ("alpha.py", "beta.py")}
STUB = {n: (MINI / "exercises" / n).read_text() for n in ("alpha.py", "beta.py")}


def assert_round_trip(doc: dict) -> Result:
    """The typed result writes the same document, the same bytes too (key order, ints stay ints)."""
    typed = Result.from_json(doc)
    again = typed.to_json()
    assert again == doc
    assert json.dumps(again, ensure_ascii=False) == json.dumps(doc, ensure_ascii=False)
    loaded = json.loads(json.dumps(doc))            # as read back from grading.json
    assert json.dumps(Result.from_json(loaded).to_json()) == json.dumps(loaded)
    return typed


def write(folder: Path, sources: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in sources.items():
        (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize("text, status, reason", [
    ("graded", Status.GRADED, ""),
    ("error: the zip file is corrupt", Status.ERROR, "the zip file is corrupt"),
    ("error: tests are not gradable:\nx: y", Status.ERROR, "tests are not gradable:\nx: y"),
    ("missing: alpha.py not submitted", Status.MISSING, "alpha.py not submitted"),
    ("error", Status.ERROR, ""),
])
def test_outcome_reads_and_writes_the_status_strings(text, status, reason):
    outcome = Outcome.parse(text)
    assert (outcome.status, outcome.reason) == (status, reason)
    assert outcome.text() == text
    assert outcome.graded is (status is Status.GRADED)


def test_outcome_refuses_what_is_no_status_and_readers_do_not_fail():
    for text in ("passed", "", "graded: but why", "Graded"):
        with pytest.raises(ValueError):
            Outcome.parse(text)
    assert Outcome.read(None) == Outcome(Status.GRADED)      # documents without an exercise status
    assert Outcome.read("weird") == Outcome(Status.ERROR, "weird")
    assert results.is_error({"status": "error"}) and not results.is_error({"status": "graded"})
    assert not results.is_error({})
    assert results.passed({"status": "passed"}) and not results.passed({"status": "failed"})
    assert TestStatus.PASSED == "passed" and json.dumps(TestStatus.FAILED) == '"failed"'


def test_mini_course_documents_round_trip(mini, tmp_path):
    only_alpha = write(tmp_path / "only_alpha", {"alpha.py": STUB["alpha.py"]})
    public = runner.grade(only_alpha, ["alpha", "beta"], suite="public", course=mini, student_id="s1")
    typed = assert_round_trip(public)
    alpha, beta = typed.exercises
    assert typed.suite == "public" and typed.student_id == "s1" and typed.status == Outcome(Status.GRADED)
    assert beta.status == Outcome(Status.MISSING, "beta.py not submitted")
    assert public["exercises"][1]["status"] == "missing: beta.py not submitted"
    a, b, essay = alpha.parts
    assert a.hidden_max_score == 0.5 and b.hidden_max_score == 0.0     # public_share 0.5 and 1.0
    assert "hidden_max_score" in public["exercises"][0]["parts"][0]
    assert essay.manual and essay.pending and essay.hidden_max_score is None and essay.tests == []
    assert all(t.status is TestStatus.FAILED for t in a.tests)

    full = runner.grade(write(tmp_path / "ref", REF), ["alpha", "beta"], suite="all", course=mini)
    typed = assert_round_trip(full)
    assert all(p.hidden_max_score is None for e in typed.exercises for p in e.parts)
    assert "hidden_max_score" not in json.dumps(full)
    assert any(t.hidden for e in typed.exercises for p in e.parts for t in p.tests)
    assert all(t.passed for e in typed.exercises for p in e.parts for t in p.tests)
    assert typed.staff is not None and full["staff"] == typed.staff.to_json()
    assert typed.score == full["score"] and typed.created == full["created"]


def test_error_documents_round_trip(mini):
    doc = results.error_result(mini, ["alpha", "beta"], "the zip file is corrupt", "s9")
    typed = assert_round_trip(doc)
    assert typed.is_error and results.is_error(doc)
    assert doc["status"] == "error: the zip file is corrupt"
    assert all(e.status == Outcome(Status.ERROR, "the zip file is corrupt") for e in typed.exercises)
    assert doc["max_score"] == 5 and typed.score == 0           # every part at its full points
    assert results.error_reason(doc["status"]) == "the zip file is corrupt"


@pytest.mark.parametrize("name", ["reference", "stub", "jsd_nan"])
def test_gan_corpus_documents_round_trip(course, name):
    doc = runner.grade(GAN / name, ["gan"], suite="all", course=course)
    typed = assert_round_trip(doc)
    expect = json.loads((GAN / name / "expect.json").read_text())
    scores = {p.id: p.score for p in typed.exercises[0].parts}
    assert {pid: scores[pid] for pid in expect["parts"]} == pytest.approx(expect["parts"], abs=1e-3)
    if name == "jsd_nan":   # hidden tests failed: their unredacted record is under "staff"
        assert typed.staff is not None and typed.staff.tests and all(t.hidden for t in typed.staff.tests)
        assert any(t.mistake or t.cause for p in typed.exercises[0].parts for t in p.tests if not t.passed)


def test_batch_records_round_trip_byte_for_byte(tmp_path):
    subs = tmp_path / "subs"
    write(subs / "s001", REF)
    write(subs / "s002", {"alpha.py": STUB["alpha.py"]})
    (subs / "s004.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", "from grader.cli import main; main()", "batch", str(subs),
                           "-o", str(out), "--jobs", "1"], cwd=MINI, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    typed = {}
    for student in ("s001", "s002", "s004"):
        text = (out / student / "grading.json").read_text(encoding="utf-8")
        typed[student] = Result.from_json(json.loads(text))
        assert json.dumps(typed[student].to_json(), ensure_ascii=False) == text
        assert "batch" in typed[student].extra                     # grade batch's own keys are kept
    assert not typed["s001"].is_error and typed["s001"].score == 5 - 1   # the manual part is pending
    assert typed["s002"].exercises[1].status.status is Status.MISSING
    assert typed["s004"].is_error and "ZIP-Datei" in typed["s004"].status.reason


def test_document_of_an_earlier_version_still_loads():
    doc = json.loads(OLD.read_text(encoding="utf-8"))
    typed = Result.from_json(doc)
    assert typed.staff is None and typed.student_id == "s1234567" and typed.max_score == 5
    alpha, beta = typed.exercises
    assert beta.status == Outcome(Status.MISSING, "beta.py not submitted")
    assert [t.status for t in alpha.parts[0].tests] == [TestStatus.FAILED, TestStatus.FAILED]
    assert alpha.parts[1].tests[0].passed and alpha.parts[2].manual
    again = typed.to_json()
    for ex in again["exercises"]:         # fields added since then come back with their empty defaults
        for part in ex["parts"]:
            for test in part["tests"]:
                assert (test.pop("mistake"), test.pop("mistake_name"), test.pop("cause")) == ("", "", "")
    assert again == doc and "staff" not in again
    assert "beta.py" in findings.views(doc)[1].problem            # the readers take it, too


def test_other_schemas_and_broken_documents_are_refused():
    doc = json.loads(OLD.read_text(encoding="utf-8"))
    with pytest.raises(ValueError, match="schema"):
        Result.from_json({**doc, "schema": 2})
    with pytest.raises(ValueError, match="suite"):
        Result.from_json({**doc, "suite": "hidden"})
    with pytest.raises(ValueError):
        Result.from_json({**doc, "status": "fine"})
    with pytest.raises(ValueError):
        Result.from_json({k: v for k, v in doc.items() if k != "exercises"})
