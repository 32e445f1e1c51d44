"""Helpers shared by the report writers: atomic writes, number formatting and
making student-controlled text safe to show.

Everything a submission controls (printed output, exception texts, file and
folder names) can hold bytes that are harmless in a Python string but not in
a report: terminal escape sequences, bidi overrides that reorder a line, lone
surrogates that UTF-8 cannot encode, cells that a spreadsheet runs as a
formula. :func:`clean_text` / :func:`clean_data` (for Markdown, HTML, JSON
and CSV) and :func:`csv_text` (formula cells) handle them in one place.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable, Sequence


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
    """Write UTF-8 text atomically (no BOM, Unix line endings as given).

    Any str can be written: a lone surrogate (which UTF-8 cannot encode) is
    written as its escape ``\\udxxx`` instead of failing the whole report.
    """
    write_bytes_atomic(path, text.encode("utf-8", "backslashreplace"))


# -- student-controlled text ---------------------------------------------------------------------

# ESC sequences: CSI (colours, cursor moves), OSC (titles, hyperlinks; ended by BEL or ST),
# DCS/SOS/PM/APC strings, and the two-byte forms.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]"
                      r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"
                      r"|\x1b[ -/]*[0-~]?"
                      r"|\x9b[0-?]*[ -/]*[@-~]")
# C0 controls except \t and \n, DEL, C1 controls, bidi embeddings/overrides/isolates, lone surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escaped(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean_text(text: str) -> str:
    """``text`` safe for Markdown, HTML, JSON and CSV, with nothing of its content hidden.

    Terminal escape sequences (colours, cursor moves, titles) are removed;
    CR LF and lone CR become LF (progress bars stay readable); every other
    control character (C0 except tab and newline, DEL, C1), the bidi controls
    U+202A-U+202E and U+2066-U+2069, and lone surrogates are shown escaped
    (``\\x07``, ``\\u202e``, ``\\udc80``), so a reader sees that they were there.
    """
    text = str(text)
    if not _UNSAFE.search(text):
        return text
    text = _ESCAPES.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE.sub(_escaped, text)


def clean_data(value: Any) -> Any:
    """A copy of a JSON-like value (a result dict) with :func:`clean_text` applied to every string.

    Keys are cleaned too; numbers, booleans and None are kept as they are.
    """
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_data(v) for v in value]
    return value


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


def fmt_points(value: float | int | None, decimal: str = ".") -> str:
    """Points without trailing zeros: 4.0 -> "4", 0.25 -> "0.25" ("0,25" for decimal=",")."""
    if value is None:
        return ""
    text = f"{float(value):.4f}".rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace(".", decimal)


def points_text(value: float | int, up_to: bool = False) -> str:
    """"1 Punkt", "2 Punkte", "0,5 Punkte", "bis zu 1 Punkt" in the course's language (plural by value)."""
    from grader.i18n import t

    number = fmt_points(value, decimal=t("fmt.decimal"))
    return t("report.up_to_points" if up_to else "report.points", n=1 if float(value) == 1 else 2, n_text=number)


def fmt_fixed(value: float | int | None, digits: int = 2, decimal: str = ".") -> str:
    """Points with a fixed number of decimals, as Moodle's ``format_float`` writes them."""
    if value is None:
        return ""
    return f"{float(value):.{digits}f}".replace(".", decimal)


def is_error(result: dict) -> bool:
    """True when nothing of the submission could be graded (status ``error: ...``)."""
    return str(result.get("status", "")).startswith("error")


#: The reasons `grade batch` itself gives for an error row (English for staff in grades.csv and
#: grading.json) and what students read instead in feedback, results.json and the Moodle comment.
BATCH_REASONS_DE = {
    "grading took longer than the time limit":
        "die Bewertung dauerte länger als das Zeitlimit für eine Abgabe",
    "the grader failed on this submission":
        "der Grader ist an dieser Abgabe gescheitert (nicht Ihr Fehler); die Tutor*innen prüfen das",
    "the submission could not be read":
        "die Abgabe konnte nicht gelesen werden; bitte prüfen Sie Ihre Dateien und geben Sie erneut ab",
    "the reports could not be written for this submission":
        "der Bericht zu dieser Abgabe konnte nicht erstellt werden (nicht Ihr Fehler); die Tutor*innen prüfen das",
    "not graded":
        "nicht bewertet (der Bewertungslauf wurde unterbrochen)",
}


def error_reason(status: str) -> str:
    """``"error: the zip file is corrupt"`` -> ``"the zip file is corrupt"``.

    The batch's own reasons (:data:`BATCH_REASONS_DE`, matched by their start)
    come back in German: this text is what the student reads.
    """
    head, sep, tail = str(status).partition(":")
    reason = tail.strip() if sep else str(status)
    for english, german in BATCH_REASONS_DE.items():
        if reason.startswith(english):
            return german
    return reason
