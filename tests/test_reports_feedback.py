"""feedback.html / feedback.md: content, order, escaping, and a real browser rendering it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.reports import feedback

FIX = Path(__file__).parent / "fixtures" / "lms"
NAMES = ["full", "partial", "error", "pending", "hidden"]


def load(name: str) -> dict:
    return json.loads((FIX / "results" / f"{name}.json").read_text(encoding="utf-8"))


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)


@pytest.mark.parametrize("name", NAMES)
def test_writes_both_files_self_contained(tmp_path, name):
    feedback.write(load(name), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feedback.html", "feedback.md"]
    html = (tmp_path / "feedback.html").read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(html)
    assert "script" not in parser.tags and "link" not in parser.tags and "img" not in parser.tags
    assert not [v for k, v in parser.attrs if k in ("src", "href")], "must not load anything external"
    assert 'name="viewport"' in html and '<html lang="de">' in html


def test_failing_tests_first_with_messages_and_points():
    html = feedback.render_html(load("partial"))
    failing = html.index("Fehlgeschlagene Tests (6)")
    per_part = html.index("Punkte pro Aufgabe und Teil")
    assert failing < per_part
    assert html.index("flipped kernel (true convolution)") < per_part
    assert html.index("gan_value(...) returned shape (5,)") < per_part
    assert 'id="score">5,25<' in html and 'id="max-score">9<' in html
    # per part points in German number format
    assert re.search(r"Teil c: conv2d im Autodiff-Framework.*?0,75 / 1", html, re.S)
    assert "verdeckt" in html      # hidden tests are labelled


def test_student_output_is_escaped():
    html = feedback.render_html(load("partial"))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_pending_manual_part_is_shown():
    html = feedback.render_html(load("pending"))
    assert "Noch ausstehend: manuelle Bewertung" in html
    assert "Könnte ein MLP das auch?" in html and "? / 1" in html
    md = feedback.render_md(load("pending"))
    assert "bis zu 1 Punkte aus der manuellen Bewertung" in md
    assert "| mlp: Könnte ein MLP das auch? (Freitext) (manuell) | ausstehend / 1 | – |" in md


def test_error_result():
    html = feedback.render_html(load("error"))
    assert "Die Abgabe konnte nicht bewertet werden" in html and "the zip file is corrupt" in html
    assert "Fehlgeschlagene Tests" not in html


def test_full_score_and_missing_exercise():
    assert "Alle Tests bestanden." in feedback.render_html(load("full"))
    html = feedback.render_html(load("hidden"))
    assert "Datei fehlt: qlearning.py not submitted" in html
    assert html.index("Nicht bewertete Aufgaben") < html.index("Fehlgeschlagene Tests")
    assert "- Aufgabe qlearning: Datei fehlt" in feedback.render_md(load("hidden"))
    assert "Gute Diskussion von LSTM" in html     # comment of a merged manual part


def test_markdown_fences_survive_backticks():
    result = load("partial")
    result["exercises"][0]["parts"][1]["tests"][0]["message"] = "got ```python\nimport os``` back"
    md = feedback.render_md(result)
    assert "````\ngot ```python" in md
    assert md.startswith("# Rückmeldung zur Abgabe")
    assert "**Punkte: 5,25 / 9**" in md


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium is required for this test: install it with "
                "`apt-get update && apt-get install -y chromium` (Debian package 'chromium')")


def test_rendered_in_headless_chromium(tmp_path):
    """A real browser loads feedback.html and shows the score in its DOM."""
    feedback.write(load("partial"), tmp_path / "out")
    page = (tmp_path / "out" / "feedback.html").resolve()
    cmd = [_chromium(), *CHROMIUM_ARGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=390,844",
           "--dump-dom", page.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert re.search(r'<span id="score">5,25</span>', dom), dom[:500]
    assert "Fehlgeschlagene Tests (6)" in dom
    shot = tmp_path / "phone.png"
    cmd[-2:] = [f"--screenshot={shot}", page.as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=60)
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_long_messages_fold_but_keep_every_line():
    result = load("partial")
    lines = [f"maze {i}: failed at step t = 0" for i in range(40)]
    result["exercises"][0]["parts"][1]["tests"][0]["message"] = "\n".join(lines)
    html = feedback.render_html(result)
    assert "Weitere 26 Zeilen der Meldung" in html
    assert all(line in html for line in lines)
    assert all(line in feedback.render_md(result) for line in lines)
