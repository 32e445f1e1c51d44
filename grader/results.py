"""Turn test records into the result document (docs/results.md).

Points: a part's points are split between its public and hidden tests by
`public_share`, and within each group by the tests' weights. A failed test
scores its partial-credit fraction of its points.
"""
from __future__ import annotations

import datetime as _dt
from typing import Iterable

from grader import __version__
from grader.course import Course, Exercise, Part
from grader.plugin import TestRecord


def group_points(part: Part, hidden: bool, has_hidden: bool) -> float:
    """Points carried by the public (or hidden) tests of ``part``."""
    share = part.public_share if part.public_share is not None else (0.5 if has_hidden else 1.0)
    return part.points * ((1.0 - share) if hidden else share)


def build(course: Course, exercise_ids: Iterable[str], records: list[TestRecord], suite: str,
          student: str | None = None, files: dict[str, str] | None = None, isolation: dict | None = None,
          exercise_status: dict[str, str] | None = None) -> dict:
    """The result document for one submission."""
    exercise_status = exercise_status or {}
    exercises = []
    for ex_id in exercise_ids:
        ex = course.exercise(ex_id)
        ex_records = [r for r in records if r.exercise == ex_id]
        exercises.append(_exercise(ex, ex_records, suite, exercise_status.get(ex_id, "graded")))
    result = {
        "schema": 1,
        "tool_version": __version__,
        "student": student,
        "status": "graded",
        "suite": suite,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "files": files or {},
        "isolation": isolation or {},
        "exercises": exercises,
        "staff": staff_part(records),
    }
    return totals(result)


def staff_part(records: list[TestRecord]) -> dict:
    """What only staff may read: the unredacted record of hidden tests and the grader's own errors.

    Per test (only those with something to keep): ``message`` (the full
    message where students saw a redacted one), ``output`` (what the
    submission printed in a hidden test) and ``internal_error`` (the
    traceback when the test's own code raised). No report renders this key;
    grading.json (staff only) keeps it, feedback.* and results.json never do.
    """
    tests = []
    for r in records:
        entry = {k: v for k, v in (("message", r.staff_message), ("output", r.staff_output),
                                   ("internal_error", r.internal_error)) if v}
        if entry:
            tests.append({"id": r.id, "hidden": r.hidden, **entry})
    return {"tests": tests, "internal_errors": sum(1 for r in records if r.internal_error)}


def error_result(course: Course, exercise_ids: Iterable[str], reason: str, student: str | None = None) -> dict:
    """The document of a submission in which nothing could be graded: 0 of the full points, and why."""
    ids = list(exercise_ids)
    result = build(course, ids, [], "all", student=student)
    result["status"] = f"error: {reason}"
    for ex in result["exercises"]:
        ex["status"] = f"error: {reason}"
        for part in ex["parts"]:
            part["max_score"] = course.exercise(ex["id"]).part(part["id"]).points
    return totals(result)


def totals(result: dict) -> dict:
    """Recompute exercise and overall sums (after merging manual points, too)."""
    for ex in result["exercises"]:
        ex["score"] = _r(sum(p["score"] for p in ex["parts"]))
        ex["max_score"] = _r(sum(p["max_score"] for p in ex["parts"]))
    result["score"] = _r(sum(e["score"] for e in result["exercises"]))
    result["max_score"] = _r(sum(e["max_score"] for e in result["exercises"]))
    return result


def _exercise(ex: Exercise, records: list[TestRecord], suite: str, status: str) -> dict:
    parts = []
    for part in ex.parts:
        if part.manual:
            parts.append({"id": part.id, "title": part.title, "score": 0.0, "max_score": part.points,
                          "manual": True, "pending": True, "comment": "", "tests": []})
            continue
        mine = [r for r in records if r.part == part.id]
        has_hidden = any(r.hidden for r in mine) or (suite == "public" and part.public_share not in (None, 1.0))
        tests, score, max_score = [], 0.0, 0.0
        for hidden in (False, True):
            group = [r for r in mine if r.hidden == hidden]
            total_weight = sum(r.weight for r in group)
            pts = group_points(part, hidden, has_hidden) if group else 0.0
            for r in group:
                t_max = pts * r.weight / total_weight if total_weight else 0.0
                t_score = t_max * (1.0 if r.status == "passed" else r.fraction)
                tests.append({"id": r.id, "name": r.name, "hidden": r.hidden, "score": _r(t_score),
                              "max_score": _r(t_max), "status": r.status, "message": r.message,
                              "output": r.output, "duration": round(r.duration, 4),
                              "mistake": r.mistake, "mistake_name": r.mistake_name, "cause": r.cause})
                score += t_score
                max_score += t_max
        entry = {"id": part.id, "title": part.title, "score": _r(score), "max_score": _r(max_score),
                 "manual": False, "pending": False, "comment": "", "tests": tests}
        if suite == "public":
            entry["hidden_max_score"] = _r(part.points - max_score)
        parts.append(entry)
    return {"id": ex.id, "title": ex.title, "status": status, "score": 0.0, "max_score": 0.0, "parts": parts}


def _r(x: float) -> float:
    return round(float(x), 4)
