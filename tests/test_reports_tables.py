"""parts.csv and mistakes.csv agree with the per-student records they are rendered from."""
from __future__ import annotations

import csv
import io

import pytest

from conftest import ROOT
from grader.trusted import results
from grader.trusted import runner
from grader.staff.reports import tables

CORPUS = ROOT / "tests" / "submissions" / "ex39"


@pytest.fixture(scope="module")
def records(course):
    graded = []
    for variant in ("reference", "full_transposed", "stub"):
        result = runner.grade(CORPUS / variant, ["ex39"], suite="all", course=course)
        result["student"] = variant
        graded.append(result)
    graded.append(results.error_result(course, ["ex39"], "could not read the zip", "broken"))
    graded[-1]["student"] = "broken"
    return graded


def _read(path):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_parts_csv_agrees_with_the_records(records, tmp_path):
    tables.write(records, tmp_path)
    rows = _read(tmp_path / "parts.csv")
    assert list(rows[0]) == tables.PARTS_HEADER
    for record in records:
        mine = [r for r in rows if r["student"] == record["student"]]
        parts = [(ex["id"], p["id"]) for ex in record["exercises"] for p in ex["parts"]]
        assert [(r["exercise"], r["part"]) for r in mine] == parts
        assert sum(float(r["points"]) for r in mine) == pytest.approx(record["score"], abs=1e-3)
        assert sum(float(r["max_points"]) for r in mine) == pytest.approx(record["max_score"], abs=1e-3)
    by = {(r["student"], r["part"]): r["status"] for r in rows}
    assert by[("reference", "grad_full")] == "full"
    assert by[("reference", "strategies")] == "pending"
    assert by[("stub", "grad_full")] == "zero"
    assert by[("broken", "grad_full")].startswith("error:")


def test_mistakes_csv_lists_exactly_the_named_mistakes_of_the_records(records, tmp_path):
    tables.write(records, tmp_path)
    rows = _read(tmp_path / "mistakes.csv")
    assert rows and list(rows[0]) == tables.MISTAKES_HEADER
    expected = {(rec["student"], ex["id"], p["id"], t["mistake"])
                for rec in records for ex in rec["exercises"] for p in ex["parts"] for t in p["tests"]
                if t.get("mistake") and t["status"] != "passed"}
    got = {(r["student"], r["exercise"], r["part"], r["mistake"]) for r in rows}
    assert got == expected
    assert any(s == "full_transposed" and part == "grad_full" for s, _, part, _ in got), \
        "the transposed BPTT result should be a named mistake"
    assert not any(s in ("reference", "broken") for s, *_ in got)
    assert all(r["message"] for r in rows)


def test_formula_text_in_a_student_id_is_neutralised(tmp_path):
    record = {"student": "=HYPERLINK(\"http://x\")", "exercises": [
        {"id": "ex", "status": "graded", "parts": [{"id": "a", "score": 1, "max_score": 1, "tests": []}]}]}
    tables.write([record], tmp_path)
    text = (tmp_path / "parts.csv").read_text(encoding="utf-8")
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    row = _read(tmp_path / "parts.csv")[0]
    assert row["points"] == "1" and row["status"] == "full"
