"""``summary.html`` for course staff: how the whole class did, in one offline file.

What a lecturer needs before the next lecture, in this order:

- key figures and the score histogram;
- a sortable, filterable table with one row per student (status, points per
  exercise, total, a relative link to ``STUDENT/feedback.html``);
- per part: mean, median, share with full marks and a small histogram;
- the named mistakes the checks recognised (``mistake`` of a test entry, as
  :func:`grader.staff.reports.tables.mistakes_of` reads them), how many students made
  each and who, most frequent first;
- apart from those, what blocked grading: code not implemented yet, files
  that do not import, syntax errors, timeouts, crashes, missing files and
  submissions that could not be graded at all;
- the per-test pass rates, collapsed.

Everything is inline (CSS, SVG and one small script for sorting and
filtering); the page loads nothing. Record text is cleaned of control
characters here and HTML-escaped by the template (autoescape).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from grader.feedback.text import clean_data, fmt_points
from grader.trusted.results import Status, error_reason, exercise_outcome, is_error, is_graded, passed
from grader.staff.reports.files import write_text_atomic
from .tables import mistakes_of

_TEMPLATES = Path(__file__).with_name("templates")
BINS = 10
#: Bars of a part's histogram: no points, four quarter bands below full marks, full marks.
PART_BINS = ("0", "< 25 %", "< 50 %", "< 75 %", "< 100 %", "100 %")
EPS = 1e-9

#: The blocks of "what blocked grading", in the order shown (staff-facing labels).
BLOCKERS = {
    "not_implemented": "Noch nicht implementiert (NotImplementedError der Vorlage)",
    "syntax": "Syntaxfehler",
    "import": "Lässt sich nicht importieren",
    "timeout": "Zeitlimit überschritten",
    "crash": "Python-Prozess abgestürzt (z. B. Speicherlimit)",
    "missing": "Datei nicht abgegeben",
    "exercise_error": "Aufgabe nicht bewertbar",
    "submission_error": "Abgabe nicht bewertbar",
}
#: Test causes (grader.trusted.errors.StudentError.cause) that are a blocker rather than a mistake.
_BLOCKING_CAUSES = ("not_implemented", "import", "timeout", "crash")

#: ex41 part e: which MNIST test set graded it (autograder_tests/test_ex41_mnist_hidden.py).
MNIST_EXERCISE, MNIST_PART = "ex41", "e"
_MNIST_SAMPLE_WORDS, _MNIST_OFFICIAL_WORDS = "MNIST-Stichprobe des Kurses", "offiziellen MNIST-Testsatzes"


def _first_line(text: str, limit: int = 160) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _num(value: Any) -> float:
    return float(value or 0)


def _de(value: float, digits: int = 2) -> str:
    """A number as staff read it here: German decimal comma, no trailing zeros."""
    return fmt_points(round(value, digits), ",")


def _failed(part: dict) -> list[dict]:
    return [t for t in part.get("tests", []) or [] if not passed(t)]


def build_view(results: list[dict], options: dict | None = None) -> dict[str, Any]:
    """Aggregate the results into what the template shows (pure, for tests too).

    ``options`` are the batch's grade options (``--option k=v``); None when
    unknown. They only decide the note about ex41 e's test set.
    """
    results = [clean_data(r) for r in results]
    graded = [r for r in results if not is_error(r)]
    percents = [100.0 * _num(r.get("score")) / _num(r.get("max_score")) if _num(r.get("max_score")) > 0 else 0.0
                for r in graded]
    scores = [_num(r.get("score")) for r in graded]
    exercises = _exercise_columns(results)
    view: dict[str, Any] = {
        "n": len(results),
        "n_graded": len(graded),
        "n_error": len(results) - len(graded),
        "mean": _de(statistics.fmean(scores)) if scores else "–",
        "median": _de(statistics.median(scores)) if scores else "–",
        "mean_percent": round(statistics.fmean(percents)) if percents else 0,
        "hist": _score_histogram(percents),
        "exercises": exercises,
        "students": [_student_row(r, exercises) for r in results],
        "parts": part_stats(graded),
        "mistakes": mistake_rows(graded),
        "blockers": blocker_rows(results),
        "errors": _error_list(results),
        "notes": _notes(graded, options),
    }
    view.update(_test_view(graded))
    return view


# -- key figures and the student table ---------------------------------------------------------

def _score_histogram(percents: list[float]) -> list[dict]:
    hist = [0] * BINS
    for p in percents:
        hist[min(BINS - 1, max(0, int(p // (100 / BINS))))] += 1
    peak = max(hist) if any(hist) else 1
    return [{"label": f"{i * 10}–{(i + 1) * 10}" + ("%" if i == BINS - 1 else ""),
             "count": n, "height": round(150 * n / peak, 1)} for i, n in enumerate(hist)]


def _exercise_columns(results: list[dict]) -> list[str]:
    """Exercise ids in the order the records list them (first seen first)."""
    seen: dict[str, None] = {}
    for r in results:
        for ex in r.get("exercises", []) or []:
            seen.setdefault(str(ex.get("id", "")), None)
    return list(seen)


def _exercise_cell(ex: dict | None) -> dict:
    """One exercise of one student: shown text, sort value, full status as a tooltip."""
    if ex is None:
        return {"text": "–", "sort": "", "title": ""}
    outcome = exercise_outcome(ex)
    if not outcome.graded:
        word = "fehlt" if outcome.status is Status.MISSING else "Fehler"
        return {"text": word, "sort": "", "title": outcome.text()}
    pending = any(p.get("manual") and p.get("pending") for p in ex.get("parts", []) or [])
    text = f"{_de(_num(ex.get('score')), 4)} / {_de(_num(ex.get('max_score')), 4)}"
    return {"text": text + (" *" if pending else ""), "sort": f"{_num(ex.get('score')):g}",
            "title": "manuelle Bewertung ausstehend" if pending else ""}


def _student_row(r: dict, exercises: list[str]) -> dict:
    by_id = {str(ex.get("id", "")): ex for ex in r.get("exercises", []) or []}
    error = is_error(r)
    return {
        "student": str(r.get("student") or ""),
        "name": str(r.get("name") or ""),
        "error": error,
        "status": error_reason(r.get("status", "")) if error else "bewertet",
        "cells": [_exercise_cell(None if error else by_id.get(ex_id)) for ex_id in exercises],
        "total": "–" if error else f"{_de(_num(r.get('score')), 4)} / {_de(_num(r.get('max_score')), 4)}",
        "total_sort": "" if error else f"{_num(r.get('score')):g}",
    }


# -- per part -----------------------------------------------------------------------------------

def part_stats(graded: list[dict]) -> list[dict]:
    """Mean, median, share with full marks and a histogram per (exercise, part).

    Only students whose exercise was graded count (a missing file is in the
    blockers, not a 0 here). Manual parts count once their points are merged.
    """
    order: dict[tuple[str, str], dict] = {}
    for r in graded:
        for ex in r.get("exercises", []) or []:
            for part in ex.get("parts", []) or []:
                key = (str(ex.get("id", "")), str(part.get("id", "")))
                entry = order.setdefault(key, {"exercise": key[0], "part": key[1],
                                              "title": str(part.get("title") or ""),
                                              "manual": bool(part.get("manual")), "points": [], "max": 0.0,
                                              "pending": 0})
                if not is_graded(ex):
                    continue
                if part.get("manual") and part.get("pending"):
                    entry["pending"] += 1
                    continue
                entry["points"].append(_num(part.get("score")))
                entry["max"] = max(entry["max"], _num(part.get("max_score")))
    return [_part_entry(e) for e in order.values()]


def _part_entry(e: dict) -> dict:
    points, top = e.pop("points"), e["max"]
    e["n"] = len(points)
    e["mean"] = statistics.fmean(points) if points else None
    e["median"] = statistics.median(points) if points else None
    full = sum(1 for p in points if top > 0 and p >= top - EPS)
    e["full_share"] = full / len(points) if points and top > 0 else None
    counts = [0] * len(PART_BINS)
    for p in points:
        counts[_part_bin(p, top)] += 1
    peak = max(counts) or 1
    e["bins"] = [{"label": label, "count": n, "height": round(28 * n / peak, 1)}
                 for label, n in zip(PART_BINS, counts)]
    e["text"] = {"mean": _de(e["mean"]) if points else "–", "median": _de(e["median"]) if points else "–",
                 "max": _de(top, 4) if points else "–",
                 "full": f"{round(100 * e['full_share'])} %" if e["full_share"] is not None else "–"}
    return e


def _part_bin(points: float, top: float) -> int:
    if top <= 0 or points <= EPS:
        return 0
    if points >= top - EPS:
        return len(PART_BINS) - 1
    return 1 + min(3, int(4 * points / top))


# -- named mistakes and blockers ---------------------------------------------------------------------

def mistake_rows(graded: list[dict]) -> list[dict]:
    """One row per (exercise, mistake id): its name, parts, and the students, most frequent first."""
    rows: dict[tuple[str, str], dict] = {}
    for r in graded:
        student = str(r.get("student") or "")
        for ex_id, part, mistake, name in mistakes_of(r):
            row = rows.setdefault((ex_id, mistake), {"exercise": ex_id, "mistake": mistake, "name": name,
                                                     "parts": [], "students": []})
            if part not in row["parts"]:
                row["parts"].append(part)
            if student not in row["students"]:
                row["students"].append(student)
    for row in rows.values():
        row["count"] = len(row["students"])
    return sorted(rows.values(), key=lambda row: (-row["count"], row["exercise"], row["mistake"]))


def exercise_blockers(ex: dict) -> dict[str, list[str]]:
    """What blocked grading in one exercise of one student: category -> the parts it hit.

    An import failure is a syntax error when its message says so (the static
    check and the import both name ``SyntaxError``); a file that was not
    submitted or an exercise that could not be graded counts for the whole
    exercise.
    """
    outcome = exercise_outcome(ex)
    if not outcome.graded:
        return {"missing" if outcome.status is Status.MISSING else "exercise_error": []}
    found: dict[str, list[str]] = {}
    for part in ex.get("parts", []) or []:
        failed = _failed(part)
        causes = {str(t.get("cause") or "") for t in failed}
        for cause in _BLOCKING_CAUSES:
            if cause not in causes:
                continue
            if cause == "import":
                syntax = any("SyntaxError" in str(t.get("message") or "") for t in failed if t.get("cause") == "import")
                cause = "syntax" if syntax else "import"
            parts = found.setdefault(cause, [])
            if str(part.get("id", "")) not in parts:
                parts.append(str(part.get("id", "")))
    return found


def blocker_rows(results: list[dict]) -> list[dict]:
    """Rows of the blockers block: (category, exercise) with the students and their parts."""
    rows: dict[tuple[str, str], dict] = {}
    for r in results:
        student = str(r.get("student") or "")
        if is_error(r):
            found = [("submission_error", "", error_reason(r.get("status", "")))]
        else:
            found = [(cat, str(ex.get("id", "")), ", ".join(parts))
                     for ex in r.get("exercises", []) or [] for cat, parts in exercise_blockers(ex).items()]
        for category, ex_id, detail in found:
            row = rows.setdefault((category, ex_id), {"category": category, "label": BLOCKERS[category],
                                                     "exercise": ex_id, "students": []})
            row["students"].append({"student": student, "detail": detail})
    for row in rows.values():
        row["count"] = len(row["students"])
    rank = {cat: i for i, cat in enumerate(BLOCKERS)}
    return sorted(rows.values(), key=lambda row: (rank[row["category"]], -row["count"], row["exercise"]))


def _error_list(results: list[dict]) -> list[dict]:
    errors = [{"student": r.get("student"), "what": "Abgabe", "status": error_reason(r.get("status", ""))}
              for r in results if is_error(r)]
    for r in results:
        if is_error(r):
            continue
        for ex in r.get("exercises", []) or []:
            if not is_graded(ex):
                errors.append({"student": r.get("student"), "what": f"Aufgabe {ex.get('id')}",
                               "status": exercise_outcome(ex).text()})
    return errors


# -- notes ------------------------------------------------------------------------------------

def _notes(graded: list[dict], options: dict | None) -> list[Markup]:
    """Staff notes on how the batch was graded (today: ex41 e's MNIST test set)."""
    texts: list[str] = []
    ran = False  # part e of ex41 ran with the hidden tests for some student
    for r in graded:
        if r.get("suite") != "all":
            continue
        for ex in r.get("exercises", []) or []:
            if str(ex.get("id")) != MNIST_EXERCISE or not is_graded(ex):
                continue
            for part in ex.get("parts", []) or []:
                if str(part.get("id")) == MNIST_PART:
                    ran = True
                    texts += [str(t.get("message") or "") for t in part.get("tests", []) or []]
    if not ran:
        return []
    if any(_MNIST_OFFICIAL_WORDS in m for m in texts):
        return []
    if any(_MNIST_SAMPLE_WORDS in m for m in texts):
        how = "(so sagen es die Meldungen der Tests)"
    elif options is None:
        how = "(falls der Lauf ohne <code>--option mnist_dir=…</code> gestartet wurde)"
    elif not options.get("mnist_dir"):
        how = "(der Lauf hatte keine <code>--option mnist_dir=…</code>)"
    else:
        return []
    return [Markup(f"Teil {MNIST_PART} von {MNIST_EXERCISE} wurde auf der MNIST-Stichprobe des Kurses "
                   f"(2.000 Testziffern) bewertet, nicht auf dem offiziellen Testsatz (10.000 Ziffern) {how}. "
                   "Für die echte Bewertung: <code>grade batch … --option mnist_dir=ORDNER</code>.")]


# -- per test (collapsed) ------------------------------------------------------------------------

def _test_view(graded: list[dict]) -> dict[str, Any]:
    """Pass rate per test (grouped by exercise) and the tests failed most often."""
    stats: dict[tuple[str, str], dict] = {}
    messages: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for r in graded:
        for ex in r.get("exercises", []) or []:
            for part in ex.get("parts", []) or []:
                for t in part.get("tests", []) or []:
                    key = (str(ex.get("id")), str(t.get("id") or t.get("name")))
                    s = stats.setdefault(key, {"exercise": key[0], "part": part.get("id"),
                                               "name": t.get("name") or t.get("id"), "hidden": bool(t.get("hidden")),
                                               "runs": 0, "passed": 0})
                    s["runs"] += 1
                    if passed(t):
                        s["passed"] += 1
                    elif str(t.get("cause") or "") not in _BLOCKING_CAUSES:  # blockers have their own block
                        messages[key][_first_line(t.get("message", ""))] += 1
    per_exercise: dict[str, list[dict]] = {}
    for key, s in stats.items():
        s["rate"] = s["passed"] / s["runs"] if s["runs"] else 0.0
        s["failed"] = s["runs"] - s["passed"]
        common = messages[key].most_common(1)
        s["message"] = common[0][0] if common else ""
        per_exercise.setdefault(s["exercise"], []).append(s)
    charts = [{"exercise": ex_id, "rows": rows, "height": 22 * len(rows) + 8} for ex_id, rows in per_exercise.items()]
    hardest = sorted((s for s in stats.values() if s["failed"]), key=lambda s: (-s["failed"], s["rate"], s["name"]))
    return {"charts": charts, "hardest": hardest[:10]}


def render(results: list[dict], options: dict | None = None) -> str:
    """summary.html as a string."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("summary.html.j2").render(v=build_view(results, options))


def write(results: list[dict], path: Path, options: dict | None = None) -> None:
    """Write summary.html atomically; ``options``: the batch's grade options, if known."""
    write_text_atomic(Path(path), render(results, options))
