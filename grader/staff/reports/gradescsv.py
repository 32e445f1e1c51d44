"""``grades.csv`` for staff: one row per student.

Columns: ``student``, one column per exercise (points, empty when that
exercise was not graded for the student), ``total``, ``max_total``,
``status`` (``graded`` or ``error: ...``). Numbers use a decimal point.
Text cells (ids, status) are made formula-safe and cleaned by ``csv_text``.
"""

from __future__ import annotations

from pathlib import Path

from grader.staff.reports.files import csv_text, write_text_atomic
from grader.feedback.text import fmt_points


def rows(results: list[dict], exercises: list[str]) -> list[list[str]]:
    """The CSV as rows (header first); pure, used by ``write`` and tests."""
    out = [["student", *exercises, "total", "max_total", "status"]]
    for result in results:
        by_id = {ex.get("id"): ex for ex in result.get("exercises", []) or []}
        cells = [fmt_points(by_id[e].get("score", 0)) if e in by_id else "" for e in exercises]
        out.append([
            str(result.get("student") or ""),
            *cells,
            fmt_points(result.get("score", 0) or 0),
            fmt_points(result.get("max_score", 0) or 0),
            " ".join(str(result.get("status", "")).split()),
        ])
    return out


def write(results: list[dict], path: Path, exercises: list[str]) -> None:
    """Write grades.csv atomically (UTF-8, comma-separated)."""
    write_text_atomic(Path(path), csv_text(rows(results, exercises)))
