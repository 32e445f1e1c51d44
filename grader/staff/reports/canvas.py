"""Canvas gradebook import CSV (docs/lms.md §3.3).

Layout Canvas accepts: header ``Student, ID, Section, <Title> (<id>)``, a
``    Points Possible`` row (4 leading spaces), then one row per student
keyed by the Canvas user id (the importer matches the ``ID`` column first).
Without an assignment id the column is matched by exact title, or Canvas
offers to create a new assignment with that title.

Identities come only from what Canvas put into the download's file names
(the numeric user id, see grader/staff/layouts/naming.py). A student without one
(anonymous grading) is left out of the file and reported, never a reason
to write no file for the others. Text cells are formula-safe (csv_text).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from grader.staff.reports.files import csv_text, write_text_atomic
from grader.feedback.text import fmt_points
from grader.trusted.results import is_error

# Canvas drops columns whose header contains one of these (computed totals).
_RESERVED = re.compile(r"Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade|"
                       r"Override Score|Override Grade|Override Status")


def rows(results: list[dict], submissions: list[Any], assignment_title: str,
         assignment_id: int | str | None = None, points_possible: float | None = None,
         left_out: list[str] | None = None) -> list[list[str]]:
    """The CSV as rows; pure. Raises ValueError for titles Canvas would drop.

    Students without a numeric Canvas user id (anonymous grading) get no row;
    they are appended to ``left_out`` (``"<student> (anonymous)"``) if given.
    """
    title = " ".join(str(assignment_title).split())
    if not title:
        raise ValueError("assignment_title must not be empty")
    if _RESERVED.search(title):
        raise ValueError(f"Canvas ignores columns named like {title!r}; choose another assignment title")
    column = f"{title} ({assignment_id})" if assignment_id not in (None, "") else title
    if assignment_id not in (None, "") and not str(assignment_id).isdigit():
        raise ValueError(f"assignment_id must be Canvas' numeric id, not {assignment_id!r}")
    by_student = {getattr(s, "student_id", None): s for s in submissions}
    body, problems = [], []
    for result in results:
        sub = by_student.get(result.get("student"))
        lms = dict(getattr(sub, "lms", None) or {}) if sub is not None else {}
        user_id = str(lms.get("user_id") or "")
        if not (user_id.isascii() and user_id.isdigit()):
            problems.append(f"{result.get('student')} ({'anonymous' if user_id.startswith('anon') else 'no Canvas user id'})")
            continue
        name = str(getattr(sub, "name", None) or lms.get("sortable_name") or user_id)
        score = "" if is_error(result) else fmt_points(result.get("score", 0))
        body.append([name, user_id, str(lms.get("section") or ""), score])
    if left_out is not None:
        left_out.extend(problems)
    if points_possible is None:
        maxima = [float(r.get("max_score", 0) or 0) for r in results if not is_error(r)]
        points_possible = max(maxima) if maxima else 0.0
    return [["Student", "ID", "Section", column],
            ["    Points Possible", "", "", fmt_points(points_possible)],
            *body]


def write(results: list[dict], submissions: list[Any], path: Path, assignment_title: str,
          assignment_id: int | str | None = None, points_possible: float | None = None) -> list[str]:
    """Write the gradebook import CSV atomically. Ungradable submissions get an empty cell (no change).

    Returns the students left out for lack of a numeric user id (empty if none).
    """
    left_out: list[str] = []
    write_text_atomic(Path(path), csv_text(rows(results, submissions, assignment_title, assignment_id,
                                                points_possible, left_out)))
    return left_out
