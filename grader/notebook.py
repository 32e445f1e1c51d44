"""Extract a student's exercise code from a release notebook (.ipynb).

Convention: a code cell whose metadata ``tags`` contain
``exercise-file:<filename>`` (e.g. ``exercise-file:ex41_conv.py``) belongs to
that file; all such cells are concatenated in notebook order, each preceded
by a comment naming its cell so error line numbers can be traced back.
IPython syntax (``%magic``, ``!shell``) inside tagged cells is commented out
because the graded file is plain Python. Untagged cells (experiments, plots)
are ignored. Malformed notebooks give a NotebookError with a message a
student can act on, in the course's language (grader/i18n ``nb.*``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from grader.i18n import t

TAG_PREFIX = "exercise-file:"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\.py$")
#: Deepest nesting of arrays/objects accepted in a notebook or manifest. Jupyter's own files
#: nest about 6 levels; json.loads and nbformat's validator recurse once (or more) per level.
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


class NotebookError(ValueError):
    """The notebook cannot be used for grading; the message is for the student (course language)."""


def json_depth(text: str, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep arrays and objects nest in ``text`` (JSON); a result above ``limit`` means "too deep".

    Counting stops at ``limit + 1``; text with at most ``limit`` brackets returns ``limit``.

    Linear and without recursion: strings are skipped by a regular expression,
    then brackets are counted. Meant to run before ``json.loads``, which
    recurses once per level and raises RecursionError on deep input.
    """
    if text.count("[") + text.count("{") <= limit:
        return limit                      # cannot be deeper (the common case, and quick)
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest


def load_json(text: str, label: str, limit: int = MAX_JSON_DEPTH) -> object:
    """``json.loads`` that cannot recurse without bound: ValueError for input nested deeper than ``limit``."""
    if json_depth(text, limit) > limit:
        raise ValueError(f"{label} nests arrays/objects more than {limit} levels deep")
    try:
        return json.loads(text)
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise ValueError(f"{label} nests arrays/objects too deeply") from None


def _load(data: bytes, label: str) -> nbformat.NotebookNode:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookError(t("nb.not_utf8", label=label)) from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise NotebookError(t("nb.too_deep", label=label, limit=MAX_JSON_DEPTH))
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(t("nb.not_json", label=label, detail=exc.msg, line=exc.lineno)) from None
    except (RecursionError, ValueError) as exc:  # e.g. numbers too long to convert
        raise NotebookError(t("nb.unreadable", label=label, error=type(exc).__name__)) from None
    if not isinstance(raw, dict) or "cells" not in raw or "nbformat" not in raw:
        raise NotebookError(t("nb.not_notebook", label=label))
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several validation/reader error types
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        # nbformat's own (English) text stays verbatim behind its exception name, as Python shows it.
        raise NotebookError(t("nb.invalid", label=label, error=type(exc).__name__, detail=first)) from None
    return nb


def _pythonise(source: str) -> str:
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            lines.append(line[: len(line) - len(stripped)] + "# (IPython, not run when grading) " + stripped)
        else:
            lines.append(line)
    return "\n".join(lines)


def extract_files(source: Path | bytes, label: str | None = None) -> dict[str, str]:
    """Return ``{filename: code}`` for every ``exercise-file:`` tag in the notebook.

    ``source`` is a path or the notebook's bytes; ``label`` names it in messages.
    Raises NotebookError when the notebook is invalid or has no tagged cells.
    """
    if isinstance(source, (str, Path)):
        label = label or Path(source).name
        data = Path(source).read_bytes()
    else:
        label = label or t("nb.the_notebook")
        data = bytes(source)
    nb = _load(data, label)
    try:
        chunks = _tagged_chunks(nb, label)
    except (AttributeError, TypeError, KeyError) as exc:  # a field of the wrong type that validation let through
        raise NotebookError(t("nb.bad_cells", label=label, error=type(exc).__name__)) from None
    if not chunks:
        raise NotebookError(t("nb.no_tagged_cells", label=label, prefix=TAG_PREFIX))
    return {name: "\n".join(parts) for name, parts in chunks.items()}


def _tagged_chunks(nb: nbformat.NotebookNode, label: str) -> dict[str, list[str]]:
    """``{filename: [code of each tagged cell]}`` in notebook order."""
    chunks: dict[str, list[str]] = {}
    for index, cell in enumerate(nb.cells, start=1):
        tags = cell.get("metadata", {}).get("tags", []) or []
        targets = [t[len(TAG_PREFIX):].strip() for t in tags if isinstance(t, str) and t.startswith(TAG_PREFIX)]
        for target in targets:
            if not _SAFE_NAME.match(target):
                raise NotebookError(t("nb.bad_tag", label=label, index=index, tag=TAG_PREFIX + target))
            if cell.cell_type != "code":
                raise NotebookError(t("nb.not_code_cell", label=label, index=index, tag=TAG_PREFIX + target,
                                      kind=cell.cell_type))
            chunks.setdefault(target, []).append(f"# --- {label}, cell {index} ---\n{_pythonise(cell.source)}\n")
    return chunks


def write_files(notebook: Path, outdir: Path) -> list[Path]:
    """Extract the notebook's exercise files into ``outdir``; returns the written paths."""
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, code in extract_files(notebook).items():
        target = outdir / name
        target.write_text(code, encoding="utf-8")
        written.append(target)
    return written


# -- free-text answers -----------------------------------------------------------------------------

#: Tag of a Markdown cell holding the answer to a manual part: ``answer:<exercise>.<part>``.
ANSWER_PREFIX = "answer:"
#: The text an answer cell has in the release; an unchanged cell is no answer.
ANSWER_PLACEHOLDER = "*(Ihre Antwort hier.)*"


def extract_answers(source: Path | bytes, label: str | None = None) -> dict[str, str]:
    """Return ``{"<exercise>.<part>": text}`` for every answered ``answer:`` cell of a notebook.

    Several cells with the same tag are joined; cells still holding the
    release's placeholder count as unanswered and are left out.
    """
    if isinstance(source, (str, Path)):
        label = label or Path(source).name
        data = Path(source).read_bytes()
    else:
        label = label or t("nb.the_notebook")
        data = bytes(source)
    nb = _load(data, label)
    answers: dict[str, list[str]] = {}
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", []) or []
        for tag in tags:
            if isinstance(tag, str) and tag.startswith(ANSWER_PREFIX):
                text = str(cell.source).strip()
                if text and text != ANSWER_PLACEHOLDER:
                    answers.setdefault(tag[len(ANSWER_PREFIX):].strip(), []).append(text)
    return {ref: "\n\n".join(texts) for ref, texts in answers.items()}
