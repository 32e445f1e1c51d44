"""summary.html for a lecturer, rendered from real gradings of corpus submissions.

A small class (ex39 and gan variants: the reference, named mistakes, the
untouched stub, a syntax error) plus an error row: the student table, the
per-part numbers and the misconception counts must agree with the records;
the page must load nothing; a real browser runs its script (sorting and
filtering by the #fragment) and takes a screenshot.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from collections import defaultdict
from html import unescape
from pathlib import Path

import pytest

from conftest import ROOT
from grader.trusted import results
from grader.trusted import runner
from grader.staff.reports import summary, tables

CORPUS = ROOT / "tests" / "submissions"
FIX = Path(__file__).parent / "fixtures" / "lms"
#: student -> (ex39 variant, gan variant); "syntax" is the ex39 reference with a syntax error appended.
CLASS = {
    "s01": ("reference", "reference"),
    "s02": ("full_transposed", "jsd_log2"),
    "s03": ("stub", "stub"),
    "s04": ("syntax", "jsd_log2"),
}
HOSTILE_NAME = "Jörg <b>Müller</b>"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def load(name: str) -> dict:
    return json.loads((FIX / "results" / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def records(course, tmp_path_factory) -> list[dict]:
    base = tmp_path_factory.mktemp("class")
    graded = []
    for student, (ex39, gan) in CLASS.items():
        folder = base / student
        folder.mkdir()
        if ex39 == "syntax":
            source = (CORPUS / "ex39" / "reference" / "ex39_rnn_gradients.py").read_text(encoding="utf-8")
            (folder / "ex39_rnn_gradients.py").write_text(source + "\ndef broken(:\n", encoding="utf-8")
        else:
            shutil.copy(CORPUS / "ex39" / ex39 / "ex39_rnn_gradients.py", folder)
        shutil.copy(CORPUS / "gan" / gan / "gan.py", folder)
        result = runner.grade(folder, ["ex39", "gan"], suite="all", course=course)
        result["student"] = student
        graded.append(result)
    graded[1]["name"] = HOSTILE_NAME
    broken = results.error_result(course, ["ex39", "gan"], "the zip file is corrupt", "s05")
    broken["student"] = "s05"
    return graded + [broken]


@pytest.fixture(scope="module")
def page(records, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("out") / "summary.html"
    summary.write(records, path, options={})
    return path


def _rows(html: str, table_id: str) -> list[str]:
    """The <tr> elements of one table's body, as HTML text."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    assert table, table_id
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(1), re.S)
    return re.findall(r"<tr\b.*?</tr>", body.group(1), re.S)


def _attr(row: str, name: str) -> str:
    match = re.search(rf'\b{name}="([^"]*)"', row)
    assert match, (name, row[:200])
    return unescape(match.group(1))


def _links(row: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]*)"', row)]


# -- content against the records -----------------------------------------------------------------

def test_student_table_has_one_row_per_record_with_points_and_a_feedback_link(records, page):
    html = page.read_text(encoding="utf-8")
    rows = _rows(html, "students")
    assert [_attr(r, "data-student") for r in rows] == [r["student"] for r in records]
    for row, record in zip(rows, records):
        assert _links(row) == [f"{record['student']}/feedback.html"]
        cells = re.findall(r'<td class="num" data-v="([^"]*)"', row)
        if record["status"].startswith("error"):
            assert 'class="error"' in row and "the zip file is corrupt" in row
            assert cells == ["", "", ""]
            continue
        assert "bewertet" in row
        scores = [ex["score"] for ex in record["exercises"]] + [record["score"]]
        assert [float(c) for c in cells] == pytest.approx(scores)
    heads = re.findall(r'<th[^>]*data-key="([^"]*)"', html)
    assert heads == ["student", "status", "ex39", "gan", "total"]
    # the reference got everything, the stub nothing (the grading itself is tested elsewhere)
    assert records[0]["score"] == records[0]["max_score"] > 0 and records[2]["score"] == 0


def test_per_part_numbers_agree_with_the_records(records, page):
    html = page.read_text(encoding="utf-8")
    expected: dict[str, list[float]] = defaultdict(list)
    maxima: dict[str, float] = {}
    for record in records:
        for ex in record["exercises"]:
            for part in ex["parts"]:
                key = f"{ex['id']}.{part['id']}"
                expected.setdefault(key, [])
                if record["status"] == "graded" and not part["manual"]:
                    expected[key].append(part["score"])
                    maxima[key] = part["max_score"]
    rows = {_attr(r, "data-part"): r for r in _rows(html, "parts")}
    assert list(rows) == list(expected)
    automatic = [k for k, v in expected.items() if v]
    assert len(automatic) == 8          # 4 automatic parts per exercise; the free-text parts are manual
    for key in automatic:
        points, row = expected[key], rows[key]
        assert int(_attr(row, "data-n")) == len(points) == 4
        assert float(_attr(row, "data-mean")) == pytest.approx(statistics.fmean(points))
        assert float(_attr(row, "data-median")) == pytest.approx(statistics.median(points))
        full = sum(p >= maxima[key] - 1e-9 for p in points) / len(points)
        assert float(_attr(row, "data-full")) == pytest.approx(full)
        bars = re.findall(r"<title>[^<]*: (\d+)</title>", row)
        assert len(bars) == len(summary.PART_BINS) and sum(map(int, bars)) == len(points)
        assert int(bars[-1]) == round(full * len(points))
    # a manual free-text part waits for the tutors: no numbers, marked pending
    assert _attr(rows["ex39.strategies"], "data-n") == "0" and "4 ausstehend" in rows["ex39.strategies"]


def test_misconceptions_agree_with_mistakes_of(records, page):
    html = page.read_text(encoding="utf-8")
    who: dict[str, set[str]] = defaultdict(set)
    for record in records:
        for exercise, _part, mistake, _name in tables.mistakes_of(record):
            who[f"{exercise}.{mistake}"].add(record["student"])
    rows = _rows(html, "mistakes")
    got = {_attr(r, "data-mistake"): r for r in rows}
    assert set(got) == set(who) and {"gan.jsd_log2", "ex39.full_transposed"} <= set(got)
    for key, row in got.items():
        assert int(_attr(row, "data-count")) == len(who[key])
        assert sorted(_links(row)) == sorted(f"{s}/feedback.html" for s in who[key])
    counts = [int(_attr(r, "data-count")) for r in rows]
    assert counts == sorted(counts, reverse=True) and counts[0] == 2      # log2 instead of ln: s02 and s04
    assert "log2 statt des natürlichen Logarithmus" in got["gan.jsd_log2"]


def test_blockers_are_a_separate_block(records, page):
    html = page.read_text(encoding="utf-8")
    rows = {(_attr(r, "data-blocker"), _attr(r, "data-exercise")): r for r in _rows(html, "blockers")}
    assert set(rows) == {("not_implemented", "ex39"), ("not_implemented", "gan"), ("syntax", "ex39"),
                         ("submission_error", "")}
    assert _links(rows[("not_implemented", "ex39")]) == ["s03/feedback.html"]
    assert _links(rows[("not_implemented", "gan")]) == ["s03/feedback.html"]
    assert _links(rows[("syntax", "ex39")]) == ["s04/feedback.html"]
    assert _links(rows[("submission_error", "")]) == ["s05/feedback.html"]
    assert "the zip file is corrupt" in rows[("submission_error", "")]
    mistakes = " ".join(_rows(html, "mistakes"))
    assert "s03/" not in mistakes and "not_implemented" not in mistakes
    # the engine's causes, not the wording, decide the block
    causes = {t.get("cause") for ex in records[2]["exercises"] for p in ex["parts"] for t in p["tests"]
              if t["status"] != "passed"}
    assert causes == {"not_implemented"}


def test_timeouts_crashes_and_missing_files_are_blockers_too(records):
    record = json.loads(json.dumps(records[0]))
    ex39, gan = record["exercises"]
    ex39["parts"][0]["tests"][0].update(status="failed", cause="timeout", message="… wurde gestoppt")
    ex39["parts"][1]["tests"][0].update(status="failed", cause="crash", message="… beendete den Prozess")
    gan["status"] = "missing: gan.py not submitted"
    found = {(row["category"], row["exercise"]) for row in summary.blocker_rows([record])}
    assert found == {("timeout", "ex39"), ("crash", "ex39"), ("missing", "gan")}
    assert summary.mistake_rows([record]) == []


def test_per_test_view_is_collapsed(records, page):
    html = page.read_text(encoding="utf-8")
    details = re.search(r'<details id="per-test">(.*?)</details>', html, re.S)
    assert details and " open" not in details.group(0)[:30]
    svgs = re.findall(r'<svg class="passrates".*?</svg>', details.group(1), re.S)
    assert len(svgs) == 2                                    # ex39 and gan
    for svg in svgs:
        ET.fromstring(svg)
    runs = {t["id"] for r in records if r["status"] == "graded" for ex in r["exercises"]
            for p in ex["parts"] for t in p["tests"]}
    assert details.group(1).count("<rect") == 2 * len(runs)  # background + bar per test
    hardest = re.search(r'<table id="hardest">.*?</table>', details.group(1), re.S).group(0)
    assert "Noch nicht implementiert" not in hardest         # stubs do not drown the real messages


def test_self_contained_and_escaped(page):
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"https?://", html), "nothing may be fetched (and no address shown to follow)"
    assert not re.search(r"\bsrc=|<link\b|@import|url\(", html)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == ["<script>"]                           # one inline script, no src
    assert "<b>Müller</b>" not in html and "Jörg &lt;b&gt;Müller&lt;/b&gt;" in html
    assert 'id="n-submissions">5<' in html and 'id="n-errors">1<' in html
    assert 'id="notes"' not in html                          # no ex41 in this class


def test_note_when_ex41_e_ran_on_the_sample():
    partial = load("partial")                                # suite "all", ex41 part e graded
    assert 'id="notes"' in summary.render([partial], options={})
    assert "2.000 Testziffern" in summary.render([partial])  # options unknown: the note hedges
    assert "falls der Lauf ohne" in summary.render([partial])
    assert 'id="notes"' not in summary.render([partial], options={"mnist_dir": "/data/mnist"})
    public = dict(partial, suite="public")
    assert 'id="notes"' not in summary.render([public], options={})
    said = json.loads(json.dumps(partial))
    part_e = next(p for p in said["exercises"][0]["parts"] if p["id"] == "e")
    part_e["tests"][0].update(status="failed", message="predict hat 95 % der 10000 Testziffern des offiziellen "
                                                       "MNIST-Testsatzes richtig erkannt")
    assert 'id="notes"' not in summary.render([said], options=None)


def test_fixture_records_and_empty_batch(tmp_path):
    v = summary.build_view([load(n) for n in ["full", "partial", "error", "pending", "hidden"]])
    assert (v["n"], v["n_graded"], v["n_error"]) == (5, 4, 1)
    # percents: 100, 58.3, 66.7, 35.7 -> bins 9, 5, 6, 3
    assert [b["count"] for b in v["hist"]] == [0, 0, 0, 1, 0, 1, 1, 0, 0, 1]
    assert {e["student"] for e in v["errors"]} == {"s1000003", "s1000005"}
    assert ("missing", "qlearning") in {(b["category"], b["exercise"]) for b in v["blockers"]}
    summary.write([], tmp_path / "s.html")
    assert 'id="n-submissions">0<' in (tmp_path / "s.html").read_text(encoding="utf-8")


# -- a real browser ---------------------------------------------------------------------------------

def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium is required for this test: install it with "
                "`apt-get update && apt-get install -y chromium` (Debian package 'chromium')")


def _browser(tmp_path: Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    cmd = [_chromium(), *CHROMIUM_ARGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2400",
           *extra, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def _png_ink(data: bytes) -> tuple[int, int, float]:
    """Width, height and the share of non-zero filtered bytes of an 8-bit RGB/RGBA PNG (what Chromium writes).

    PNG filters store each byte as its difference to a neighbour, so a page of
    one colour is all zeros after filtering (share ~0); text, tables and bars
    make the share grow (a few per cent for this page). No image library needed.
    """
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0
    stride = width * (3 if colour == 2 else 4)
    raw = zlib.decompress(idat)
    assert len(raw) == height * (stride + 1)
    body = b"".join(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)] for y in range(height))
    return width, height, 1 - body.count(0) / len(body)


def test_browser_runs_the_script_sorts_filters_and_renders(page, tmp_path):
    url = page.resolve().as_uri()
    dom = _browser(tmp_path, url + "#sort=total-desc&q=M%C3%BCller", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-script="ready"' in dom.stdout, "the inline script did not run to its end"
    order = re.findall(r'<tr[^>]*data-student="([^"]*)"', dom.stdout)
    assert order == ["s01", "s02", "s04", "s03", "s05"]      # 6, 4.5, 2.5 (gan only), 0, error row last
    assert re.search(r'data-key="total"[^>]*aria-sort="descending"', dom.stdout)
    visible = re.findall(r'<tr(?![^>]*\bhidden\b)[^>]*data-student="([^"]*)"', dom.stdout)
    assert visible == ["s02"] and '<span id="shown">1</span>' in dom.stdout      # filtered by the name
    order = re.findall(r'<tr[^>]*data-student="([^"]*)"', _browser(tmp_path, url + "#sort=student-desc",
                                                                    "--dump-dom").stdout)
    assert order == ["s05", "s04", "s03", "s02", "s01"]      # text columns sort as text

    shot = tmp_path / "summary.png"
    _browser(tmp_path, url, f"--screenshot={shot}")
    data = shot.read_bytes()
    width, height, ink = _png_ink(data)
    assert (width, height) == (1200, 2400)
    assert ink > 0.01, f"the page looks blank ({ink:.3%} of the filtered bytes are not zero)"
    assert len(data) > 50_000, "a blank 1200x2400 page compresses to about 13 kB"
