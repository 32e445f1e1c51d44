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

from ._common import error_reason, fmt_points, is_error, write_text_atomic

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def _test_output(test: dict) -> str:
    message = (test.get("message") or "").rstrip()
    output = (test.get("output") or "").rstrip()
    if output:
        block = "Ausgabe deines Programms:\n" + output
        return f"{message}\n\n{block}\n" if message else block + "\n"
    return message + "\n" if message else ""


def _summary(result: dict) -> str:
    lines = []
    if is_error(result):
        lines.append("Die Abgabe konnte nicht bewertet werden: " + error_reason(result["status"]))
    lines.append(f"Punkte: {fmt_points(result.get('score', 0), ',')} / {fmt_points(result.get('max_score', 0), ',')}")
    for ex in result.get("exercises", []) or []:
        line = f"Aufgabe {ex.get('id')}: {fmt_points(ex.get('score', 0), ',')} / {fmt_points(ex.get('max_score', 0), ',')}"
        if ex.get("status", "graded") != "graded":
            line += f" ({ex['status']})"
        lines.append(line)
        for part in ex.get("parts", []) or []:
            if part.get("manual") and part.get("pending"):
                lines.append(f"  Teil {part.get('id')} wird noch manuell bewertet.")
    if result.get("suite") == "public":
        lines.append("Nur öffentliche Tests.")
    return "\n".join(lines) + "\n"


def to_results_json(result: dict, hidden_visibility: str = "after_published") -> dict:
    """Convert one result dict into a Gradescope results.json dict."""
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"hidden_visibility must be one of {', '.join(VISIBILITIES)}, not {hidden_visibility!r}")
    tests: list[dict] = []
    duration = 0.0
    for ex in result.get("exercises", []) or []:
        ex_id = str(ex.get("id", ""))
        ex_status = str(ex.get("status", "graded"))
        has_tests = any(p.get("tests") for p in ex.get("parts", []) or [])
        if ex_status != "graded" and not has_tests:
            # Nothing ran: one failed entry carries the exercise's automatic points.
            auto_max = sum(float(p.get("max_score", 0) or 0) for p in ex.get("parts", []) or [] if not p.get("manual"))
            tests.append({
                "name": f"{ex_id}: {ex.get('title', '')}".rstrip(": "),
                "score": round(sum(float(p.get("score", 0) or 0) for p in ex.get("parts", []) or [] if not p.get("manual")), 4),
                "max_score": round(auto_max, 4),
                "status": "failed",
                "output": ex_status + "\n",
                "visibility": "visible",
            })
        for part in ex.get("parts", []) or []:
            part_id = str(part.get("id", ""))
            if part.get("manual"):
                entry = {"name": f"{ex_id} {part_id}: {part.get('title', '')} (manuell)",
                         "visibility": "visible"}
                if part.get("pending"):
                    entry["output"] = "Wird von der Übungsleitung bewertet.\n"
                else:
                    entry.update(score=float(part.get("score", 0) or 0), max_score=float(part.get("max_score", 0) or 0))
                    if part.get("comment"):
                        entry["output"] = str(part["comment"]).rstrip() + "\n"
                tests.append(entry)
                continue
            for test in part.get("tests", []) or []:
                duration += float(test.get("duration", 0) or 0)
                entry = {
                    "name": f"{ex_id} {part_id}: {test.get('name') or test.get('id', '')}",
                    "score": float(test.get("score", 0) or 0),
                    "max_score": float(test.get("max_score", 0) or 0),
                    "status": "passed" if test.get("status") == "passed" else "failed",
                    "visibility": hidden_visibility if test.get("hidden") else "visible",
                    "tags": [ex_id, f"{ex_id}.{part_id}"],
                }
                output = _test_output(test)
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
