"""feedback.html / feedback.md: content, order, escaping, and a real browser rendering it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.staff.reports import feedback

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


def test_overview_first_then_findings_with_messages_and_points():
    html = feedback.render_html(load("partial"))
    overview = html.index("Übersicht: Punkte pro Aufgabe und Teil")
    findings = html.index("Befunde (6)")
    assert overview < findings
    assert findings < html.index("flipped kernel (true convolution)")
    assert findings < html.index("gan_value(...) returned shape (5,)")
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
    assert "bis zu 1 Punkt aus der manuellen Bewertung" in md
    assert "| mlp: Könnte ein MLP das auch? (Freitext) (manuell) | ausstehend / 1 | – |" in md


def test_error_result():
    html = feedback.render_html(load("error"))
    assert "Die Abgabe konnte nicht bewertet werden" in html and "the zip file is corrupt" in html
    assert "Befunde" not in html


def test_full_score_and_missing_exercise():
    assert "Alle Tests bestanden." in feedback.render_html(load("full"))
    html = feedback.render_html(load("hidden"))
    assert "Datei fehlt: qlearning.py" in html and "not submitted" not in html
    assert html.index("Nicht bewertete Aufgaben") < html.index("Übersicht")
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
    assert "Befunde (6)" in dom
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


# -- findings grouped like a tutor's (grader/feedback/findings.py) ---------------------------------------

def _test(name: str, message: str, status: str = "failed", hidden: bool = False, **extra) -> dict:
    return {"id": f"t::{name}", "name": name, "hidden": hidden, "score": 0.0, "max_score": 0.1,
            "status": status, "message": message, "output": "", "duration": 0.1, **extra}


def _result(parts: list[tuple[str, list[dict]]], status: str = "graded") -> dict:
    return {"schema": 1, "student": "s1", "status": "graded", "suite": "public", "score": 0.0, "max_score": 3.0,
            "created": "2026-12-01T10:00:00+00:00", "tool_version": "t", "files": {}, "isolation": {},
            "exercises": [{"id": "ex41", "title": "Faltung", "status": status, "score": 0.0, "max_score": 3.0,
                           "parts": [{"id": pid, "title": f"Teil {pid}", "score": 0.0, "max_score": 1.0,
                                      "manual": False, "pending": False, "comment": "", "tests": tests}
                                     for pid, tests in parts]}]}


def test_one_finding_per_mistake_with_the_cases_collapsed():
    tests = [_test(f"case{i}", f"h_conv2d ist falsch für Fall {i} (Wert {i * 1.5}). Bekannter Fehler: Kern gespiegelt.",
                   mistake="flipped_kernel", cause="flipped_kernel") for i in range(7)]
    md = feedback.render_md(_result([("a", tests)]))
    assert md.count("Kern gespiegelt") == 1, md
    assert "in 7 von 7 Tests; erste Meldung:" in md
    assert "Befunde (1)" in md


def test_messages_that_differ_only_in_numbers_are_one_finding_and_others_stay_apart():
    tests = [_test("t1", "grad_image weicht in 3 von 12 Werten ab (Fall 1)."),
             _test("t2", "grad_image weicht in 5 von 40 Werten ab (Fall 2)."),
             _test("t3", "grad_kernel hat die Form (4, 3), erwartet (3, 4)."),
             _test("t4", "", status="passed")]
    view = feedback.build_view(_result([("b", tests)]))
    findings = view["exercises"][0]["parts"][0]["findings"]
    assert [f["summary"] for f in findings] == ["in 2 von 4 Tests; erste Meldung:", "in 1 von 4 Tests; Meldung:"]


def test_not_implemented_is_one_line_per_part():
    stub = "Noch nicht implementiert (h_conv2d fehlt noch)."
    result = _result([("a", [_test(f"a{i}", stub, cause="not_implemented") for i in range(4)]),
                      ("b", [_test(f"b{i}", stub, cause="not_implemented") for i in range(5)])])
    md = feedback.render_md(result)
    assert md.count("- Noch nicht implementiert (4 Tests).") == 1 and md.count("- Noch nicht implementiert (5 Tests).") == 1
    assert "h_conv2d fehlt noch" not in md       # no card per test
    assert "hängt womöglich" not in md           # nothing to point at: every part is simply not done yet
    assert len(md.splitlines()) < 40


def test_an_import_failure_is_shown_once_per_exercise():
    error = "ex41_conv.py hat einen Syntaxfehler in Zeile 3 (SyntaxError: invalid syntax)."
    result = _result([(pid, [_test(f"{pid}{i}", error, cause="import") for i in range(10)]) for pid in "abc"],)
    md = feedback.render_md(result)
    html = feedback.render_html(result)
    assert md.count("Syntaxfehler in Zeile 3") == 1 and html.count("Syntaxfehler in Zeile 3") == 1
    assert "betrifft alle 30 Tests der Teile a, b, c" in md
    from grader.feedback import terminal
    from grader.staff.reports import gradescope
    assert terminal.render(result).count("Syntaxfehler in Zeile 3") == 1
    gs = gradescope.to_results_json(result)
    assert sum("Syntaxfehler" in t.get("output", "") for t in gs["tests"]) == 1  # the first test; the rest point to it
    assert sum("Gleicher Befund wie im Test a0" in t.get("output", "") for t in gs["tests"]) == 29


def test_a_later_part_points_to_an_earlier_failing_part_without_changing_points():
    result = _result([("a", [_test("a1", "h_conv2d ist falsch: Kern gespiegelt.", mistake="flipped_kernel")]),
                      ("b", [_test("b1", "h_conv2d_grad ist falsch.")]),
                      ("c", [_test("c1", "", status="passed")])])
    md = feedback.render_md(result)
    assert "Hinweis: Teil b hängt womöglich von Teil a ab, der noch Fehler hat." in md
    assert "Teil c hängt" not in md and "Teil a hängt" not in md
    assert "**Punkte: 0 / 3**" in md


def test_no_english_and_no_du_in_the_templates():
    for name in NAMES:
        for text in (feedback.render_md(load(name)), feedback.render_html(load(name))):
            for word in (" deine", " deines", " dein ", " prüfe ", " wende dich", "Tutor:innen", "bis zu 1 Punkte"):
                assert word not in text, (name, word)


def test_gradescope_public_test_does_not_count_hidden_tests_of_its_finding():
    """A public test's output is visible at once; how many hidden tests share its finding is not."""
    from grader.staff.reports import gradescope

    msg = "h_conv2d ist falsch: Kern gespiegelt."
    tests = [_test("pub", msg, mistake="flipped_kernel"), _test("pub2", msg, mistake="flipped_kernel"),
             _test("hid1", msg, hidden=True, mistake="flipped_kernel"),
             _test("hid2", msg, hidden=True, mistake="flipped_kernel")]
    out = {t["name"].split(": ")[-1]: t.get("output", "") for t in gradescope.to_results_json(_result([("a", tests)]))["tests"]}
    assert "(Gleicher Befund in 1 weiteren Test.)" in out["pub"]
    assert out["pub2"].startswith("Gleicher Befund wie im Test pub") and out["hid1"].startswith("Gleicher Befund wie im Test pub")
    assert "Befunde:" in gradescope.to_results_json(_result([("a", tests)]))["output"]
