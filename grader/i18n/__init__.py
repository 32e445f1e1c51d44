"""Student-facing text of the engine, in the course's language.

Every sentence a student can read (check messages, sandbox errors, terminal,
feedback files, Gradescope output) is looked up here by key, so a course
switches language with one line in course.toml (``language = "de"``) and no
English sentence reaches a German course. Catalogues are plain dicts in
``de.py`` and ``en.py``; both must have the same keys (a test checks it).

An entry is either a format string or, for counts, a dict with the plural
forms ``{"one": ..., "other": ...}`` selected by the parameter ``n``.

Stdlib only: the sandbox imports this module too.
"""
from __future__ import annotations

import importlib
from typing import Any

DEFAULT_LANGUAGE = "de"
_language = DEFAULT_LANGUAGE
_catalogues: dict[str, dict[str, Any]] = {}


def set_language(language: str) -> None:
    """Select the catalogue for this process (the course's ``language``)."""
    global _language
    _language = language if language in available() else "en"


def language() -> str:
    return _language


def available() -> tuple[str, ...]:
    return ("de", "en")


def catalogue(lang: str | None = None) -> dict[str, Any]:
    lang = lang or _language
    if lang not in _catalogues:
        _catalogues[lang] = importlib.import_module(f"grader.i18n.{lang}").MESSAGES
    return _catalogues[lang]


def t(key: str, lang: str | None = None, **params: Any) -> str:
    """The message ``key`` in the current language, formatted with ``params``.

    A missing key falls back to English, then to the key itself, so a
    missing translation never crashes a grading (a test keeps both complete).
    """
    entry = catalogue(lang).get(key)
    if entry is None:
        entry = catalogue("en").get(key, key)
    if isinstance(entry, dict):
        n = params.get("n", 0)
        entry = entry["one"] if n == 1 else entry["other"]
    return entry.format(**params) if params else entry
