"""Helpers shared by the report writers: atomic writes and number formatting."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from typing import Iterable, Sequence


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder + rename.

    A crash or kill mid-write leaves either the old file or the new one,
    never a truncated report.
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


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 text atomically (no BOM, Unix line endings as given)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def csv_text(rows: Iterable[Sequence[object]], *, quote_all: bool = False,
             delimiter: str = ",", lineterminator: str = "\n") -> str:
    """Render rows as CSV text (None becomes an empty cell)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=lineterminator,
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return buf.getvalue()


def spreadsheet_safe(text: str) -> str:
    """Neutralise spreadsheet formula injection in a free-text cell.

    Cells starting with ``= + - @`` (or tab/CR) are run as formulas by Excel
    and LibreOffice; a leading apostrophe makes them plain text. Only used for
    cells whose content can come from students (ids, folder names).
    """
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def fmt_points(value: float | int | None, decimal: str = ".") -> str:
    """Points without trailing zeros: 4.0 -> "4", 0.25 -> "0.25" ("0,25" for decimal=",")."""
    if value is None:
        return ""
    text = f"{float(value):.4f}".rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace(".", decimal)


def fmt_fixed(value: float | int | None, digits: int = 2, decimal: str = ".") -> str:
    """Points with a fixed number of decimals, as Moodle's ``format_float`` writes them."""
    if value is None:
        return ""
    return f"{float(value):.{digits}f}".replace(".", decimal)


def is_error(result: dict) -> bool:
    """True when nothing of the submission could be graded (status ``error: ...``)."""
    return str(result.get("status", "")).startswith("error")


def error_reason(status: str) -> str:
    """``"error: the zip file is corrupt"`` -> ``"the zip file is corrupt"``."""
    head, sep, tail = str(status).partition(":")
    return tail.strip() if sep else str(status)
