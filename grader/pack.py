"""`grade pack`: the student's exercise files in one zip, with a manifest.

The manifest lists every file with its SHA-256 and the tool version, so staff
can tell which local check a submission went through. The zip is
reproducible: fixed timestamps and sorted entries.

Free-text answers live in the release notebooks' answer cells
(grader/notebook.py); the notebook of every exercise with manual parts is
packed under ``notebooks/``. A zip that lacks a required file is refused
(unless the student says so explicitly), because a silently missing file
(e.g. ex41's trained weights) costs points only after the deadline.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from grader import __version__
from grader.course import Course
from grader.notebook import NotebookError, extract_answers

FIXED_TIME = (2020, 1, 1, 0, 0, 0)
NOTEBOOK_FOLDER = "notebooks"


class PackError(Exception):
    """The zip cannot be built as asked; the message is for the student (German)."""


def required_files(course: Course) -> list[str]:
    """Every file the course expects in a submission (code and extra files such as weights)."""
    return sorted(course.submission_files(course.exercise_ids()))


def student_files(course: Course, folder: Path) -> list[Path]:
    """The exercise files (and extra files such as weights) present in ``folder``."""
    return [folder / n for n in required_files(course) if (folder / n).is_file()]


def answer_notebooks(course: Course, folder: Path) -> list[Path]:
    """The notebooks holding free-text answers (exercises with manual parts), where present."""
    paths = (folder / NOTEBOOK_FOLDER / f"{ex.id}.ipynb" for ex in course.exercises if ex.manual_parts)
    return [p for p in paths if p.is_file()]


def answered_parts(course: Course, folder: Path) -> dict[str, int]:
    """``{"ex40.shakespeare": characters}`` for every answered free-text part."""
    answered: dict[str, int] = {}
    for path in answer_notebooks(course, folder):
        try:
            answered.update({ref: len(text) for ref, text in extract_answers(path).items()})
        except NotebookError as exc:
            raise PackError(f"{path.name} lässt sich nicht lesen: {exc}") from None
    return answered


def pack(course: Course, folder: Path, out: Path, allow_missing: bool = False) -> dict:
    """Write ``out`` and return the manifest; PackError if a required file is missing."""
    missing = [n for n in required_files(course) if not (folder / n).is_file()]
    if missing and not allow_missing:
        raise PackError("Diese Dateien fehlen in exercises/, die Abgabe wäre unvollständig: "
                        + ", ".join(missing) + ". Legen Sie sie an (siehe Aufgabentext) oder packen Sie "
                        "bewusst ohne sie mit `grade pack --allow-missing`.")
    files = student_files(course, folder)
    notebooks = answer_notebooks(course, folder)
    manifest = {
        "tool": "nn-grader",
        "tool_version": __version__,
        "files": {p.name: _sha256(p) for p in files},
        "notebooks": {f"{NOTEBOOK_FOLDER}/{p.name}": _sha256(p) for p in notebooks},
        "answers": answered_parts(course, folder),
        "missing": missing,
    }
    entries = {p.name: p.read_bytes() for p in files}
    entries.update({f"{NOTEBOOK_FOLDER}/{p.name}": p.read_bytes() for p in notebooks})
    entries["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[name])
    tmp.replace(out)
    return manifest


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
