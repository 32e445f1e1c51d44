"""Checks on a student's source file before it is run: present, text, allowed imports.

These run in the trusted process on untrusted text, so they only parse (never
execute) and cap the size first.
"""
from __future__ import annotations

import ast
import functools
from pathlib import Path

from grader import i18n
from grader.i18n import t

MAX_SOURCE_BYTES = 2 * 2**20


def check_file(path: Path, numpy_only: bool, forbidden: tuple[str, ...]) -> str | None:
    """Return a student-readable reason why ``path`` cannot be graded, or None."""
    name = path.name
    if not path.is_file():
        return t("static.missing", name=name)
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        return t("static.too_large", name=name, kib=size // 1024, mib=MAX_SOURCE_BYTES // 2**20)
    return _check_source(name, path.read_bytes(), numpy_only, tuple(forbidden), i18n.language())


@functools.lru_cache(maxsize=8)
def _check_source(name: str, raw: bytes, numpy_only: bool, forbidden: tuple[str, ...], lang: str) -> str | None:
    """check_file's verdict on the bytes ``raw`` (cached: each exercise's public and hidden sandbox ask for
    the same file, and parsing is most of the cost; ``lang`` keys the language of the message)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return t("static.not_utf8", name=name, pos=exc.start)
    if "\x00" in text:
        return t("static.nul", name=name)
    try:
        tree = ast.parse(text, filename=name)
    except SyntaxError as exc:
        if exc.lineno:
            return t("static.syntax", name=name, line=exc.lineno, msg=exc.msg)
        return t("static.syntax_nowhere", name=name, msg=exc.msg)
    except (RecursionError, MemoryError, ValueError):
        return t("static.too_deep", name=name)
    if numpy_only:
        found = forbidden_imports(tree, forbidden)
        if found:
            pkg, line = found[0]
            return t("static.forbidden", name=name, pkg=pkg, line=line,
                     banned=", ".join(sorted(set(forbidden) - {"jaxlib", "keras"})))
    return None


def forbidden_imports(tree: ast.AST, forbidden: tuple[str, ...]) -> list[tuple[str, int]]:
    """(package, line) for every import of a forbidden package, also via __import__/importlib."""
    hits: list[tuple[str, int]] = []
    banned = set(forbidden)

    def top(name: str | None) -> str:
        return (name or "").split(".")[0]

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            hits += [(top(a.name), node.lineno) for a in node.names if top(a.name) in banned]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and top(node.module) in banned:
            hits.append((top(node.module), node.lineno))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            arg = node.args[0].value
            if fname in ("__import__", "import_module") and isinstance(arg, str) and top(arg) in banned:
                hits.append((top(arg), node.lineno))
    return hits
