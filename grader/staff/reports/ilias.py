"""ILIAS exercise files: the multi-feedback zip and the status file (docs/lms.md §9).

Multi-feedback zip (ILIAS core, ``ilExAssignment::getMultiFeedbackFiles``):
one top folder whose name starts with ``multi_feedback`` (we write
``multi_feedback_<title>_<assignment id>`` as ILIAS' own structure file
names it), in it one folder per student whose last ``_`` part is the ILIAS
usr_id; every file directly inside that does not start with ``.`` becomes a
feedback file of that student (the tutor confirms them in a table). We put
the student's ``feedback.html`` and ``feedback.md`` there, under the folder
name of the download (``Lastname_Firstname_login_usrid``, ASCII-fied as ILIAS
does).

Status file (FAU StudOn's ``ilExAssignmentStatusFile`` and the
ExerciseStatusFile plugin; ILIAS core has no mark import): CSV with the
header :data:`STATUS_HEADER`, one row per student. Our rule for ``status``:

* graded and more than 0 points: ``passed``;
* graded, 0 points, manual parts still to grade: ``notgraded``;
* graded, 0 points otherwise: ``failed``;
* not gradable (error row): ``notgraded`` with ``update`` 0, so the import
  leaves whatever ILIAS has (like the empty grade of the Moodle and Canvas
  files); the reason is in ``comment``.

``mark`` is the points with a decimal point. ``comment`` (what the student
reads in ILIAS) is a short German summary. The same file is put into the
zip as ``status.csv`` beside the ``multi_feedback_...`` folder, where the
plugin's own multi-feedback download has it.

A student without an ILIAS usr_id (a folder renamed after the download)
cannot be matched by ILIAS: left out of both files and returned, never a
reason to write no file for the others.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator

from grader.staff.layouts.naming import ilias_ascii

from grader.staff.reports.files import csv_text, write_bytes_atomic
from grader.trusted.results import error_reason, is_error
from grader.feedback.text import fmt_points

STATUS_HEADER = ["update", "usr_id", "login", "lastname", "firstname", "status", "mark", "notice", "comment",
                 "plagiarism", "plag_comment"]
FEEDBACK_FILES = ("feedback.html", "feedback.md")
#: Zip entries get this timestamp, so the same feedback gives the same zip bytes.
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _lms(sub: Any) -> dict:
    return dict(getattr(sub, "lms", None) or {})


def usr_id(sub: Any) -> str | None:
    """The student's ILIAS usr_id (ASCII digits), or None when the download did not give one."""
    value = str(_lms(sub).get("usr_id") or "")
    if not value and not _lms(sub).get("folder"):
        value = str(getattr(sub, "student_id", "") or "")      # a record without lms: the id is the usr_id
    return value if value.isascii() and value.isdigit() else None


def folder_name(sub: Any) -> str | None:
    """The student's folder in the multi-feedback zip, named as ILIAS names it; None without a usr_id.

    The download's own folder name when it ends in the usr_id (ILIAS reads
    only that last part back), else ``Lastname_Firstname_login_usrid`` built
    with ILIAS' ASCII rule from what is known, else the bare usr_id.
    """
    uid = usr_id(sub)
    if uid is None:
        return None
    lms = _lms(sub)
    original = ilias_ascii(str(lms.get("folder") or "")).strip()
    if original and original.rpartition("_")[2] == uid and original not in (".", ".."):
        return original
    names = [str(lms.get(k) or "").strip() for k in ("lastname", "firstname", "login")]
    return ilias_ascii("_".join([*names, uid])) if any(names) else uid


def top_folder(title: str, assignment_id: str | int | None) -> str:
    """``multi_feedback_<title>_<id>`` as ``ilExAssignment::sendMultiFeedbackStructureFile`` names it."""
    name = f"{title}_{assignment_id if assignment_id not in (None, '') else '0'}".replace(" ", "_").strip()
    return "multi_feedback_" + ilias_ascii(name)


def _pending(result: dict) -> list[str]:
    return [f"{ex.get('id')} {p.get('id')}" for ex in result.get("exercises", []) or []
            for p in ex.get("parts", []) or [] if p.get("manual") and p.get("pending")]


def status_of(result: dict) -> str:
    """``passed`` / ``failed`` / ``notgraded`` by the rule in the module docstring."""
    if is_error(result):
        return "notgraded"
    if float(result.get("score", 0) or 0) > 0:
        return "passed"
    return "notgraded" if _pending(result) else "failed"


def comment(result: dict) -> str:
    """The German one-line summary students read in ILIAS (plain text, decimal comma)."""
    if is_error(result):
        return f"Die Abgabe konnte nicht automatisch bewertet werden: {error_reason(result.get('status', ''))}"
    top = float(result.get("max_score", 0) or 0)
    pts = [f"Autograder: {fmt_points(result.get('score', 0), ',')} von "
           f"{fmt_points(top, ',')} {'Punkt' if top == 1 else 'Punkten'}."]
    for ex in result.get("exercises", []) or []:
        line = (f"Aufgabe {ex.get('id')}: {fmt_points(ex.get('score', 0), ',')}/"
                f"{fmt_points(ex.get('max_score', 0), ',')}")
        pending = [str(p.get("id")) for p in ex.get("parts", []) or [] if p.get("manual") and p.get("pending")]
        if pending:
            line += " (noch ausstehend: Teil " + ", ".join(pending) + ")"
        pts.append(line + ".")
    pts.append("Details in feedback.html.")
    return " ".join(pts)


def _with_ilias(results: list[dict], submissions: list[Any], key: Callable[[Any], str | None],
                left_out: list[str] | None) -> Iterator[tuple[dict, Any, str]]:
    """(result, its submission, key(submission)) for every result whose submission has an ILIAS key;
    the student ids of the others go to ``left_out``."""
    by_student = {getattr(s, "student_id", None): s for s in submissions}
    for result in results:
        sub = by_student.get(result.get("student"))
        value = key(sub) if sub is not None else None
        if value is None:
            if left_out is not None:
                left_out.append(str(result.get("student")))
            continue
        yield result, sub, value


def status_rows(results: list[dict], submissions: list[Any], left_out: list[str] | None = None) -> list[list[str]]:
    """The status file as rows (header first), sorted by usr_id; pure."""
    body: list[tuple[int, list[str]]] = []
    for result, sub, uid in _with_ilias(results, submissions, usr_id, left_out):
        lms = _lms(sub)
        error = is_error(result)
        body.append((int(uid), [
            "0" if error else "1", uid, str(lms.get("login") or ""), str(lms.get("lastname") or ""),
            str(lms.get("firstname") or ""), status_of(result),
            "" if error else fmt_points(result.get("score", 0)),
            "", comment(result), "", "",
        ]))
    return [list(STATUS_HEADER), *(row for _, row in sorted(body, key=lambda b: b[0]))]


def _info(name: str, is_dir: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.external_attr = ((0o40755 if is_dir else 0o100644) << 16) | (0x10 if is_dir else 0)
    info.compress_type = zipfile.ZIP_STORED if is_dir else zipfile.ZIP_DEFLATED
    return info


def multi_feedback_bytes(results: list[dict], submissions: list[Any], outdir: Path, title: str,
                         assignment_id: str | int | None, status_csv: str,
                         left_out: list[str] | None = None) -> bytes:
    """The multi-feedback zip as bytes: sorted entries, fixed timestamps (same input, same bytes)."""
    top = top_folder(title, assignment_id)
    files: dict[str, bytes] = {}
    for _, sub, folder in _with_ilias(results, submissions, folder_name, left_out):
        for name in FEEDBACK_FILES:
            source = Path(outdir) / str(getattr(sub, "student_id")) / name
            if source.is_file():
                files.setdefault(f"{top}/{folder}/{name}", source.read_bytes())
    folders = sorted({f"{top}/"} | {path.rsplit("/", 1)[0] + "/" for path in files})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(_info("status.csv"), status_csv.encode("utf-8", "backslashreplace"))
        for folder in folders:
            zf.writestr(_info(folder, is_dir=True), b"")
        for path in sorted(files):
            zf.writestr(_info(path), files[path])
    return buf.getvalue()


def write(results: list[dict], submissions: list[Any], out: Path, title: str,
          assignment_id: str | int | None = None) -> list[str]:
    """Write OUT/ilias_status.csv and OUT/ilias_multi_feedback.zip atomically.

    Returns the students left out (no ILIAS usr_id), empty if none.
    """
    out = Path(out)
    left_out: list[str] = []
    text = csv_text(status_rows(results, submissions, left_out))
    write_bytes_atomic(out / "ilias_status.csv", text.encode("utf-8", "backslashreplace"))
    write_bytes_atomic(out / "ilias_multi_feedback.zip",
                       multi_feedback_bytes(results, submissions, out, title, assignment_id, text))
    return left_out
