"""Merging staff points for manual parts: totals update, every bad row is reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.staff.reports import manual

FIX = Path(__file__).parent / "fixtures" / "lms"


def load(name: str) -> dict:
    return json.loads((FIX / "results" / f"{name}.json").read_text(encoding="utf-8"))


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "points.csv"
    path.write_text(text, encoding=encoding)
    return path


def test_merge_updates_part_exercise_and_total(tmp_path):
    results = [load("pending"), load("partial")]
    csv_path = write(tmp_path, "student,part,points,comment\n"
                               "s1000004,ex38.mlp,0.5,\"Richtig: kein Gedächtnis, aber Begründung fehlt.\"\n"
                               "s1000002,gan.wgan,0,Gut erklärt.\n")
    merged = manual.merge(results, csv_path)
    part = merged[0]["exercises"][0]["parts"][1]
    assert part["score"] == 0.5 and part["pending"] is False
    assert part["comment"] == "Richtig: kein Gedächtnis, aber Begründung fehlt."
    assert merged[0]["exercises"][0]["score"] == 2.5 and merged[0]["score"] == 2.5
    assert merged[0]["max_score"] == 3.0
    assert merged[1]["exercises"][1]["parts"][4]["pending"] is False
    assert merged[1]["score"] == results[1]["score"]
    # inputs untouched
    assert results[0]["exercises"][0]["parts"][1]["pending"] is True and results[0]["score"] == 2.0


def test_semicolon_decimal_comma_bom_and_empty_points(tmp_path):
    csv_path = write(tmp_path, "student;part;points;comment\r\ns1000004;ex38.mlp;1,0;ok\r\n"
                               "s1000002;gan.wgan;;noch offen\r\n", encoding="utf-8-sig")
    merged = manual.merge([load("pending"), load("partial")], csv_path)
    assert merged[0]["score"] == 3.0
    assert merged[1]["exercises"][1]["parts"][4]["pending"] is True    # empty points: still pending


def test_all_problems_reported_with_line_numbers(tmp_path):
    csv_path = write(tmp_path, "student,part,points,comment\n"
                               "s9999999,ex38.mlp,1,\n"          # 2 unknown student
                               "s1000004,ex38.essay,1,\n"        # 3 unknown part
                               "s1000004,ex38.mlp,1.5,\n"        # 4 out of range
                               "s1000004,ex38.mazes,1,\n"        # 5 automatic part
                               "s1000004,mlp,1,\n"               # 6 no exercise prefix
                               "s1000004,ex99.mlp,1,\n"          # 7 unknown exercise
                               "s1000004,ex38.mlp,x,\n"          # 8 not a number
                               "s1000004,ex38.mlp,-1,\n"         # 9 negative
                               "s1000003,ex38.mlp,1,\n")         # 10 errored submission
    with pytest.raises(manual.ManualPointsError) as info:
        manual.merge([load("pending"), load("error")], csv_path)
    problems = info.value.problems
    assert len(problems) == 9
    text = str(info.value)
    for expected in ["line 2: unknown student 's9999999'", "line 3: unknown part 'ex38.essay' (manual parts: ex38.mlp)",
                     "line 4: 1.5 points for ex38.mlp is out of range 0..1", "line 5: part 'ex38.mazes' is graded automatically",
                     "line 6: part 'mlp' must be written <exercise>.<part>", "line 7: student 's1000004' has no exercise 'ex99'",
                     "line 8: points 'x' is not a number", "line 9: -1 points", "line 10: student 's1000003' has no exercise 'ex38' (submission status: error: the zip file is corrupt)"]:
        assert expected in text, expected


def test_duplicate_rows_and_missing_columns(tmp_path):
    csv_path = write(tmp_path, "student,part,points\ns1000004,ex38.mlp,1\ns1000004,ex38.mlp,0\n")
    with pytest.raises(manual.ManualPointsError, match="already given in line 2"):
        manual.merge([load("pending")], csv_path)
    csv_path = write(tmp_path, "student,points\ns1000004,1\n")
    with pytest.raises(manual.ManualPointsError, match="missing column"):
        manual.merge([load("pending")], csv_path)
