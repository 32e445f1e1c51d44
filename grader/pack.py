"""`grade pack`: the student's exercise files in one zip, with a manifest.

The manifest lists every file with its SHA-256 and the tool version, so staff
can tell which local check a submission went through. The zip is
reproducible: fixed timestamps and sorted entries.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from grader import __version__
from grader.course import Course

FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def student_files(course: Course, folder: Path) -> list[Path]:
    """The exercise files (and extra files such as weights) present in ``folder``."""
    names = sorted({n for ex in course.exercises for n in ex.files + ex.extra_files})
    return [folder / n for n in names if (folder / n).is_file()]


def pack(course: Course, folder: Path, out: Path) -> dict:
    """Write ``out`` and return the manifest."""
    files = student_files(course, folder)
    manifest = {
        "tool": "nn-grader",
        "tool_version": __version__,
        "files": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files},
    }
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            info = zipfile.ZipInfo(path.name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
        info = zipfile.ZipInfo("manifest.json", FIXED_TIME)
        zf.writestr(info, json.dumps(manifest, indent=1, sort_keys=True))
    tmp.replace(out)
    return manifest
