"""The table `grade ex41` prints: parts, points, then every failure with its message.

Plain text that reads well in any terminal; colour only where click finds a tty.
"""
from __future__ import annotations

import textwrap

import click


def _pts(x: float) -> str:
    return f"{x:g}" if float(x).is_integer() else f"{x:.2f}".rstrip("0")


def render(result: dict, color: bool | None = None) -> str:
    """The whole report as one string (click.style codes are stripped when not a tty)."""
    lines: list[str] = []
    public = result.get("suite") == "public"
    for ex in result["exercises"]:
        lines.append(click.style(f"{ex['id']}  {ex['title']}", bold=True))
        if ex.get("status", "graded") != "graded":
            lines.append(f"  {ex['status']}")
        width = max([len(p["title"]) for p in ex["parts"]] + [10])
        width = min(width, 52)
        for part in ex["parts"]:
            title = part["title"] if len(part["title"]) <= width else part["title"][: width - 1] + "…"
            points = f"{_pts(part['score']):>5} / {_pts(part['max_score']):<5}"
            if part["manual"]:
                status = click.style("offen", fg="yellow") + "  (wird von Tutor*innen bewertet)"
            else:
                passed = sum(t["status"] == "passed" for t in part["tests"])
                total = len(part["tests"])
                ok = passed == total and total > 0
                status = click.style("PASS" if ok else "FAIL", fg="green" if ok else "red", bold=True)
                status += f"  {passed}/{total} Tests"
                if public and part.get("hidden_max_score"):
                    status += f"  (+{_pts(part['hidden_max_score'])} in verdeckten Tests)"
            lines.append(f"  {part['id']:<8} {title:<{width}}  {points}  {status}")
        lines.append(f"  {'Summe':<8} {'':<{width}}  {_pts(ex['score']):>5} / {_pts(ex['max_score']):<5}")
        lines.append("")
    failures = [(ex, part, t) for ex in result["exercises"] for part in ex["parts"] for t in part["tests"]
                if t["status"] != "passed"]
    if failures:
        lines.append(click.style("Fehlgeschlagene Tests", bold=True))
        for ex, part, test in failures:
            lines.append(click.style(f"- {ex['id']} {part['id']}: {test['name']}", fg="red"))
            lines.append(textwrap.indent(test["message"].rstrip() or "(keine Meldung)", "    "))
            if test.get("output"):
                out = test["output"].rstrip()
                if len(out) > 1500:
                    out = out[:1500] + "\n[...]"
                lines.append("    Ausgabe deines Codes:")
                lines.append(textwrap.indent(out, "      | "))
        lines.append("")
    total = f"Gesamt: {_pts(result['score'])} / {_pts(result['max_score'])} Punkte"
    if public:
        total += " (öffentliche Tests; verdeckte Tests kommen bei der Abgabe dazu)"
    lines.append(click.style(total, bold=True))
    notes = (result.get("isolation") or {}).get("notes") or []
    if notes:
        lines.append("Hinweis zur Sandbox: " + "; ".join(notes))
    return "\n".join(lines)


def all_passed(result: dict) -> bool:
    """True when every automated test passed (manual parts do not count)."""
    return all(t["status"] == "passed" for ex in result["exercises"] for p in ex["parts"] for t in p["tests"]) \
        and all(ex.get("status", "graded") == "graded" for ex in result["exercises"])
