"""Who submitted what: grouping the files of a SUBMISSIONS source per student.

* ``dir``: one folder or ``<id>.zip`` per student at the top level.
* ``moodle``: "Download all submissions" names (LMS.md §2.2):
  ``Full Name_<participant id>_assignsubmission_file/...`` (Moodle 4.1+),
  ``..._assignsubmission_file_/...`` (before 4.1) and flat files
  ``..._assignsubmission_file_<filename>`` (folders option off).
* ``canvas``: "Download Submissions" names (LMS.md §3.2):
  ``lastfirst_[LATE_]<user id>_<attachment id>_<filename>`` and
  ``[LATE_]anon_<anonymous id>_<attachment id>_<filename>``.

A wrapper folder around everything (someone unzipped and re-zipped the
download) is skipped. Entries that match no student are ignored and logged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from .safety import Entry

log = logging.getLogger(__name__)


@dataclass
class Group:
    """One student's raw entries before extraction."""

    key: str                                  # how the source named them (folder, prefix, user id)
    student: str
    name: str | None = None
    lms: dict = field(default_factory=dict)
    entries: list[tuple[str, Entry]] = field(default_factory=list)   # (path inside the submission, entry)
    error: str | None = None


def safe_id(raw: str) -> str:
    """A folder name safe on every OS: letters, digits, ``. _ -``; never empty, '.', or '..'."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip("._-")[:100]
    return text or "student"


_JUNK_PARTS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__", ".git", ".idea", ".vscode"}
_JUNK_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def is_junk(path: str) -> bool:
    """OS and editor litter that is never part of a submission."""
    parts = PurePosixPath(path).parts
    return (any(p in _JUNK_PARTS for p in parts) or parts[-1] in _JUNK_FILES
            or parts[-1].startswith("._") or parts[-1].startswith("~$"))


def _attributable(entries: list[Entry]) -> list[Entry]:
    """Drop junk and entries no student can own (absolute, or starting with ``..``): never extracted."""
    kept = []
    for e in entries:
        top = e.path.replace("\\", "/").split("/", 1)[0]
        if e.problem and (top in ("", ".", "..") or top.endswith(":")):
            log.warning("ignoring unsafe entry %r: %s", e.path, e.problem)
        elif not is_junk(e.path):
            kept.append(e)
    return kept


def _strip_wrapper(entries: list[Entry], matches) -> list[Entry]:
    """Drop one common top folder if nothing matches at the root but would below it."""
    if not entries or any(matches(e.path) for e in entries):
        return entries
    tops = {e.path.split("/", 1)[0] for e in entries}
    if len(tops) == 1 and all("/" in e.path for e in entries):
        stripped = [Entry(e.path.split("/", 1)[1], e.size, e.read, e.problem) for e in entries]
        if any(matches(e.path) for e in stripped):
            return stripped
    return entries


# --- dir -------------------------------------------------------------------

def group_dir(entries: list[Entry]) -> list[Group]:
    entries = _attributable(entries)
    tops = {e.path.split("/", 1)[0] for e in entries}
    if len(tops) == 1 and all("/" in e.path for e in entries):
        inner = {e.path.split("/")[1] for e in entries}
        inner_units = {p for p in inner if p.lower().endswith(".zip") or any(
            e.path.split("/")[1] == p and e.path.count("/") >= 2 for e in entries)}
        if len(inner_units) >= 2 and inner_units == inner:
            entries = _attributable([Entry(e.path.split("/", 1)[1], e.size, e.read, e.problem) for e in entries])
    groups: dict[str, Group] = {}
    for e in entries:
        top, sep, rest = e.path.partition("/")
        if sep:
            key = top + "/"
            g = groups.setdefault(key, Group(key, safe_id(top), lms={"source": key}))
            g.entries.append((rest, e))
        elif top.lower().endswith(".zip"):
            stem = top[:-4]
            g = groups.setdefault(top, Group(top, safe_id(stem), lms={"source": top}))
            g.entries.append((top, e))
        else:
            log.warning("ignoring %s: not inside a student folder or zip", e.path)
    for g in groups.values():
        original = g.key.rstrip("/")
        if original.lower().endswith(".zip"):
            original = original[:-4]
        if original != g.student:
            g.lms["original_id"] = original
    return list(groups.values())


# --- moodle ----------------------------------------------------------------

MOODLE_FOLDER = re.compile(r"^(?P<prefix>(?P<name>.*?)_(?P<pid>\d+))_(?P<subtype>assignsubmission)_"
                           r"(?P<plugin>[a-z0-9]+)(?P<trail>_?)$")
MOODLE_FLAT = re.compile(r"^(?P<prefix>(?P<name>.*?)_(?P<pid>\d+))_(?P<subtype>assignsubmission)_"
                         r"(?P<plugin>[a-z0-9]+)_(?P<file>.+)$")


def parse_moodle(path: str) -> dict | None:
    """Parse an entry path of Moodle's download; None if it is not one."""
    top, sep, rest = path.partition("/")
    if sep:
        m = MOODLE_FOLDER.match(top)
        if m:
            return {"prefix": m["prefix"], "fullname": m["name"], "participant_id": m["pid"],
                    "plugin": m["plugin"], "folder_style": "old" if m["trail"] else "4.1", "file": rest}
        return None
    m = MOODLE_FLAT.match(top)
    if m:
        return {"prefix": m["prefix"], "fullname": m["name"], "participant_id": m["pid"],
                "plugin": m["plugin"], "folder_style": "flat", "file": m["file"]}
    return None


def group_moodle(entries: list[Entry]) -> list[Group]:
    entries = _attributable(_strip_wrapper(_attributable(entries), lambda p: parse_moodle(p) is not None))
    groups: dict[str, Group] = {}
    for e in entries:
        info = parse_moodle(e.path)
        if info is None:
            log.warning("ignoring %s: not named like a Moodle submission", e.path)
            continue
        key = info["prefix"]
        g = groups.get(key)
        if g is None:
            g = groups[key] = Group(key, info["participant_id"], info["fullname"] or None, lms={
                "participant_id": info["participant_id"], "fullname": info["fullname"],
                "prefix": info["prefix"], "folder_style": info["folder_style"], "plugins": []})
        if info["plugin"] not in g.lms["plugins"]:
            g.lms["plugins"].append(info["plugin"])
        if info["plugin"] != "file":
            continue      # online text etc. is not code
        g.lms["folder_style"] = info["folder_style"]
        g.entries.append((info["file"], e))
    return list(groups.values())


# --- canvas ----------------------------------------------------------------

_CANVAS_ANON = re.compile(r"^(?:(?P<late>LATE|late)_)?anon_(?P<anon>[A-Za-z0-9]+)_(?P<att>\d+)_(?P<file>.+)$")
_CANVAS_TEXT = re.compile(r"^(?:(?P<name>.*?)_)??(?:(?P<late>LATE|late)_)?(?P<id>anon_[A-Za-z0-9]+|\d+)_"
                          r"(?P<kind>text|link)\.html$")


def parse_canvas(path: str) -> dict | None:
    """Parse one file name of Canvas' download; None if it is not one.

    As Canvas' own re-upload code does, the first two all-digit ``_`` tokens
    are the user id and attachment id (Canvas strips digit tokens from names).
    """
    if "/" in path:
        return None
    m = _CANVAS_ANON.match(path)
    if m:
        return {"user_id": "anon_" + m["anon"], "anonymous": True, "late": bool(m["late"]),
                "attachment_id": m["att"], "file": m["file"], "name": None}
    tokens = path.split("_")
    for i in range(len(tokens) - 2):
        if tokens[i].isdigit() and tokens[i + 1].isdigit():
            before = tokens[:i]
            late = bool(before) and before[-1].lower() == "late"
            if late:
                before = before[:-1]
            return {"user_id": tokens[i], "anonymous": False, "late": late, "attachment_id": tokens[i + 1],
                    "file": "_".join(tokens[i + 2:]), "name": "_".join(before) or None}
    m = _CANVAS_TEXT.match(path)
    if m:
        uid = m["id"]
        return {"user_id": uid, "anonymous": uid.startswith("anon_"), "late": bool(m["late"]),
                "attachment_id": None, "file": None, "kind": m["kind"], "name": m["name"] or None}
    return None


def group_canvas(entries: list[Entry]) -> list[Group]:
    entries = _attributable(_strip_wrapper(_attributable(entries), lambda p: parse_canvas(p) is not None))
    groups: dict[tuple[str, str | None], Group] = {}
    for e in entries:
        info = parse_canvas(e.path)
        if info is None:
            log.warning("ignoring %s: not named like a Canvas submission", e.path)
            continue
        key = (info["user_id"], info["name"])
        g = groups.get(key)
        if g is None:
            g = groups[key] = Group(f"{info['name'] + '_' if info['name'] else ''}{info['user_id']}",
                                    safe_id(info["user_id"]), info["name"],
                                    lms={"user_id": info["user_id"], "late": False,
                                         "anonymous": info["anonymous"], "attachment_ids": []})
        g.lms["late"] = g.lms["late"] or info["late"]
        if info["file"] is None:
            g.lms.setdefault("other", []).append(info.get("kind"))
            continue
        g.lms["attachment_ids"].append(info["attachment_id"])
        g.entries.append((info["file"], e))
    return list(groups.values())


def mark_duplicates(groups: list[Group]) -> None:
    """Students whose ids collide (case-insensitively) all get an error and distinct ids."""
    by_id: dict[str, list[Group]] = {}
    for g in groups:
        by_id.setdefault(g.student.lower(), []).append(g)
    for same in by_id.values():
        if len(same) < 2:
            continue
        sources = ", ".join(g.key for g in same)
        for n, g in enumerate(same, start=1):
            g.error = (f"more than one submission for the id {same[0].student} ({sources}); "
                       "they were not graded, remove all but one")
            if n > 1:
                g.student = f"{g.student}__dup{n}"
