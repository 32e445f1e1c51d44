"""Text shared by every report a student or lecturer reads: number formatting and
making student-controlled text safe to show.

Everything a submission controls (printed output, exception texts, file and
folder names) can hold bytes that are harmless in a Python string but not in
a report: terminal escape sequences, bidi overrides that reorder a line, lone
surrogates that UTF-8 cannot encode, cells that a spreadsheet runs as a
formula. :func:`clean_text` / :func:`clean_data` (for Markdown, HTML, JSON
and CSV) handle them in one place; grader/staff/reports/files.py adds the
spreadsheet formula guard for CSV cells.
"""

from __future__ import annotations

import re
from typing import Any


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
