"""What `grade ex41` prints: the parts table first, then the findings grouped like a tutor's.

Plain text that reads well in any terminal; colour only where click finds a
tty. The findings (grader/feedback/findings.py) show one entry per distinct
cause, "not implemented" as one line per part and an import failure once, so
a stub's report fits on one screen.
"""
from __future__ import annotations

import textwrap

import click

from grader.i18n import t
from grader.feedback import findings as F
from grader.feedback.text import fmt_points
from grader.trusted.results import is_graded, passed as test_passed

#: Lines of one finding's message (and of printed output) shown in the terminal.
MESSAGE_LINES = 14
OUTPUT_LINES = 12


def _pts(x: float) -> str:
    return fmt_points(x, decimal=t("fmt.decimal"))


def render(result: dict, color: bool | None = None) -> str:
    """The whole report as one string (click.style codes are stripped when not a tty)."""
    lines: list[str] = []
    public = result.get("suite") == "public"
    views = F.views(result)
    parts = [p for ex in result["exercises"] for p in ex["parts"]]
    widths = (min(max([len(p["title"]) for p in parts] + [10]), 52),
              max([len(p["id"]) for p in parts] + [len(t("report.sum")), 8]))
    for ex, view in zip(result["exercises"], views):
        lines += _overview(ex, view, public, widths)
    if any(v.has_findings or v.problem for v in views):
        lines.append(click.style(t("report.findings"), bold=True))
        for view in views:
            lines += findings_text(view, styled=True)
        lines.append("")
    pending = sum(float(p.get("max_score", 0) or 0) for p in parts if p.get("manual") and p.get("pending"))
    total = t("report.total", score=_pts(result["score"]), max_score=_pts(result["max_score"] - pending))
    if pending:
        total += t("report.total_manual", points=_pts(pending), n=pending)
    if public:
        total += t("report.total_public")
    lines.append(click.style(total, bold=True))
    notes = (result.get("isolation") or {}).get("notes") or []
    if notes:  # the notes themselves are technical (staff, `--json`); students get what they mean
        lines.append(t("report.sandbox_note", n=len(notes)))
    return "\n".join(lines)


def _overview(ex: dict, view: F.ExerciseView, public: bool, widths: tuple[int, int]) -> list[str]:
    """The exercise's parts table: points, OK/FEHLER and passed tests per part (columns shared by all)."""
    lines = [click.style(f"{ex['id']}  {ex['title']}", bold=True)]
    if view.problem:
        lines.append(f"  {view.problem}")
    width, id_width = widths
    for part in ex["parts"]:
        title = part["title"] if len(part["title"]) <= width else part["title"][: width - 1] + "…"
        points = f"{_pts(part['score']):>5} / {_pts(part['max_score']):<5}"
        if part["manual"]:
            status = click.style(t("report.open"), fg="yellow") + "  " + t("report.manual_note")
        else:
            passed = sum(test_passed(x) for x in part["tests"])
            total = len(part["tests"])
            ok = passed == total and total > 0
            status = click.style(t("report.pass") if ok else t("report.fail"), fg="green" if ok else "red",
                                 bold=True)
            status += f"  {passed}/{total} Tests"
            if public and part.get("hidden_max_score"):
                status += "  " + t("report.hidden_extra", points=_pts(part["hidden_max_score"]))
        lines.append(f"  {part['id']:<{id_width}} {title:<{width}}  {points}  {status}")
    lines.append(f"  {t('report.sum'):<{id_width}} {'':<{width}}  {_pts(ex['score']):>5} / {_pts(ex['max_score']):<5}")
    lines.append("")
    return lines


def findings_text(view: F.ExerciseView, styled: bool = False, message_lines: int = MESSAGE_LINES) -> list[str]:
    """The findings of one exercise as plain lines (the terminal and Gradescope's summary use it)."""
    style = click.style if styled else (lambda text, **_: text)
    lines: list[str] = []
    for finding in view.shared:
        lines.append(style(f"- {view.id}: " + finding.summary(), fg="red"))
        lines += _finding_body(finding, message_lines)
    for part in view.parts:
        if not part.has_findings:
            continue
        head = f"- {view.id} {part.id}"
        if part.not_implemented and not part.findings:
            lines.append(style(f"{head}: ", fg="red") + t("report.not_implemented",
                                                           tests=t("report.tests", n=len(part.not_implemented.tests))))
            continue
        lines.append(style(f"{head}: {part.title}", fg="red"))
        if part.not_implemented:
            lines.append("    " + t("report.not_implemented", tests=t("report.tests", n=len(part.not_implemented.tests))))
        for finding in part.findings:
            lines.append("    " + finding.summary())
            lines += _finding_body(finding, message_lines)
        if part.root_cause:
            lines.append("    " + part.root_cause_hint())
    return lines


def _finding_body(finding: F.Finding, message_lines: int) -> list[str]:
    lines = [textwrap.indent(F.clip(finding.message or t("report.no_message"), message_lines), "      ")]
    if finding.output:
        lines.append("      " + t("report.your_output"))
        lines.append(textwrap.indent(F.clip(finding.output, OUTPUT_LINES), "        | "))
    return lines


def all_passed(result: dict) -> bool:
    """True when every automated test passed (manual parts do not count)."""
    return all(test_passed(t) for ex in result["exercises"] for p in ex["parts"] for t in p["tests"]) \
        and all(is_graded(ex) for ex in result["exercises"])
