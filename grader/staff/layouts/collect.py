"""Turning one student's raw entries into a folder of exercise files.

Steps: read every entry under the caps, open zips the student uploaded
(one level, e.g. a ``grade pack`` zip inside a Moodle submission), convert
tagged notebooks, map file names to the expected exercise file names,
check that source files are UTF-8, and write them flattened into
``files_dir``. Other ``.py`` files are kept too (students may import their
own helper modules). Anything wrong becomes the submission's ``error``.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.i18n import t
from grader.notebook import NotebookError, extract_files, load_json
from .naming import Group, is_junk
from .safety import CorruptArchive, Entry, Limits, mb, zip_entries


class SubmissionProblem(Exception):
    """Raised inside collection; the message (course language, grader/i18n) becomes ``Submission.error``."""


@dataclass
class _Candidate:
    target: str
    data: bytes
    origin: str
    rank: int       # 0 exact name, 1 renamed copy, 2 from a notebook, 3 guessed by name similarity


_DUP_SUFFIX = re.compile(r"^(?P<stem>.+?)(?:\s*\(\d+\)|-\d+)$")


def _normalise(name: str) -> str:
    """``Ex41_Conv-1.py`` / ``ex41_conv (2).py`` -> ``ex41_conv.py`` (LMS and browser renames)."""
    p = PurePosixPath(name)
    stem = p.stem
    m = _DUP_SUFFIX.match(stem)
    if m:
        stem = m["stem"]
    return (stem + p.suffix).lower()


def _tokens(stem: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", stem.lower()) if t and not t.isdigit()}


def _fuzzy_target(name: str, open_targets: list[str]) -> str | None:
    """A renamed upload (``conv.py``) -> the one expected file whose name contains all its words."""
    p = PurePosixPath(name)
    words = _tokens(_DUP_SUFFIX.sub(lambda m: m["stem"], p.stem))
    if not words:
        return None
    hits = [t for t in open_targets if PurePosixPath(t).suffix.lower() == p.suffix.lower()
            and words <= _tokens(PurePosixPath(t).stem)]
    return hits[0] if len(hits) == 1 else None


def _read_all(group: Group, limits: Limits) -> list[tuple[str, bytes]]:
    files: list[tuple[str, bytes]] = []
    total = 0

    def add(path: str, entry: Entry, inside: str = "") -> None:
        nonlocal total
        if entry.problem:
            subject = t("intake.zip_named", name=inside) if inside else t("intake.submission")
            raise SubmissionProblem(t("intake.entry_problem", subject=subject, problem=entry.problem))
        if len(files) >= limits.max_entries:
            raise SubmissionProblem(t("intake.too_many_files", n=limits.max_entries))
        try:
            data = entry.read()
        except CorruptArchive as exc:
            raise SubmissionProblem(str(exc)) from None
        total += len(data)
        if total > limits.max_total_bytes:
            raise SubmissionProblem(t("intake.too_large", limit=mb(limits.max_total_bytes)))
        files.append((path, data))

    for path, entry in group.entries:
        if is_junk(path):
            continue
        if path.lower().endswith(".zip"):
            if entry.problem:
                raise SubmissionProblem(t("intake.entry_problem", subject=t("intake.submission"), problem=entry.problem))
            try:
                blob = entry.read()
            except CorruptArchive as exc:
                raise SubmissionProblem(str(exc)) from None
            label = PurePosixPath(path).name
            try:
                inner = zipfile.ZipFile(io.BytesIO(blob))
                inner_entries = zip_entries(inner, limits, prefix=path + "/")
            except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
                raise SubmissionProblem(t("intake.zip_corrupt") if len(group.entries) == 1
                                        else t("intake.zip_named_corrupt", name=label)) from None
            for inner_entry in inner_entries:
                rel = inner_entry.path
                if is_junk(rel) or rel.lower().endswith(".zip"):
                    continue
                if inner_entry.problem:
                    raise SubmissionProblem(t("intake.entry_problem", subject=t("intake.zip_named", name=label),
                                               problem=inner_entry.problem))
                add(rel, inner_entry, label)
        else:
            add(path, entry)
    return files


def _candidates(files: list[tuple[str, bytes]], expected: set[str], fuzzy: bool,
                notes: list[str]) -> tuple[dict[str, _Candidate], list[str]]:
    exact_lower = {e.lower(): e for e in expected}
    chosen: dict[str, _Candidate] = {}
    notebook_errors: list[str] = []

    def offer(c: _Candidate) -> None:
        old = chosen.get(c.target)
        if old is None or c.rank < old.rank:
            chosen[c.target] = c
        elif c.rank == old.rank and c.data != old.data:
            raise SubmissionProblem(t("intake.two_versions", file=c.target, first=old.origin, second=c.origin))

    leftovers: list[tuple[str, bytes]] = []
    for path, data in files:
        name = PurePosixPath(path).name
        if name in expected:
            offer(_Candidate(name, data, path, 0))
        elif name.lower() in exact_lower:
            offer(_Candidate(exact_lower[name.lower()], data, path, 1))
        elif _normalise(name) in exact_lower:
            offer(_Candidate(exact_lower[_normalise(name)], data, path, 1))
        elif name.lower().endswith(".ipynb"):
            try:
                code = extract_files(data, label=name)
            except NotebookError as exc:
                notebook_errors.append(str(exc))
                continue
            for target, text in code.items():
                if target in expected:
                    offer(_Candidate(target, text.encode("utf-8"), f"{path} (notebook)", 2))
                else:
                    notes.append(f"{name} has cells for {target}, which is not an exercise file")
        else:
            leftovers.append((path, data))
    helpers: list[tuple[str, bytes]] = []
    for path, data in leftovers:
        name = PurePosixPath(path).name
        target = _fuzzy_target(name, sorted(expected - set(chosen))) if fuzzy else None
        if target:
            offer(_Candidate(target, data, path, 3))
            notes.append(f"{name} taken as {target}")
        elif name.endswith(".py"):
            helpers.append((path, data))
    # Helper modules: only .py files beside an exercise file (what its imports can see).
    folders = {str(PurePosixPath(c.origin).parent) for c in chosen.values() if c.rank <= 3}
    for path, data in helpers:
        name = PurePosixPath(path).name
        if name not in chosen and name != "__init__.py" and str(PurePosixPath(path).parent) in folders:
            chosen[name] = _Candidate(name, data, path, 4)
    return chosen, notebook_errors


def _check_manifests(files: list[tuple[str, bytes]], notes: list[str]) -> None:
    """``grade pack`` zips carry manifest.json with each file's sha256; note files that differ."""
    by_path = dict(files)
    for path, data in files:
        if PurePosixPath(path).name != "manifest.json":
            continue
        try:
            listed = load_json(data.decode("utf-8"), path).get("files", {})
        except (ValueError, AttributeError, UnicodeDecodeError, RecursionError):
            notes.append(f"{path} is not a readable file list (ignored)")
            continue
        folder = str(PurePosixPath(path).parent)
        for name, digest in (listed.items() if isinstance(listed, dict) else []):
            full = name if folder == "." else f"{folder}/{name}"
            if isinstance(name, str) and full in by_path and hashlib.sha256(by_path[full]).hexdigest() != digest:
                notes.append(f"{name} differs from the file list made by grade pack (edited after packing?)")


def _check_utf8(c: _Candidate) -> None:
    if not c.target.endswith(".py"):
        return
    try:
        c.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = c.data[: exc.start].count(b"\n") + 1
        raise SubmissionProblem(t("intake.not_utf8", file=c.target, byte=f"{c.data[exc.start]:02x}",
                                  line=line)) from None


def fingerprint(group: Group, files: list[tuple[str, bytes]] | None) -> str:
    """sha256 over the student's files (path + content hash), stable across runs."""
    h = hashlib.sha256()
    h.update(b"grader-submission-v1\0")
    if files is not None:
        for path, data in sorted(files):
            h.update(path.encode("utf-8", "surrogatepass") + b"\0" + hashlib.sha256(data).hexdigest().encode() + b"\n")
    else:
        for path, entry in sorted(group.entries, key=lambda pe: pe[0]):
            h.update(path.encode("utf-8", "surrogatepass") + b"\0" + str(entry.size).encode()
                     + b"\0" + (entry.problem or "").encode() + b"\n")
            try:
                if not entry.problem:
                    h.update(hashlib.sha256(entry.read()).hexdigest().encode())
            except CorruptArchive:
                h.update(b"unreadable")
    return h.hexdigest()


def collect(group: Group, files_dir: Path, expected: set[str], limits: Limits,
            fuzzy: bool = False) -> tuple[str | None, str, list[str]]:
    """Write ``group``'s exercise files to ``files_dir``; returns (error, fingerprint, notes)."""
    if files_dir.exists():
        shutil.rmtree(files_dir)
    files_dir.mkdir(parents=True)
    notes: list[str] = []
    files = None
    try:
        if group.error:
            raise SubmissionProblem(group.error)
        if not group.entries:
            other = group.lms.get("plugins") or group.lms.get("other")
            raise SubmissionProblem(t("intake.no_files") + (t("intake.only_online_text") if other else ""))
        files = _read_all(group, limits)
        _check_manifests(files, notes)
        chosen, notebook_errors = _candidates(files, expected, fuzzy, notes)
        found = [t for t in chosen if t in expected]
        if not found:
            if notebook_errors:
                raise SubmissionProblem(notebook_errors[0])
            wanted = sorted(expected)
            listing = ", ".join(sorted({PurePosixPath(p).name for p, _ in files})[:6]) or t("intake.nothing")
            if len(wanted) == 1:
                raise SubmissionProblem(t("intake.file_not_found", file=wanted[0], listing=listing))
            raise SubmissionProblem(t("intake.no_exercise_files", files=", ".join(wanted), listing=listing))
        for c in chosen.values():
            _check_utf8(c)
        for c in chosen.values():
            (files_dir / c.target).write_bytes(c.data)
        return None, fingerprint(group, files), notes
    except SubmissionProblem as exc:
        for child in files_dir.iterdir():
            child.unlink()
        return str(exc), fingerprint(group, files), notes
