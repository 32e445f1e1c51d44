"""Checks on a student's source file before it is run: present, text, allowed imports.

These run in the trusted process on untrusted text, so they only parse (never
execute) and cap the size first.
"""
from __future__ import annotations

import ast
from pathlib import Path

MAX_SOURCE_BYTES = 2 * 2**20


def check_file(path: Path, numpy_only: bool, forbidden: tuple[str, ...]) -> str | None:
    """Return a student-readable reason why ``path`` cannot be graded, or None."""
    name = path.name
    if not path.is_file():
        return f"{name} was not submitted (no file with this exact name was found)."
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        return f"{name} is {size // 1024} KiB; source files over {MAX_SOURCE_BYTES // 2**20} MiB are not graded."
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (f"{name} is not UTF-8 text (byte {exc.start} cannot be decoded). Save the file as UTF-8 "
                "in your editor.")
    if "\x00" in text:
        return f"{name} contains NUL bytes: it is not a Python source file."
    try:
        tree = ast.parse(text, filename=name)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" if exc.lineno else "somewhere"
        return f"{name} has a syntax error in {where}: {exc.msg}. Run it once with python to see it."
    except (RecursionError, MemoryError, ValueError):
        return f"{name} is nested too deeply to be parsed."
    if numpy_only:
        found = forbidden_imports(tree, forbidden)
        if found:
            pkg, line = found[0]
            return (f"{name} uses {pkg} (line {line}). This exercise must be solved with NumPy only "
                    f"(no {', '.join(sorted(set(forbidden) - {'jaxlib', 'keras'}))}).")
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
