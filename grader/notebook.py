"""Extract a student's exercise code from a release notebook (.ipynb).

Convention: a code cell whose metadata ``tags`` contain
``exercise-file:<filename>`` (e.g. ``exercise-file:ex41_conv.py``) belongs to
that file; all such cells are concatenated in notebook order, each preceded
by a comment naming its cell so error line numbers can be traced back.
IPython syntax (``%magic``, ``!shell``) inside tagged cells is commented out
because the graded file is plain Python. Untagged cells (experiments, plots)
are ignored. Malformed notebooks give a NotebookError with a message a
student can act on.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

TAG_PREFIX = "exercise-file:"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\.py$")


class NotebookError(ValueError):
    """The notebook cannot be used for grading; the message is for the student."""


def _load(data: bytes, label: str) -> nbformat.NotebookNode:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookError(f"{label} is not a text file in UTF-8; upload the .ipynb saved by Jupyter") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{label} is not a valid notebook (not JSON: {exc.msg} at line {exc.lineno}); "
                            "was it saved completely?") from None
    if not isinstance(raw, dict) or "cells" not in raw or "nbformat" not in raw:
        raise NotebookError(f"{label} is JSON but not a Jupyter notebook (no 'cells'/'nbformat')")
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several validation/reader error types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotebookError(f"{label} is not a valid Jupyter notebook: {first}") from None
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
        label = label or "the notebook"
        data = bytes(source)
    nb = _load(data, label)
    chunks: dict[str, list[str]] = {}
    for index, cell in enumerate(nb.cells, start=1):
        tags = cell.get("metadata", {}).get("tags", []) or []
        targets = [t[len(TAG_PREFIX):].strip() for t in tags if isinstance(t, str) and t.startswith(TAG_PREFIX)]
        for target in targets:
            if not _SAFE_NAME.match(target):
                raise NotebookError(f"{label}, cell {index}: tag '{TAG_PREFIX}{target}' does not name a .py file")
            if cell.cell_type != "code":
                raise NotebookError(f"{label}, cell {index}: tagged '{TAG_PREFIX}{target}' but is a "
                                    f"{cell.cell_type} cell, not a code cell")
            chunks.setdefault(target, []).append(f"# --- {label}, cell {index} ---\n{_pythonise(cell.source)}\n")
    if not chunks:
        raise NotebookError(f"{label} has no cells tagged '{TAG_PREFIX}<file>'; use the notebook from the "
                            "release and keep your solution in its tagged cells")
    return {name: "\n".join(parts) for name, parts in chunks.items()}


def write_files(notebook: Path, outdir: Path) -> list[Path]:
    """Extract the notebook's exercise files into ``outdir``; returns the written paths."""
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, code in extract_files(notebook).items():
        target = outdir / name
        target.write_text(code, encoding="utf-8")
        written.append(target)
    return written
