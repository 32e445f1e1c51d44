"""summary.html: histogram and pass rates as inline SVG, hardest tests, errors."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from grader.reports import summary

FIX = Path(__file__).parent / "fixtures" / "lms"
NAMES = ["full", "partial", "error", "pending", "hidden"]


def load(name: str) -> dict:
    return json.loads((FIX / "results" / f"{name}.json").read_text(encoding="utf-8"))


def test_view_numbers():
    v = summary.build_view([load(n) for n in NAMES])
    assert (v["n"], v["n_graded"], v["n_error"]) == (5, 4, 1)
    # percents: 100, 58.3, 66.7, 35.7 -> bins 9, 5, 6, 3
    assert [b["count"] for b in v["hist"]] == [0, 0, 0, 1, 0, 1, 1, 0, 0, 1]
    ex41 = {s["name"]: s for c in v["charts"] if c["exercise"] == "ex41" for s in c["rows"]}
    assert ex41["test_grad"]["runs"] == 2 and ex41["test_grad"]["rate"] == 0.5
    assert ex41["test_forward[shape0]"]["rate"] == 1.0
    assert v["hardest"][0]["failed"] == 1 and v["hardest"][0]["rate"] == 0.0   # 0/1 comes before 1/2
    assert {e["student"] for e in v["errors"]} == {"s1000003", "s1000005"}


def test_written_html_has_inline_svg(tmp_path):
    path = tmp_path / "summary.html"
    summary.write([load(n) for n in NAMES], path)
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html and "src=" not in html
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) == 1 + 4          # histogram + one chart per exercise with tests (not qlearning)
    for svg in svgs:
        ET.fromstring(svg)             # well-formed
    hist = ET.fromstring(svgs[0])
    heights = [float(r.get("height")) for r in hist.iter("{http://www.w3.org/2000/svg}rect")] or \
              [float(r.get("height")) for r in hist.iter("rect")]
    assert sorted(heights)[-1] == 150.0 and heights.count(0.0) == 6
    assert 'id="n-errors">1<' in html
    assert "the zip file is corrupt" in html and "qlearning.py not submitted" in html
    assert "flipped kernel" in html


def test_empty_batch(tmp_path):
    summary.write([], tmp_path / "s.html")
    assert 'id="n-submissions">0<' in (tmp_path / "s.html").read_text()
