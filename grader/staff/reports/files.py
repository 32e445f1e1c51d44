"""How the project writes report files: atomically, and CSV cells that no spreadsheet runs.

Every CSV the staff pipeline writes goes through :func:`csv_text`, so no
report can carry a formula or a control character from student-controlled
text (spreadsheet formula injection).
"""

from __future__ import annotations

import contextlib
import csv
import glob
import io
import os
import re
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from grader.feedback.text import clean_text, fmt_points


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder + rename.

    A crash or kill mid-write leaves either the old file or the new one,
    never a truncated report. A SIGKILL leaves its temp file too: the next
    write of the same file removes it (one writer per file: a batch's
    reports, a student's record).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(OSError):  # not ours to judge: the file is written
            stale.unlink()


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 text atomically (no BOM, Unix line endings as given).

    Any str can be written: a lone surrogate (which UTF-8 cannot encode) is
    written as its escape ``\\udxxx`` instead of failing the whole report.
    """
    write_bytes_atomic(path, text.encode("utf-8", "backslashreplace"))


# A number as the project writes them (1, -0.5, 3,00, 1e-05): stays a number in a spreadsheet.
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?")


def spreadsheet_safe(text: str) -> str:
    """Neutralise spreadsheet formula injection in a text cell.

    Cells starting with ``= + - @`` (or tab/CR/LF) are run as formulas by Excel
    and LibreOffice; a leading apostrophe makes them plain text. Plain numbers
    (``-1``, ``-0,5``) and a lone ``-`` (Moodle's "no date") are kept, so the
    file still imports with its numbers as numbers.
    """
    if text and text[0] in "=+-@\t\r\n" and text != "-" and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_cell(cell: object) -> str:
    """One CSV cell: numbers as written, text cleaned (:func:`clean_text`) and formula-safe."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, (int, float)):
        return fmt_points(cell)
    return spreadsheet_safe(clean_text(str(cell)))


def csv_text(rows: Iterable[Sequence[object]], *, quote_all: bool = False,
             delimiter: str = ",", lineterminator: str = "\n") -> str:
    """Render rows as CSV text; every cell goes through :func:`csv_cell` (None becomes empty).

    This is the only way the project writes CSV, so no report can carry a
    formula or a control character from student-controlled text.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=lineterminator,
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return buf.getvalue()
