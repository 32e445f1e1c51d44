"""Who submitted what: grouping the files of a SUBMISSIONS source per student.

* ``dir``: one folder or ``<id>.zip`` per student at the top level.
* ``moodle``: "Download all submissions" names (docs/lms.md §2.2):
  ``Full Name_<participant id>_assignsubmission_file/...`` (Moodle 4.1+),
  ``..._assignsubmission_file_/...`` (before 4.1) and flat files
  ``..._assignsubmission_file_<filename>`` (folders option off).
* ``canvas``: "Download Submissions" names (docs/lms.md §3.2):
  ``lastfirst_[LATE_]<user id>_<attachment id>_<filename>`` and
  ``[LATE_]anon_<anonymous id>_<attachment id>_<filename>``.
* ``ilias``: exercise "Download all submissions" (docs/lms.md §9):
  ``<title>/<Abgaben|Submissions>/[Team <id>/]<Lastname>_<Firstname>_<login>_<usr_id>/...``.

A wrapper folder around everything (someone unzipped and re-zipped the
download) is skipped. Entries that match no student are ignored and logged.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from grader.i18n import t

from .safety import Entry

log = logging.getLogger(__name__)


@dataclass
class Group:
    """One student's raw entries before extraction."""

    key: str                                  # how the source named them (folder, prefix, user id)
    student_id: str
    name: str | None = None
    lms: dict = field(default_factory=dict)
    entries: list[tuple[str, Entry]] = field(default_factory=list)   # (path inside the submission, entry)
    error: str | None = None


def safe_id(raw: str) -> str:
    """A folder name safe on every OS: letters, digits, ``. _ -``; never empty, '.', or '..'.

    Never starts or ends with ``. _ -``: ids the grader derives end in ``_``
    (see :func:`folder_id`), so they cannot collide with one made here.
    """
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip("._-")[:100].rstrip("._-")
    return text or "student"


#: Names of what `grade batch` writes at the top of OUT (compared case-insensitively), and the
#: names Windows reserves for devices: no student folder may take one of them.
RESERVED = frozenset({
    "grades.csv", "summary.html", "moodle_grading_worksheet.csv", "moodle_feedback_files.zip",
    "canvas_gradebook.csv", "batch.log", "ilias_multi_feedback.zip", "ilias_status.csv",
    "parts.csv", "mistakes.csv", "similarity.html", "shard.json",
    "con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10)),
})


def is_reserved(student: str) -> bool:
    """True for a report name, or a Windows device name with any extension (``nul.txt``)."""
    lower = student.lower()
    return lower in RESERVED or lower.split(".", 1)[0] in RESERVED


def folder_id(raw: str) -> str:
    """The id (OUT folder name) of a student named ``raw`` by the download; deterministic.

    ``raw`` itself when it is already safe (:func:`safe_id`) and no report
    name; otherwise a derived id ending in ``_``, which no plain id can: the
    safe part plus a hash of ``raw`` when characters were replaced (so
    ``Jörg`` and ``Jürg`` stay two students), or ``grades.csv_`` for a
    reserved name. Reruns give the same id, so a batch stays resumable.
    """
    safe = safe_id(raw)
    if safe != raw:
        digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        return f"{safe}-{digest}_"
    if is_reserved(safe):
        return safe + "_"
    return safe


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
            g = groups.setdefault(key, Group(key, folder_id(top), lms={"source": key}))
            g.entries.append((rest, e))
        elif top.lower().endswith(".zip"):
            stem = top[:-4]
            g = groups.setdefault(top, Group(top, folder_id(stem), lms={"source": top}))
            g.entries.append((top, e))
        else:
            log.warning("ignoring %s: not inside a student folder or zip", e.path)
    for g in groups.values():
        original = g.key.rstrip("/")
        if original.lower().endswith(".zip"):
            original = original[:-4]
        if original != g.student_id:
            g.lms["original_id"] = original
    return list(groups.values())


# --- moodle ----------------------------------------------------------------

# Moodle builds every name as clean_filename("<full name>_<participant id>_assignsubmission_<plugin>...").
# The full name is the student's own (Moodle turns its "_" into spaces, but a hand-made or other
# export may not); only the "_<id>_assignsubmission_<plugin>" after it is Moodle's. In a folder
# name that suffix ends the name, so the LAST such suffix is the one (the greedy name group).
MOODLE_FOLDER = re.compile(r"^(?P<prefix>(?P<name>.*)_(?P<pid>[0-9]+))_(?P<subtype>assignsubmission)_"
                           r"(?P<plugin>[a-z0-9]+)(?P<trail>_?)$", re.DOTALL)
# In a flat file name the student's file name follows, so the suffix may occur more than once.
_MOODLE_FLAT_AT = re.compile(r"_(?=(?P<pid>[0-9]+)_assignsubmission_(?P<plugin>[a-z0-9]+)_(?P<file>.+)$)",
                             re.DOTALL)


def moodle_candidates(path: str) -> list[dict]:
    """Every reading of an entry path of Moodle's download (empty if it is not one).

    A folder entry has one; a flat file name has one per
    ``_<id>_assignsubmission_<plugin>_`` in it (full name and file name can
    both contain that text), in order of position.
    """
    top, sep, rest = path.partition("/")
    if sep:
        m = MOODLE_FOLDER.match(top)
        if m:
            return [{"prefix": m["prefix"], "fullname": m["name"], "participant_id": m["pid"],
                     "plugin": m["plugin"], "folder_style": "old" if m["trail"] else "4.1", "file": rest}]
        return []
    found = []
    for m in _MOODLE_FLAT_AT.finditer(top):
        name = top[: m.start()]
        found.append({"prefix": f"{name}_{m['pid']}", "fullname": name, "participant_id": m["pid"],
                      "plugin": m["plugin"], "folder_style": "flat", "file": m["file"]})
    return found


def parse_moodle(path: str) -> dict | None:
    """Parse an entry path of Moodle's download; None if it is not one (flat names: the last reading)."""
    found = moodle_candidates(path)
    return found[-1] if found else None


def _choose_moodle(readings: list[list[dict]]) -> list[dict]:
    """One reading per entry, such that no full name claims another participant's id.

    Unambiguous entries (folders, flat names with one reading) fix which
    prefix ("<full name>_<id>") belongs to which id. An ambiguous flat name
    takes, in this order: the last reading whose prefix is already known;
    else the last reading whose id no other prefix holds; else its last
    reading. So "Evil_1000001_assignsubmission_file_ E_1000002_..." stays
    1000002 when 1000001 submitted, and a file named like a Moodle entry
    stays with its uploader when the uploader has other files.
    """
    owner: dict[str, str] = {}        # participant id -> prefix
    known: set[str] = set()
    for options in readings:
        if len(options) == 1:
            owner.setdefault(options[0]["participant_id"], options[0]["prefix"])
            known.add(options[0]["prefix"])
    chosen = []
    for options in readings:
        if len(options) > 1:
            pick = ([o for o in options if o["prefix"] in known]
                    or [o for o in options if owner.get(o["participant_id"], o["prefix"]) == o["prefix"]]
                    or options)[-1]
            owner.setdefault(pick["participant_id"], pick["prefix"])
            known.add(pick["prefix"])
            chosen.append(pick)
        else:
            chosen.append(options[0] if options else None)
    return chosen


def group_moodle(entries: list[Entry]) -> list[Group]:
    entries = _attributable(_strip_wrapper(_attributable(entries), lambda p: parse_moodle(p) is not None))
    readings = []
    for e in entries:
        try:
            readings.append(moodle_candidates(e.path))
        except Exception:  # noqa: BLE001 - one odd name costs only its own entry
            log.warning("ignoring %r: its name could not be parsed", e.path)
            readings.append([])
    groups: dict[str, Group] = {}
    for e, info in zip(entries, _choose_moodle(readings)):
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

_CANVAS_ANON = re.compile(r"^(?:(?P<late>LATE|late)_)?anon_(?!(?:LATE|late)_)(?P<anon>[A-Za-z0-9]+)_(?P<att>[0-9]+)_"
                          r"(?P<file>.+)$", re.DOTALL)
_CANVAS_TEXT = re.compile(r"^(?:(?P<name>.*?)_)??(?:(?P<late>LATE|late)_)?(?P<id>anon_[A-Za-z0-9]+|[0-9]+)_"
                          r"(?P<kind>text|link)\.html$", re.DOTALL)
_DIGITS = re.compile(r"[0-9]+")


def parse_canvas(path: str, anonymous: bool | None = None) -> dict | None:
    """Parse one file name of Canvas' download; None if it is not one.

    As Canvas' own re-upload code does, the first two all-digit ``_`` tokens
    are the user id and attachment id (Canvas strips digit tokens from names).
    ``anon_<id>_...`` is an anonymous download's name when ``<id>`` has a
    letter (and is not ``LATE``) or ``anonymous`` is True (the whole download
    looks anonymous); otherwise it is a student whose sortable name reads
    "anon" (On An), e.g. ``anon_13_35_x.py`` or ``anon_LATE_13_35_x.py``.
    """
    if "/" in path:
        return None
    m = _CANVAS_ANON.match(path)
    if m and (anonymous or not _DIGITS.fullmatch(m["anon"])):
        return {"user_id": "anon_" + m["anon"], "anonymous": True, "late": bool(m["late"]),
                "attachment_id": m["att"], "file": m["file"], "name": None}
    tokens = path.split("_")
    for i in range(len(tokens) - 2):
        if _DIGITS.fullmatch(tokens[i]) and _DIGITS.fullmatch(tokens[i + 1]):
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


def _canvas_anonymous(entries: list[Entry]) -> bool:
    """True when every upload is named ``[LATE_]anon_...``: Canvas anonymises a whole download or nothing."""
    uploads = [e.path for e in entries if not _CANVAS_TEXT.match(e.path)]
    return bool(uploads) and all(_CANVAS_ANON.match(p) for p in uploads)


def group_canvas(entries: list[Entry]) -> list[Group]:
    entries = _attributable(_strip_wrapper(_attributable(entries), lambda p: parse_canvas(p) is not None))
    anonymous = _canvas_anonymous(entries)
    groups: dict[tuple[str, str | None], Group] = {}
    for e in entries:
        try:
            info = parse_canvas(e.path, anonymous)
        except Exception:  # noqa: BLE001 - one odd name costs only its own entry
            info = None
        if info is None:
            log.warning("ignoring %s: not named like a Canvas submission", e.path)
            continue
        key = (info["user_id"], info["name"])
        g = groups.get(key)
        if g is None:
            g = groups[key] = Group(f"{info['name'] + '_' if info['name'] else ''}{info['user_id']}",
                                    folder_id(info["user_id"]), info["name"],
                                    lms={"user_id": info["user_id"], "late": False,
                                         "anonymous": info["anonymous"], "attachment_ids": []})
        g.lms["late"] = g.lms["late"] or info["late"]
        if info["file"] is None:
            g.lms.setdefault("other", []).append(info.get("kind"))
            continue
        g.lms["attachment_ids"].append(info["attachment_id"])
        g.entries.append((info["file"], e))
    return list(groups.values())


# --- ilias -----------------------------------------------------------------

# ILIAS core (Modules/Exercise, docs/lms.md §9): "Download all submissions" gives
# <title>/<Abgaben|Submissions>/[Team <id>/]<Lastname>_<Firstname>_<login>_<usr_id>/<files>, every
# folder name passed through ilFileUtils::getASCIIFilename. Only the usr_id (the last "_" part) is
# authoritative: names and logins may contain "_" themselves.
ILIAS_SUBMISSION_DIRS = frozenset({"abgaben", "submissions"})
_ILIAS_TEAM = re.compile(r"^Team[ _](?P<team>[0-9]+)$")
# A late upload is renamed "<lng exc_late_submission> - <file>" (then ASCII-fied).
_ILIAS_LATE = re.compile(r"^(?:Late Submission|Verspaetete Abgabe|Verspätete Abgabe) - (?P<file>.+)$", re.IGNORECASE)
_ILIAS_UMLAUTS = {"Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}


def ilias_ascii(text: str) -> str:
    """ILIAS' ``ilFileUtils::getASCIIFilename``: how ILIAS names every download folder and file.

    German umlauts and ß are spelled out (Ä -> Ae, ß -> ss); a character with
    an HTML 4 entity becomes the entity's first letter (é -> e, & -> a, as
    ``htmlentities`` + ``&(.)[^;]*;`` do); any other non-ASCII character
    becomes one ``_`` per UTF-8 byte; ``\\ / : * ? " < > |`` become ``_``.
    """
    from html.entities import codepoint2name

    for src, tgt in _ILIAS_UMLAUTS.items():
        text = text.replace(src, tgt)
    out = []
    for ch in text:
        code = ord(ch)
        if ch in "&<>" or (code > 0x7f and code in codepoint2name):
            out.append(codepoint2name[code][0])
        elif code >= 0x7f:
            out.append("_" * len(ch.encode("utf-8", "surrogatepass")))
        else:
            out.append(ch)
    return re.sub(r'[:\\/*?"<>|]', "_", "".join(out))


def parse_ilias_folder(name: str) -> dict | None:
    """``Mueller_Joerg_jmueller_4711`` -> usr_id 4711, login, lastname, firstname; None without a usr_id.

    The usr_id is the last ``_`` part and must be ASCII digits (what ILIAS'
    multi-feedback upload reads back). Names may hold ``_``, so the split of
    the rest is a best guess: lastname first part, login last, firstname between.
    """
    rest, _, usr_id = name.rpartition("_")
    if not (usr_id.isascii() and usr_id.isdigit()):
        return None
    parts = rest.split("_") if rest else []
    lastname = parts[0] if parts else ""
    login = parts[-1] if len(parts) >= 2 else ""
    firstname = "_".join(parts[1:-1]) if len(parts) >= 3 else ""
    return {"usr_id": usr_id, "login": login, "lastname": lastname, "firstname": firstname, "folder": name}


def _ilias_split(path: str) -> tuple[str | None, str, str] | None:
    """(team folder or None, user folder, path inside it) of an entry; None for a file outside any folder.

    The title folder and the ``Abgaben``/``Submissions`` folder are optional:
    a download unpacked and re-zipped at any of these levels reads the same.
    """
    parts = path.split("/")
    for depth in (1, 2):
        if len(parts) > depth and parts[depth - 1].lower() in ILIAS_SUBMISSION_DIRS:
            parts = parts[depth:]
            break
    team = None
    if len(parts) > 2 and _ILIAS_TEAM.match(parts[0]):
        team, parts = parts[0], parts[1:]
    if len(parts) < 2:
        return None
    return team, parts[0], "/".join(parts[1:])


def _ilias_matches(path: str) -> bool:
    split = _ilias_split(path)
    return split is not None and parse_ilias_folder(split[1]) is not None


def group_ilias(entries: list[Entry]) -> list[Group]:
    """One group per user folder of an ILIAS download; a folder without a usr_id is an error row."""
    entries = _attributable(_strip_wrapper(_attributable(entries), _ilias_matches))
    groups: dict[str, Group] = {}
    for e in entries:
        split = _ilias_split(e.path)
        if split is None:
            log.warning("ignoring %s: not inside an ILIAS user folder", e.path)
            continue
        team, folder, inner = split
        key = f"{team}/{folder}" if team else folder
        g = groups.get(key)
        if g is None:
            info = parse_ilias_folder(folder)
            if info is None:
                g = groups[key] = Group(key, folder_id(folder), None, lms={"folder": folder, "team": team})
                g.error = t("intake.ilias_folder", folder=repr(folder))
            else:
                name = " ".join(p for p in (info["firstname"], info["lastname"]) if p) or None
                g = groups[key] = Group(key, folder_id(info["usr_id"]), name,
                                        lms={**info, "team": team, "late": False})
        late = _ILIAS_LATE.match(PurePosixPath(inner).name)
        if late:
            g.lms["late"] = True
            inner = str(PurePosixPath(inner).with_name(late["file"]))
        g.entries.append((inner, e))
    return list(groups.values())


def mark_duplicates(groups: list[Group]) -> None:
    """Students whose ids collide (case-insensitively) all get an error and distinct ids."""
    by_id: dict[str, list[Group]] = {}
    for g in groups:
        by_id.setdefault(g.student_id.lower(), []).append(g)
    for same in by_id.values():
        if len(same) < 2:
            continue
        sources = ", ".join(g.key for g in same)
        for n, g in enumerate(same, start=1):
            g.error = t("intake.duplicate", id=same[0].student_id, sources=sources)
            if n > 1:
                g.student_id = f"{g.student_id}__dup{n}_"     # derived ids end in "_": no plain id can
