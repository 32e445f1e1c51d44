"""``summary.html`` for course staff: how the whole batch did.

Score histogram and per-test pass rates as inline SVG (no scripts, no
external files), the tests students fail most (with their most common
message), and every submission or exercise that could not be graded.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import jinja2

from ._common import error_reason, fmt_points, is_error, write_text_atomic

_TEMPLATES = Path(__file__).with_name("templates")
BINS = 10


def _first_line(text: str, limit: int = 160) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def build_view(results: list[dict]) -> dict[str, Any]:
    """Aggregate the results into what the template shows (pure, for tests too)."""
    graded = [r for r in results if not is_error(r)]
    errors = [{"student": r.get("student"), "what": "Abgabe", "status": error_reason(r.get("status", ""))}
              for r in results if is_error(r)]
    percents = []
    for r in graded:
        mx = float(r.get("max_score", 0) or 0)
        percents.append(100.0 * float(r.get("score", 0) or 0) / mx if mx > 0 else 0.0)

    hist = [0] * BINS
    for p in percents:
        hist[min(BINS - 1, max(0, int(p // (100 / BINS))))] += 1
    peak = max(hist) if any(hist) else 1
    bars = [{"label": f"{i * 10}–{(i + 1) * 10}" + ("%" if i == BINS - 1 else ""),
             "count": n, "height": round(150 * n / peak, 1)} for i, n in enumerate(hist)]

    # Per-test statistics, in first-seen order, grouped by exercise.
    stats: dict[tuple[str, str], dict] = {}
    messages: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for r in graded:
        for ex in r.get("exercises", []) or []:
            if ex.get("status", "graded") != "graded":
                errors.append({"student": r.get("student"), "what": f"Aufgabe {ex.get('id')}",
                               "status": ex.get("status")})
            for part in ex.get("parts", []) or []:
                for t in part.get("tests", []) or []:
                    key = (str(ex.get("id")), str(t.get("id") or t.get("name")))
                    s = stats.setdefault(key, {"exercise": key[0], "part": part.get("id"),
                                               "name": t.get("name") or t.get("id"), "hidden": bool(t.get("hidden")),
                                               "runs": 0, "passed": 0})
                    s["runs"] += 1
                    if t.get("status") == "passed":
                        s["passed"] += 1
                    else:
                        messages[key][_first_line(t.get("message", ""))] += 1
    per_exercise: dict[str, list[dict]] = {}
    for key, s in stats.items():
        s["rate"] = s["passed"] / s["runs"] if s["runs"] else 0.0
        s["failed"] = s["runs"] - s["passed"]
        common = messages[key].most_common(1)
        s["message"] = common[0][0] if common else ""
        per_exercise.setdefault(s["exercise"], []).append(s)
    charts = []
    for ex_id, rows in per_exercise.items():
        charts.append({"exercise": ex_id, "rows": rows, "height": 22 * len(rows) + 8})
    hardest = sorted((s for s in stats.values() if s["failed"]), key=lambda s: (-s["failed"], s["rate"], s["name"]))[:10]

    scores = [float(r.get("score", 0) or 0) for r in graded]
    return {
        "n": len(results),
        "n_graded": len(graded),
        "n_error": len([r for r in results if is_error(r)]),
        "mean": fmt_points(round(statistics.fmean(scores), 2), ",") if scores else "–",
        "median": fmt_points(round(statistics.median(scores), 2), ",") if scores else "–",
        "mean_percent": round(statistics.fmean(percents)) if percents else 0,
        "hist": bars,
        "charts": charts,
        "hardest": hardest,
        "errors": errors,
    }


def render(results: list[dict]) -> str:
    """summary.html as a string."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("summary.html.j2").render(v=build_view(results))


def write(results: list[dict], path: Path) -> None:
    """Write summary.html atomically."""
    write_text_atomic(Path(path), render(results))
