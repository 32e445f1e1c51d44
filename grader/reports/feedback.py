"""The student's report: ``feedback.html`` (self-contained, phone-friendly) and ``feedback.md``.

Rendered from one result dict (docs/results.md). Headings are German, test
names and messages stay as the tests wrote them. Failing tests come first
with their messages and printed output, then points per exercise and part,
then manual parts that are still pending.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from ._common import error_reason, fmt_points, is_error, write_text_atomic

_TEMPLATES = Path(__file__).with_name("templates")


def _env(html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pts"] = lambda v: fmt_points(v, decimal=",")
    env.filters["fence"] = md_fence
    env.filters["code"] = md_code
    return env


def md_code(text: str) -> str:
    """Inline Markdown code span that survives backticks and newlines in ``text``."""
    text = " ".join(str(text).split())
    ticks = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def md_fence(text: str) -> str:
    """A Markdown code fence longer than any backtick run in ``text`` (no injection)."""
    return "`" * max(3, _longest_backtick_run(str(text)) + 1)


def _longest_backtick_run(text: str) -> int:
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return longest


def _when(created: str | None) -> str:
    if not created:
        return ""
    try:
        stamp = datetime.fromisoformat(created)
    except ValueError:
        return str(created)
    text = stamp.strftime("%d.%m.%Y, %H:%M")
    if stamp.utcoffset() is not None:
        offset = stamp.strftime("%z")
        text += " UTC" if offset == "+0000" else f" (UTC{offset[:3]}:{offset[3:]})"
    return text


HEAD_LINES = 14


def _split_long(message: str) -> dict[str, str]:
    """Long messages show their first lines, the rest folds away (phones!)."""
    lines = message.splitlines()
    if len(lines) <= HEAD_LINES + 4:
        return {"message_head": message, "message_tail": ""}
    return {"message_head": "\n".join(lines[:HEAD_LINES]), "message_tail": "\n".join(lines[HEAD_LINES:])}


def _exercise_problem(ex: dict) -> str | None:
    status = str(ex.get("status", "graded"))
    if status == "graded":
        return None
    kind, _, why = status.partition(":")
    why = why.strip()
    if kind == "missing":
        return f"Datei fehlt: {why}" if why else "Datei fehlt"
    if kind == "error":
        return f"Fehler: {why}" if why else "Fehler"
    return status


def build_view(result: dict) -> dict[str, Any]:
    """Turn a result dict into what the templates show (pure, for tests too)."""
    failing: list[dict] = []
    pending: list[dict] = []
    exercises: list[dict] = []
    for ex in result.get("exercises", []) or []:
        parts = []
        for part in ex.get("parts", []) or []:
            tests = list(part.get("tests", []) or [])
            failed = [t for t in tests if t.get("status") != "passed"]
            passed = [t for t in tests if t.get("status") == "passed"]
            view = {
                "id": part.get("id", ""),
                "title": part.get("title", ""),
                "score": part.get("score", 0.0),
                "max_score": part.get("max_score", 0.0),
                "hidden_max_score": part.get("hidden_max_score"),
                "manual": bool(part.get("manual")),
                "pending": bool(part.get("pending")),
                "comment": part.get("comment", "") or "",
                "n_tests": len(tests),
                "n_passed": len(passed),
                "failed": failed,
                "passed": passed,
            }
            parts.append(view)
            for test in failed:
                failing.append({
                    "exercise": ex.get("id", ""),
                    "exercise_title": ex.get("title", ""),
                    "part": view["id"],
                    "part_title": view["title"],
                    "name": test.get("name") or test.get("id", ""),
                    "hidden": bool(test.get("hidden")),
                    "score": test.get("score", 0.0),
                    "max_score": test.get("max_score", 0.0),
                    "message": (test.get("message") or "").rstrip(),
                    **_split_long((test.get("message") or "").rstrip()),
                    "output": (test.get("output") or "").rstrip(),
                })
            if view["manual"] and view["pending"]:
                pending.append({"exercise": ex.get("id", ""), "exercise_title": ex.get("title", ""),
                                "part": view["id"], "title": view["title"],
                                "max_score": view["max_score"]})
        exercises.append({
            "id": ex.get("id", ""),
            "title": ex.get("title", ""),
            "problem": _exercise_problem(ex),
            "score": ex.get("score", 0.0),
            "max_score": ex.get("max_score", 0.0),
            "parts": parts,
        })
    score = float(result.get("score", 0.0) or 0.0)
    max_score = float(result.get("max_score", 0.0) or 0.0)
    percent = 0 if max_score <= 0 else max(0, min(100, round(100 * score / max_score)))
    return {
        "student": result.get("student"),
        "created": _when(result.get("created")),
        "suite": result.get("suite", "public"),
        "error": error_reason(result["status"]) if is_error(result) else None,
        "score": score,
        "max_score": max_score,
        "percent": percent,
        "pending_points": sum(float(p["max_score"] or 0) for p in pending),
        "failing": failing,
        "problems": [{"exercise": e["id"], "title": e["title"], "problem": e["problem"]}
                     for e in exercises if e["problem"]],
        "pending": pending,
        "exercises": exercises,
        "tool_version": result.get("tool_version", ""),
    }


def render_html(result: dict) -> str:
    """feedback.html as a string (self-contained: inline CSS, no scripts, no external files)."""
    return _env(html=True).get_template("feedback.html.j2").render(v=build_view(result))


def render_md(result: dict) -> str:
    """feedback.md as a string."""
    return _env(html=False).get_template("feedback.md.j2").render(v=build_view(result))


def write(result: dict, outdir: Path) -> None:
    """Write ``outdir/feedback.html`` and ``outdir/feedback.md`` atomically."""
    outdir = Path(outdir)
    write_text_atomic(outdir / "feedback.html", render_html(result))
    write_text_atomic(outdir / "feedback.md", render_md(result))
