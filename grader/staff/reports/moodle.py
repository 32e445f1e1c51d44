"""Moodle assignment files: offline grading worksheet (CSV) and feedback-files zip.

Worksheet: the columns Moodle itself downloads for a file-submission
assignment with feedback comments (docs/lms.md §2.3), in English or German, since
Moodle's importer finds columns by their header text *in the uploading user's
language*. Only Identifier, Grade, Last modified (grade) and Feedback
comments are read on import; the other columns are there so the file looks
exactly like Moodle's own and staff can read it.

"Last modified (grade)" holds an ISO 8601 timestamp with UTC offset: Moodle
compares it (via PHP ``strtotime``) with the time of an existing grade and
skips rows it considers stale. Moodle's own localised dates ("Montag, 2.
September 2024, 10:15") do not parse, ISO does (docs/lms.md §2.6).

German strings: ``recordid`` "ID", ``hiddenuser`` "Teilnehmer/in" (no space),
``maxgrade`` "Bestwertung", ``gradecanbechanged``, ``lastmodifiedsubmission``,
``lastmodifiedgrade`` come from Moodle's 4.5 German pack (docs/lms.md §2.6). The
core strings ``fullname`` ("Vollständiger Name"), ``email`` ("E-Mail-Adresse"),
``gradenoun`` ("Bewertung"), the comments plugin name ("Feedback als
Kommentar") and the status texts are NOT verified against a German pack:
they are the strings German Moodle sites show and that third-party worksheet
scripts use. If an upload reports missing columns, compare with a worksheet
downloaded from your site.

Feedback zip: one ``feedback.html`` per student, named like the student's
entry in the "download all submissions" archive (4.1+ folder, pre-4.1 folder
with trailing underscore, or flat file), which Moodle's "Upload feedback
files in a zip" matches by the participant id after the first underscore.
"""

from __future__ import annotations

import html
import io
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from grader.staff.reports.files import csv_text, write_bytes_atomic, write_text_atomic
from grader.trusted.results import error_reason, exercise_outcome, is_error
from grader.feedback.findings import exercise_problem
from grader.feedback.text import fmt_fixed, fmt_points

HEADERS = {
    "en": ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum grade",
           "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"],
    "de": ["ID", "Vollständiger Name", "E-Mail-Adresse", "Status", "Bewertung", "Bestwertung",
           "Bewertung kann geändert werden", "Zuletzt geändert (Abgabe)", "Zuletzt geändert (Bewertung)",
           "Feedback als Kommentar"],
}
_TEXT = {
    "en": {"participant": "Participant ", "yes": "Yes", "decimal": ".",
           "graded": "Submitted for grading - Graded", "error": "Submitted for grading - Not graded"},
    "de": {"participant": "Teilnehmer/in", "yes": "Ja", "decimal": ",",
           "graded": "Zur Bewertung abgegeben - Bewertet", "error": "Zur Bewertung abgegeben - Nicht bewertet"},
}
STYLES = ("4.1", "old", "flat")


def _lms(sub: Any) -> dict:
    return dict(getattr(sub, "lms", None) or {})


def _participant_id(sub: Any) -> str:
    pid = _lms(sub).get("participant_id") or getattr(sub, "student_id", "")
    pid = str(pid)
    if not (pid.isascii() and pid.isdigit()):
        raise ValueError(f"submission {getattr(sub, 'student', '?')!r} has no Moodle participant id; "
                         "the worksheet needs submissions read with layout 'moodle'")
    return pid


def _pair(results: Iterable[dict], submissions: Iterable[Any]) -> list[tuple[dict, Any]]:
    """Match results to submissions by ``student``; every result needs its submission."""
    by_student = {getattr(s, "student_id", None): s for s in submissions}
    pairs, unknown = [], []
    for r in results:
        sub = by_student.get(r.get("student"))
        if sub is None:
            unknown.append(str(r.get("student")))
        else:
            pairs.append((r, sub))
    if unknown:
        raise ValueError("results without a Moodle submission: " + ", ".join(unknown))
    return pairs


def feedback_comment(result: dict, lang: str = "en") -> str:
    """A short HTML summary for the "Feedback comments" column (German text; ``lang`` sets the decimal)."""
    dec = _TEXT[lang]["decimal"]
    esc = html.escape
    if is_error(result):
        return ("<p>Die Abgabe konnte nicht automatisch bewertet werden: "
                f"{esc(error_reason(result.get('status', '')))}</p>")
    parts = [f"<p>Autograder: {fmt_points(result.get('score', 0), dec)} von "
             f"{fmt_points(result.get('max_score', 0), dec)} Punkten.</p>"]
    items = []
    for ex in result.get("exercises", []) or []:
        line = (f"Aufgabe {esc(str(ex.get('id')))}: {fmt_points(ex.get('score', 0), dec)} / "
                f"{fmt_points(ex.get('max_score', 0), dec)}")
        outcome = exercise_outcome(ex)
        if not outcome.graded:
            line += f" ({esc(exercise_problem(outcome) or '')})"
        pending = [p for p in ex.get("parts", []) or [] if p.get("manual") and p.get("pending")]
        if pending:
            line += " – noch ausstehend: " + ", ".join(f"Teil {esc(str(p.get('id')))}" for p in pending)
        items.append(f"<li>{line}</li>")
        for p in ex.get("parts", []) or []:
            if p.get("manual") and not p.get("pending") and p.get("comment"):
                items.append(f"<li>Teil {esc(str(p.get('id')))}: {esc(str(p['comment']))}</li>")
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
    parts.append("<p>Details in der Datei feedback.html.</p>")
    return "".join(parts)


def worksheet_rows(results: list[dict], submissions: list[Any], lang: str = "en",
                   modified: datetime | None = None) -> list[list[str]]:
    """The worksheet as rows (header first); pure, used by ``write_worksheet`` and tests."""
    if lang not in HEADERS:
        raise ValueError(f"lang must be 'en' or 'de', not {lang!r}")
    text = _TEXT[lang]
    stamp = (modified or datetime.now(timezone.utc)).astimezone().isoformat(timespec="seconds")
    rows = [list(HEADERS[lang])]
    for result, sub in _pair(results, submissions):
        lms = _lms(sub)
        error = is_error(result)
        rows.append([
            text["participant"] + _participant_id(sub),
            str(lms.get("fullname") or getattr(sub, "name", None) or ""),
            str(lms.get("email") or ""),
            text["error"] if error else text["graded"],
            "" if error else fmt_fixed(result.get("score", 0), 2, text["decimal"]),
            fmt_fixed(result.get("max_score", 0), 2, text["decimal"]) if not error else "",
            text["yes"],
            "-",
            stamp,
            feedback_comment(result, lang),
        ])
    return rows


def write_worksheet(results: list[dict], submissions: list[Any], path: Path, lang: str = "en",
                    modified: datetime | None = None) -> None:
    """Write the grading worksheet CSV (UTF-8 without BOM, all cells quoted, like Moodle's).

    Submissions that could not be graded (status ``error: ...``) get an empty
    grade, which Moodle's import skips, and the reason in the comment, so staff
    decide. ``modified`` (default: now) goes into "Last modified (grade)".
    """
    write_text_atomic(Path(path), csv_text(worksheet_rows(results, submissions, lang, modified), quote_all=True))


def feedback_entry_name(sub: Any, filename: str = "feedback.html") -> str:
    """The zip entry name for ``filename`` in the student's Moodle naming."""
    lms = _lms(sub)
    pid = _participant_id(sub)
    prefix = str(lms.get("prefix") or "")
    if not prefix:
        name = str(lms.get("fullname") or getattr(sub, "name", None) or "Participant")
        prefix = f"{name.replace('_', ' ').replace('/', ' ')}_{pid}"
    style = lms.get("folder_style", "4.1")
    if style not in STYLES:
        raise ValueError(f"unknown Moodle folder style {style!r}")
    base = f"{prefix}_assignsubmission_file"
    if style == "4.1":
        return f"{base}/{filename}"
    if style == "old":
        return f"{base}_/{filename}"
    return f"{base}_{filename}"


def write_feedback_zip(results: list[dict], submissions: list[Any], outdir_with_feedback: Path,
                       zip_path: Path) -> list[str]:
    """Zip every ``OUT/<student>/feedback.html`` under Moodle's naming; returns the entry names.

    Students without a feedback.html (not graded yet) are left out.
    """
    outdir = Path(outdir_with_feedback)
    buf = io.BytesIO()
    names: list[str] = []
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for result, sub in _pair(results, submissions):
            source = outdir / str(getattr(sub, "student_id")) / "feedback.html"
            if not source.is_file():
                continue
            name = feedback_entry_name(sub)
            if name in names:     # cannot happen for a real download (one prefix per group); never fatal
                continue
            zf.writestr(name, source.read_bytes())
            names.append(name)
    write_bytes_atomic(Path(zip_path), buf.getvalue())
    return names
