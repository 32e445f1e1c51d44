"""Gradescope's ``results.json`` (docs/specs.md of gradescope/autograder_samples).

One Gradescope test per graded test, named ``"<exercise> <part>: <test name>"``;
exercises that could not be graded (missing file, import error) become one
failed test carrying the exercise's points, so the tests add up to the
top-level ``score``. Manual parts appear as informational entries without
score until staff points are merged. Hidden tests get ``hidden_visibility``
(default ``after_published``: students see them once grades are published).
Platform details live only here (see STYLE.md: one adapter per platform).
"""

from __future__ import annotations

import json
from pathlib import Path

from grader.i18n import t

from grader.feedback import findings
from grader.feedback.text import clean_data, fmt_points
from grader.trusted.results import error_reason, exercise_outcome, is_error, passed
from grader.staff.reports.files import write_text_atomic

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def _test_output(test: dict, note: tuple[str, str] | None = None) -> str:
    """A test's message and output; ``note`` (findings.test_notes) avoids repeating a finding per test."""
    message = (test.get("message") or "").rstrip()
    if note is not None:
        message = note[1] if note[0] == "replace" else f"{message}\n{note[1]}"
    # What a submission printed in a hidden test is never shown (the plugin keeps it for staff
    # only; this guards records written by older versions too).
    output = "" if test.get("hidden") else (test.get("output") or "").rstrip()
    if output:
        block = t("gs.output") + "\n" + output
        return f"{message}\n\n{block}\n" if message else block + "\n"
    return message + "\n" if message else ""


def _pts(value: object) -> str:
    return fmt_points(value, t("fmt.decimal"))  # type: ignore[arg-type]


def _summary(result: dict) -> str:
    lines = []
    if is_error(result):
        lines.append(t("gs.not_graded", why=error_reason(result["status"])))
    lines.append(t("gs.points", score=_pts(result.get("score", 0)), max_score=_pts(result.get("max_score", 0))))
    for ex in result.get("exercises", []) or []:
        line = t("gs.exercise", exercise=ex.get("id"), score=_pts(ex.get("score", 0)),
                 max_score=_pts(ex.get("max_score", 0)))
        problem = findings.exercise_problem(exercise_outcome(ex))
        if problem:
            line += f" ({problem})"
        lines.append(line)
        for part in ex.get("parts", []) or []:
            if part.get("manual") and part.get("pending"):
                lines.append(t("gs.manual_pending", part=part.get("id")))
    if result.get("suite") == "public":
        lines.append(t("gs.public_only"))
    lines += _public_findings(result)
    return "\n".join(lines) + "\n"


def _public_findings(result: dict) -> list[str]:
    """The grouped findings of the public tests (hidden ones are shown per test, with their visibility)."""
    from grader.feedback.terminal import findings_text

    public = {**result, "exercises": [
        {**ex, "parts": [{**p, "tests": [x for x in p.get("tests", []) or [] if not x.get("hidden")]}
                         for p in ex.get("parts", []) or []]} for ex in result.get("exercises", []) or []]}
    lines = [line for view in findings.views(public) for line in findings_text(view)]
    return ["", t("report.findings") + ":", *lines] if lines else []


def to_results_json(result: dict, hidden_visibility: str = "after_published") -> dict:
    """Convert one result dict into a Gradescope results.json dict."""
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"hidden_visibility must be one of {', '.join(VISIBILITIES)}, not {hidden_visibility!r}")
    result = clean_data(result)  # no control characters, escape sequences or lone surrogates (grader/feedback/text.py)
    tests: list[dict] = []
    duration = 0.0
    notes = findings.test_notes(result)
    for ex in result.get("exercises", []) or []:
        ex_id = str(ex.get("id", ""))
        outcome = exercise_outcome(ex)
        has_tests = any(p.get("tests") for p in ex.get("parts", []) or [])
        if not outcome.graded and not has_tests:
            # Nothing ran: one failed entry carries the exercise's automatic points.
            auto_max = sum(float(p.get("max_score", 0) or 0) for p in ex.get("parts", []) or [] if not p.get("manual"))
            tests.append({
                "name": f"{ex_id}: {ex.get('title', '')}".rstrip(": "),
                "score": round(sum(float(p.get("score", 0) or 0) for p in ex.get("parts", []) or [] if not p.get("manual")), 4),
                "max_score": round(auto_max, 4),
                "status": "failed",                      # Gradescope's word (its spec), not ours
                "output": (findings.exercise_problem(outcome) or "") + "\n",
                "visibility": "visible",
            })
        for part in ex.get("parts", []) or []:
            part_id = str(part.get("id", ""))
            if part.get("manual"):
                entry = {"name": f"{ex_id} {part_id}: {part.get('title', '')} {t('gs.manual')}",
                         "visibility": "visible"}
                if part.get("pending"):
                    entry["output"] = t("gs.graded_by_staff") + "\n"
                else:
                    entry.update(score=float(part.get("score", 0) or 0), max_score=float(part.get("max_score", 0) or 0))
                    if part.get("comment"):
                        entry["output"] = str(part["comment"]).rstrip() + "\n"
                tests.append(entry)
                continue
            for test in part.get("tests", []) or []:
                if not test.get("hidden"):  # a hidden test's run time is a channel its code controls
                    duration += float(test.get("duration", 0) or 0)
                entry = {
                    "name": f"{ex_id} {part_id}: {test.get('name') or test.get('id', '')}",
                    "score": float(test.get("score", 0) or 0),
                    "max_score": float(test.get("max_score", 0) or 0),
                    "status": "passed" if passed(test) else "failed",  # Gradescope's words
                    "visibility": hidden_visibility if test.get("hidden") else "visible",
                    "tags": [ex_id, f"{ex_id}.{part_id}"],
                }
                output = _test_output(test, notes.get(str(test.get("id"))))
                if output:
                    entry["output"] = output
                tests.append(entry)
    return {
        "score": float(result.get("score", 0) or 0),
        "execution_time": round(duration, 3),
        "output": _summary(result),
        "output_format": "text",
        "test_output_format": "text",
        "tests": tests,
    }


def write(result: dict, path: Path, hidden_visibility: str = "after_published") -> None:
    """Write ``results.json`` for one result atomically."""
    data = to_results_json(result, hidden_visibility=hidden_visibility)
    write_text_atomic(Path(path), json.dumps(data, indent=2, ensure_ascii=False) + "\n")
