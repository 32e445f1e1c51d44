"""Reading untrusted folders and zip files without trusting their contents.

Every file of a submission arrives as an :class:`Entry` with a normalised
relative path and a reader that enforces the size cap while reading (the
sizes a zip header declares are not trusted). Entries that must never be
extracted carry a ``problem`` instead: absolute paths, ``..`` components
(zip-slip), symlinks, device files, FIFOs, encrypted entries, oversized
files, zip bombs (suspicious compression ratio). Nothing here writes to disk.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

from grader.i18n import t

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps for one student's submission (and the whole archive)."""

    max_file_bytes: int = 20 * MiB        # one file, after decompression
    max_total_bytes: int = 100 * MiB      # one student's files together
    max_entries: int = 2000               # files in one student's submission
    max_ratio: float = 200.0              # uncompressed / compressed, for files above ratio_min_bytes
    ratio_min_bytes: int = 1 * MiB
    max_archive_entries: int = 200_000    # the SUBMISSIONS zip as a whole
    max_archive_bytes: int = 20 * 1024 * MiB


class CorruptArchive(Exception):
    """A zip that cannot be read; the message is student-readable (course language, grader/i18n)."""


@dataclass
class Entry:
    """One file of an untrusted source: ``path`` is relative, '/'-separated, normalised.

    ``problem`` is a predicate in the course language (``intake.p_*``) that follows
    "the submission" or "the zip file X" in the student's reason.
    """

    path: str
    size: int
    read: Callable[[], bytes] = field(repr=False)
    problem: str | None = None

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name


def mb(n: int) -> str:
    return f"{n / MiB:.0f} MB" if n >= MiB else f"{n / 1024:.0f} KB"


def clean_path(raw: str) -> tuple[str, str | None]:
    """Normalise an archive member name; returns (path, problem or None)."""
    name = raw.replace("\\", "/")
    if "\x00" in name:
        return name.replace("\x00", "?"), t("intake.p_nul")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return name, t("intake.p_absolute", path=raw)
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return name, t("intake.p_outside", path=raw)
    if not parts:
        return name, t("intake.p_empty_name", path=repr(raw))
    return "/".join(parts), None


def _decode_name(info: zipfile.ZipInfo) -> str:
    """Zip names without the UTF-8 flag come decoded as cp437; many tools wrote UTF-8 anyway."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _capped_reader(opener: Callable[[], object], label: str, limits: Limits,
                   broken: str | None = None) -> Callable[[], bytes]:
    """A reader of one entry that stops after the size cap; ``broken`` is the reason if reading fails."""
    def read() -> bytes:
        try:
            with opener() as fh:  # type: ignore[attr-defined]
                data = fh.read(limits.max_file_bytes + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError,
                RuntimeError) as exc:
            raise CorruptArchive(broken or t("intake.zip_corrupt")) from exc
        if len(data) > limits.max_file_bytes:
            raise CorruptArchive(t("intake.file_too_large", file=label, limit=mb(limits.max_file_bytes)))
        return data
    return read


def zip_entries(zf: zipfile.ZipFile, limits: Limits, prefix: str = "") -> list[Entry]:
    """The files of an open zip as Entries (directories skipped), with problems marked."""
    entries = []
    for info in zf.infolist():
        raw = _decode_name(info)
        if raw.endswith(("/", "\\")):
            continue
        path, problem = clean_path(raw)
        mode = (info.external_attr >> 16) & 0xFFFF
        kind = stat.S_IFMT(mode)
        if problem is None and kind == stat.S_IFLNK:
            problem = t("intake.p_symlink", path=raw)
        elif problem is None and kind in (stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK):
            problem = t("intake.p_special", path=raw)
        elif problem is None and kind == stat.S_IFDIR:
            continue
        elif problem is None and info.flag_bits & 0x1:
            problem = t("intake.p_password", path=raw)
        elif problem is None and info.file_size > limits.max_file_bytes:
            problem = t("intake.p_too_large", path=raw, limit=mb(limits.max_file_bytes))
        elif (problem is None and info.file_size > limits.ratio_min_bytes
              and info.file_size > limits.max_ratio * max(1, info.compress_size)):
            problem = t("intake.p_bomb", path=raw)
        label = PurePosixPath(path).name
        entries.append(Entry(prefix + path, info.file_size,
                             _capped_reader(lambda info=info: zf.open(info), label, limits), problem))
    return entries


def _open_nofollow(path: Path):
    """Open for reading without following a symlink swapped in after the check."""
    return os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)), "rb")


def folder_entries(root: Path, limits: Limits, prefix: str = "") -> list[Entry]:
    """The files below ``root`` as Entries; symlinks and special files are marked, never followed."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for d in list(dirnames):
            if (base / d).is_symlink():
                rel = (base / d).relative_to(root).as_posix()
                entries.append(Entry(prefix + rel, 0, lambda: b"", t("intake.p_symlink", path=rel)))
                dirnames.remove(d)
        dirnames.sort()
        for f in sorted(filenames):
            full = base / f
            rel = full.relative_to(root).as_posix()
            try:
                st = full.lstat()
            except OSError:                   # vanished or unreadable: that student's problem only
                entries.append(Entry(prefix + rel, 0, lambda: b"", t("intake.p_unreadable", path=rel)))
                continue
            problem = None
            if stat.S_ISLNK(st.st_mode):
                problem = t("intake.p_symlink", path=rel)
            elif not stat.S_ISREG(st.st_mode):
                problem = t("intake.p_special", path=rel)
            elif st.st_size > limits.max_file_bytes:
                problem = t("intake.p_too_large", path=rel, limit=mb(limits.max_file_bytes))
            entries.append(Entry(prefix + rel, st.st_size,
                                 _capped_reader(lambda full=full: _open_nofollow(full), f, limits,
                                                t("intake.file_unreadable", file=rel)), problem))
    return entries
