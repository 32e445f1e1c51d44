"""Reading a SUBMISSIONS folder or zip into one folder of exercise files per student.

``read_submissions(source, layout, workdir, expected_files)`` supports the
layouts ``dir`` (one folder or ``grade pack`` zip per student id), ``moodle``
("Download all submissions", 4.1+ folders, pre-4.1 folders, flat files),
``canvas`` ("Download Submissions") and ``ilias`` (exercise "Download all
submissions"). Each student becomes a
:class:`Submission`; a broken or dangerous upload is that student's
``error``, never an exception for the batch. Only an unreadable SUBMISSIONS
source itself raises :class:`LayoutError`.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .collect import collect, fingerprint
from .naming import RESERVED, Group, group_canvas, group_dir, group_ilias, group_moodle, mark_duplicates
from .safety import Limits, folder_entries, zip_entries

__all__ = ["LAYOUTS", "RESERVED", "Group", "LayoutError", "Limits", "Submission", "collect", "folder_entries",
           "read_submissions"]

log = logging.getLogger(__name__)
#: Start of the reason for a submission whose reading failed in an unforeseen way (a bug or a
#: file no check anticipated); grader/feedback/text.py has its German text for students.
UNREADABLE = "the submission could not be read"

LAYOUTS = ("dir", "moodle", "canvas", "ilias")


class LayoutError(Exception):
    """The SUBMISSIONS source as a whole cannot be read (not per student)."""


@dataclass
class Submission:
    """One student's submission, ready to grade.

    ``student_id``: id that is safe as a folder name (OUT/STUDENT); ``name``:
    display name or None; ``lms``: what the LMS download said (moodle:
    participant_id, fullname, folder_style "4.1"|"old"|"flat", prefix;
    canvas: user_id, late, anonymous, attachment_ids; ilias: usr_id, login,
    lastname, firstname, folder, team, late); ``files_dir``: the
    exercise files under their expected names; ``error``: None or a reason
    for the student; ``fingerprint``: sha256 over the submitted files.
    """

    student_id: str
    name: str | None
    lms: dict = field(default_factory=dict)
    files_dir: Path = Path()
    error: str | None = None
    fingerprint: str = ""
    notes: list[str] = field(default_factory=list)


def _entries(source: Path, limits: Limits, stack: list) -> list:
    if source.is_dir():
        return folder_entries(source, limits)
    if not source.is_file():
        raise LayoutError(f"{source} does not exist")
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise LayoutError(f"{source} is neither a folder nor a readable zip file ({exc})") from None
    stack.append(zf)
    infos = zf.infolist()
    if len(infos) > limits.max_archive_entries:
        raise LayoutError(f"{source} has {len(infos)} entries, more than the limit of {limits.max_archive_entries}")
    if sum(i.file_size for i in infos) > limits.max_archive_bytes:
        raise LayoutError(f"{source} unpacks to more than {limits.max_archive_bytes // 2**20} MB")
    return zip_entries(zf, limits)


def read_submissions(source: Path, layout: str, workdir: Path, expected_files: set[str],
                     limits: Limits | None = None) -> list[Submission]:
    """Read every student's submission from ``source`` (folder or zip) in ``layout``.

    Files are written to ``workdir/<student>/files``. ``expected_files`` are
    the exercise file names (course.toml ``files`` and ``extra_files``) the
    student's files are mapped to. Returns submissions sorted by student.
    """
    if layout not in LAYOUTS:
        raise LayoutError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    limits = limits or Limits()
    source, workdir = Path(source), Path(workdir)
    stack: list[zipfile.ZipFile] = []
    try:
        entries = _entries(source, limits, stack)
        grouper = {"dir": group_dir, "moodle": group_moodle, "canvas": group_canvas, "ilias": group_ilias}[layout]
        groups: list[Group] = grouper(entries)
        mark_duplicates(groups)
        return [_collect_one(g, workdir, set(expected_files), limits, layout)
                for g in sorted(groups, key=lambda g: g.student_id)]
    finally:
        for zf in stack:
            zf.close()


def _collect_one(g: Group, workdir: Path, expected: set[str], limits: Limits, layout: str) -> Submission:
    """One student's Submission; whatever goes wrong while reading it is that student's error only."""
    files_dir = workdir / g.student_id / "files"
    try:
        error, fp, notes = collect(g, files_dir, expected, limits, fuzzy=(layout == "canvas"))
    except Exception as exc:  # noqa: BLE001 - no single upload may stop the class
        log.warning("reading the submission of %s failed", g.student_id, exc_info=True)
        shutil.rmtree(files_dir, ignore_errors=True)
        files_dir.mkdir(parents=True, exist_ok=True)
        error, notes = f"{UNREADABLE} ({type(exc).__name__}: {str(exc)[:200]})", []
        try:
            fp = fingerprint(g, None)
        except Exception:  # noqa: BLE001
            fp = hashlib.sha256(g.key.encode("utf-8", "surrogatepass")).hexdigest()
    return Submission(g.student_id, g.name, dict(g.lms), files_dir, error, fp, notes)
