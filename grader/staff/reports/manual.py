"""Merge staff points for manually graded parts into result dicts.

CSV columns ``student, part, points, comment`` (header required, comma or
semicolon separated, UTF-8 with or without BOM), the part written
``<exercise>.<part>`` such as ``ex38.mlp``. Points may use a decimal comma.
A row with empty points is skipped (the part stays pending). Every problem
in the file (unknown student or part, automatic part, points out of range,
duplicate rows) is collected and reported at once with its line number;
nothing is merged unless the whole file is valid.
"""

from __future__ import annotations

import copy
import csv
import io
import math
from pathlib import Path

from grader.trusted.results import is_error

REQUIRED = ("student", "part", "points")


class ManualPointsError(ValueError):
    """The manual points CSV has problems; ``problems`` lists them with line numbers."""

    def __init__(self, path: Path, problems: list[str]):
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s) in the manual points file:\n  "
                         + "\n  ".join(problems))


def _read_rows(path: Path) -> list[tuple[int, dict]]:
    text = Path(path).read_text(encoding="utf-8-sig")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    fields = [(f or "").strip().lower() for f in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in fields]
    if missing:
        raise ManualPointsError(path, [f"line 1: missing column(s) {', '.join(missing)} "
                                       f"(expected header: student, part, points, comment)"])
    rows = []
    for row in reader:
        clean = {(k or "").strip().lower(): (v or "").strip() if isinstance(v, str) else "" for k, v in row.items()}
        if not any(clean.values()):
            continue
        rows.append((reader.line_num, clean))
    return rows


def check_file(path: Path) -> None:
    """Raise ManualPointsError now for a file whose header or points cannot be read at all."""
    problems = []
    for line, row in _read_rows(path):
        try:
            float(row.get("points", "").replace(",", "."))
        except ValueError:
            problems.append(f"line {line}: points {row.get('points', '')!r} is not a number")
    if problems:
        raise ManualPointsError(path, problems)


def _round(value: float) -> float:
    return round(value + 0.0, 4)


def merge(results: list[dict], csv_path: Path) -> list[dict]:
    """Return copies of ``results`` with the manual points of ``csv_path`` merged in.

    Updates the part's ``score``, ``pending`` (False) and ``comment``, then the
    exercise and total ``score``. ``max_score`` already includes manual parts.
    """
    merged = copy.deepcopy(results)
    by_student: dict[str, dict] = {}
    for r in merged:
        by_student[str(r.get("student"))] = r
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    updates = []
    for line, row in _read_rows(Path(csv_path)):
        student, part_ref, points_text = row.get("student", ""), row.get("part", ""), row.get("points", "")
        where = f"line {line}"
        if not points_text:
            continue
        result = by_student.get(student)
        if result is None:
            problems.append(f"{where}: unknown student {student!r}")
            continue
        ex_id, dot, part_id = part_ref.partition(".")
        if not dot or not ex_id or not part_id:
            problems.append(f"{where}: part {part_ref!r} must be written <exercise>.<part>, e.g. ex38.mlp")
            continue
        exercise = next((e for e in result.get("exercises", []) or [] if e.get("id") == ex_id), None)
        if exercise is None:
            extra = f" (submission status: {result.get('status', '')})" if is_error(result) else ""
            problems.append(f"{where}: student {student!r} has no exercise {ex_id!r}{extra}")
            continue
        part = next((p for p in exercise.get("parts", []) or [] if p.get("id") == part_id), None)
        if part is None:
            known = ", ".join(f"{ex_id}.{p.get('id')}" for p in exercise.get("parts", []) or [] if p.get("manual"))
            problems.append(f"{where}: unknown part {part_ref!r}" + (f" (manual parts: {known})" if known else ""))
            continue
        if not part.get("manual"):
            problems.append(f"{where}: part {part_ref!r} is graded automatically, not by hand")
            continue
        try:
            points = float(points_text.replace(",", "."))
        except ValueError:
            problems.append(f"{where}: points {points_text!r} is not a number")
            continue
        maximum = float(part.get("max_score", 0) or 0)
        if not math.isfinite(points) or points < 0 or points > maximum + 1e-9:
            problems.append(f"{where}: {points_text} points for {part_ref} is out of range 0..{maximum:g}")
            continue
        key = (student, part_ref)
        if key in seen:
            problems.append(f"{where}: {student} {part_ref} already given in line {seen[key]}")
            continue
        seen[key] = line
        updates.append((result, exercise, part, points, row.get("comment", "")))
    if problems:
        raise ManualPointsError(Path(csv_path), problems)
    touched = []
    for result, exercise, part, points, comment in updates:
        part["score"] = _round(points)
        part["pending"] = False
        part["comment"] = comment
        touched.append((result, exercise))
    for result, exercise in touched:
        exercise["score"] = _round(sum(float(p.get("score", 0) or 0) for p in exercise.get("parts", []) or []))
        result["score"] = _round(sum(float(e.get("score", 0) or 0) for e in result.get("exercises", []) or []))
    return merged
