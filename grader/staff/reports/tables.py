"""``parts.csv`` and ``mistakes.csv``: the class's results per part, for staff scripts.

grades.csv keeps one row per student (its columns are a contract); these two
files carry the detail a lecturer analyses before the next lecture:

- parts.csv: ``student, exercise, part, points, max_points, status``, one row
  per student and part. status: ``full``, ``partial``, ``zero`` (automatic
  parts), ``pending`` / ``manual`` (manual parts without / with merged
  points), or the exercise's own status when it was not graded
  (``missing: ...``, ``error: ...``).
- mistakes.csv: ``student, exercise, part, mistake, message``, one row per
  named mistake (checks.Mistake id) a student's result showed in a part.

Both are rendered from the result records alone, like every other report.
"""
from __future__ import annotations

from pathlib import Path

from grader.staff.reports.files import csv_text, write_text_atomic
from grader.feedback.text import fmt_points
from grader.trusted.results import exercise_outcome, passed

PARTS_HEADER = ["student", "exercise", "part", "points", "max_points", "status"]
MISTAKES_HEADER = ["student", "exercise", "part", "mistake", "message"]


def part_status(exercise: dict, part: dict) -> str:
    """One word for how a part went (see the module docstring)."""
    outcome = exercise_outcome(exercise)
    if not outcome.graded:
        return " ".join(outcome.text().split())
    if part.get("manual"):
        return "pending" if part.get("pending") else "manual"
    score, max_score = float(part.get("score", 0) or 0), float(part.get("max_score", 0) or 0)
    if max_score > 0 and score >= max_score - 1e-9:
        return "full"
    return "partial" if score > 1e-9 else "zero"


def parts_rows(results: list[dict]) -> list[list[str]]:
    rows = [list(PARTS_HEADER)]
    for result in results:
        student = str(result.get("student") or "")
        for ex in result.get("exercises", []) or []:
            for part in ex.get("parts", []) or []:
                rows.append([student, str(ex.get("id", "")), str(part.get("id", "")),
                             fmt_points(part.get("score", 0) or 0), fmt_points(part.get("max_score", 0) or 0),
                             part_status(ex, part)])
    return rows


def mistakes_of(result: dict) -> list[tuple[str, str, str, str]]:
    """``(exercise, part, mistake id, name)`` for every distinct named mistake in one result."""
    found: dict[tuple[str, str, str], str] = {}
    for ex in result.get("exercises", []) or []:
        for part in ex.get("parts", []) or []:
            for test in part.get("tests", []) or []:
                mistake = test.get("mistake")
                if mistake and not passed(test):
                    found.setdefault((str(ex.get("id", "")), str(part.get("id", "")), str(mistake)),
                                     str(test.get("mistake_name") or mistake))
    return [(*key, name) for key, name in found.items()]


def mistakes_rows(results: list[dict]) -> list[list[str]]:
    rows = [list(MISTAKES_HEADER)]
    for result in results:
        student = str(result.get("student") or "")
        rows += [[student, *entry] for entry in mistakes_of(result)]
    return rows


def write(results: list[dict], out: Path) -> None:
    """Write OUT/parts.csv and OUT/mistakes.csv atomically."""
    write_text_atomic(Path(out) / "parts.csv", csv_text(parts_rows(results)))
    write_text_atomic(Path(out) / "mistakes.csv", csv_text(mistakes_rows(results)))
