"""The student's report: ``feedback.html`` (self-contained, phone-friendly) and ``feedback.md``.

Rendered from one result dict (docs/results.md), in the course's language
(grader/i18n; headings of the templates are German). The overview (points
per exercise and part) comes first, then the findings grouped like a tutor's
(grader/feedback/findings.py: one finding per cause, "not implemented" once
per part, an import failure once per exercise), then manual parts that are
still pending.
"""

from __future__ import annotations

import functools

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from grader.i18n import t

from grader.feedback import findings as F
from grader.feedback.text import clean_data, fmt_points, points_text
from grader.trusted.results import error_reason, is_error, passed
from grader.staff.reports.files import write_text_atomic

_TEMPLATES = Path(__file__).with_name("templates")


@functools.lru_cache(maxsize=None)
def _env(html: bool) -> jinja2.Environment:
    """One environment per kind, so each template is compiled once per process, not once per student
    (its filters look the language up when they run)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pts"] = lambda v: fmt_points(v, decimal=t("fmt.decimal"))
    env.globals["tr"] = t  # every sentence of the templates comes from the catalogue (grader/i18n)
    env.filters["fence"] = md_fence
    env.filters["code"] = md_code
    env.filters["points"] = points_text
    env.filters["up_to_points"] = lambda v: points_text(v, up_to=True)
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


def _finding(finding: F.Finding) -> dict[str, Any]:
    message = finding.message
    return {"summary": finding.summary(), "message": message, **_split_long(message), "output": finding.output,
            "hidden": all(x.get("hidden") for x in finding.tests), "parts": finding.parts,
            "names": [x.get("name") or x.get("id", "") for x in finding.tests]}


def build_view(result: dict) -> dict[str, Any]:
    """Turn a result dict into what the templates show (pure, for tests too)."""
    result = clean_data(result)  # no control characters, escape sequences or lone surrogates (grader/feedback/text.py)
    pending: list[dict] = []
    exercises: list[dict] = []
    n_findings = 0
    for ex, view in zip(result.get("exercises", []) or [], F.views(result)):
        parts = []
        for raw, part in zip(ex.get("parts", []) or [], view.parts):
            tests = list(raw.get("tests", []) or [])
            entry = {
                "id": part.id, "title": part.title, "score": part.score, "max_score": part.max_score,
                "hidden_max_score": raw.get("hidden_max_score"), "manual": part.manual, "pending": part.pending,
                "comment": raw.get("comment", "") or "", "n_tests": part.n_tests, "n_passed": part.n_passed,
                "passed": [x for x in tests if passed(x)],
                "not_implemented": (t("report.not_implemented",
                                        tests=t("report.tests", n=len(part.not_implemented.tests)))
                                    if part.not_implemented else ""),
                "findings": [_finding(f) for f in part.findings],
                "root_cause": part.root_cause_hint() if part.findings else "",
            }
            n_findings += len(part.findings) + bool(part.not_implemented)
            parts.append(entry)
            if part.manual and part.pending:
                pending.append({"exercise": view.id, "exercise_title": view.title, "part": part.id,
                                "title": part.title, "max_score": part.max_score})
        shared = [_finding(f) for f in view.shared]
        n_findings += len(shared)
        exercises.append({
            "id": view.id, "title": view.title, "problem": view.problem, "score": view.score,
            "max_score": view.max_score, "parts": parts, "shared": shared,
            "has_findings": bool(shared) or any(p["findings"] or p["not_implemented"] for p in parts),
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
        "n_findings": n_findings,
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
