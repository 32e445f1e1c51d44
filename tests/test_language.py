"""No English sentence reaches a German course's student (issue 11, item 4).

Every submission of the corpus (tests/submissions/*/*, suite "all") is scanned
by tests/test_submissions.py and every attack (tests/attacks/*, mini course,
in every isolation mode) by tests/test_attacks_corpus.py, right after their
grading, with `scan` from here. Each result is rendered the way students read it: the
terminal (`grade ex41`), feedback.md, feedback.html and Gradescope's
results.json. The tests fail on any line with a common English function word
outside code (identifiers, code spans, tracebacks, the text of a Python
exception the student's code raised, what the student's code printed).

Failures are reported per origin: the engine (sandbox, timeouts, imports,
reports: grader/) and, for check messages, the course test file that wrote
them, so each author sees which of their sentences are still English.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict

from conftest import ROOT
from grader import i18n
from grader.feedback import terminal
from grader.staff.reports import feedback, gradescope

SUBMISSIONS = ROOT / "tests" / "submissions"

#: English function words and phrases that never occur in German prose.
ENGLISH = re.compile(
    r"\b(the|your|you|is|was|were|are|expected|returned|not implemented|of|did|does|should|must|which|"
    r"this|that|has|have|been|than|when|because|could|would|into|only|got|please|check|wrong|instead|"
    r"missing|called|found|there|these|those|its|it's|can't|cannot|doesn't|isn't|did not|does not|"
    r"at least|at most|per cent|times|after|before)\b", re.I)
#: Causes of engine messages (grader/trusted/errors.py); every other failed test's message comes from its test.
ENGINE_CAUSES = {"import", "timeout", "crash", "exception", "not_implemented", "bad_return", "error"}

_CODE_SPAN = re.compile(r"`+[^`]*`+")
_PY_EXCEPTION = re.compile(r"\b[A-Z]\w*(Error|Exception|Exit|Interrupt|Warning|Iteration)\b:?[^\n]*")
_CODE_TOKEN = re.compile(r"\S*[_.()\[\]{}=<>/\\|:'\"#*]\S*")


def strip_code(line: str) -> str:
    """A report line without what is code or comes verbatim from Python or the student."""
    line = _CODE_SPAN.sub(" ", line)
    line = _PY_EXCEPTION.sub(" ", line)
    return _CODE_TOKEN.sub(" ", line)


def english_lines(text: str) -> list[str]:
    """Lines of ``text`` that read as English prose (tracebacks and printed output left out)."""
    found = []
    after_frame = False
    for raw in text.splitlines():
        line = raw.strip()
        code_line, after_frame = after_frame, line.startswith('File "')
        if not line or after_frame or code_line or line.startswith("| "):
            continue  # a traceback frame, the code line under it, or printed output
        if ENGLISH.search(strip_code(line)):
            found.append(line)
    return found


def _without_student_output(result: dict) -> dict:
    """What the student's code printed is theirs, not the grader's: left out of the scan."""
    result = json.loads(json.dumps(result))
    for ex in result.get("exercises", []):
        for part in ex.get("parts", []):
            for test in part.get("tests", []):
                test["output"] = ""
    return result


def _origin(result: dict, line: str) -> str:
    """Who wrote ``line``: the course test file of a check message, else the engine."""
    for ex in result.get("exercises", []):
        for part in ex.get("parts", []):
            for test in part.get("tests", []):
                message_lines = [m.strip()[:60] for m in (test.get("message") or "").splitlines() if m.strip()]
                if test.get("status") != "passed" and any(m in line for m in message_lines):
                    if test.get("cause") in ENGINE_CAUSES:
                        return "engine (grader/)"
                    return str(test.get("id", "")).split("::")[0]
    return "engine (grader/staff/reports)"


def scan(results: dict[str, dict]) -> dict[str, dict[str, set[str]]]:
    """origin -> English line -> the submissions it appeared in."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for name, result in results.items():
        clean = _without_student_output(result)
        texts = [terminal.render(clean), feedback.render_md(clean), feedback.render_html(clean),
                 json.dumps(gradescope.to_results_json(clean), ensure_ascii=False, indent=1)
                 .replace("\\n", "\n")]
        for text in texts:
            for line in english_lines(re.sub(r"<[^>]+>", " ", text)):
                found[_origin(clean, line)][line].add(name)
    return found


def _report(found: dict[str, dict[str, set[str]]]) -> str:
    lines = []
    for origin in sorted(found):
        lines.append(f"\n== {origin}: {len(found[origin])} English line(s)")
        for line, names in sorted(found[origin].items())[:40]:
            lines.append(f"   {line[:160]}   [{', '.join(sorted(names)[:3])}{' ...' if len(names) > 3 else ''}]")
    return "\n".join(lines)


def test_the_scan_finds_english_and_spares_code():
    assert english_lines("Your code raised ValueError: the shapes differ") == ["Your code raised ValueError: the shapes differ"]
    assert english_lines("Ihr Code löste ValueError: operands could not be broadcast aus") == []
    assert english_lines("h_conv2d(image, kernel) ist falsch: `the_value` weicht ab.") == []
    assert english_lines("total(x) did not finish within 3 s") != []
    assert english_lines('  File "ex41_conv.py", line 3, in h_conv2d\n    return x if x is None else y') == []


def test_the_scan_names_the_test_file_of_an_english_check_message():
    def result(message: str, cause: str) -> dict:
        test = {"id": "exercises/tests/test_ex41.py::test_x", "name": "test_x", "hidden": False, "score": 0.0,
                "max_score": 1.0, "status": "failed", "message": message, "output": "Your output is not ours.",
                "duration": 0.1, "cause": cause}
        return {"schema": 1, "status": "graded", "suite": "public", "score": 0.0, "max_score": 1.0,
                "exercises": [{"id": "ex41", "title": "Faltung", "status": "graded", "score": 0.0, "max_score": 1.0,
                               "parts": [{"id": "a", "title": "h_conv2d", "score": 0.0, "max_score": 1.0,
                                          "manual": False, "pending": False, "comment": "", "tests": [test]}]}]}

    found = scan({"s1": result("h_conv2d returned the wrong values.", ""),
                  "s2": result("h_conv2d(...) did not finish within 3 s.", "timeout"),
                  "s3": result("h_conv2d ist falsch: erhalten 1, erwartet 2.", "")})
    assert set(found) == {"exercises/tests/test_ex41.py", "engine (grader/)"}, dict(found)
    assert "h_conv2d returned the wrong values." in found["exercises/tests/test_ex41.py"]
    assert not any("s3" in names for lines in found.values() for names in lines.values())


def test_stub_feedback_fits_on_one_screen(course):
    """The stub's terminal report of ex41 is at most 40 lines (it was 104 failure cards)."""
    from grader.trusted import runner

    stub = runner.grade(SUBMISSIONS / "ex41" / "stub", ["ex41"], suite="all", course=course)
    text = terminal.render(stub)
    assert len(text.splitlines()) <= 40, text
    assert len(feedback.render_md(stub).splitlines()) <= 80


def test_an_english_course_gets_english_reports_and_engine_messages():
    """The catalogue is chosen by course.toml's language: the same result reads English for an "en" course."""
    from grader.trusted.errors import StudentException, StudentTimeout

    fixture = json.loads((ROOT / "tests" / "fixtures" / "lms" / "results" / "pending.json").read_text())
    try:
        i18n.set_language("en")
        md, html = feedback.render_md(fixture), feedback.render_html(fixture)
        text = terminal.render(fixture)
        timeout = str(StudentTimeout("m.f(...)", 3))
        stub = StudentException("NotImplementedError", "todo").student_message()
    finally:
        i18n.set_language("de")
    assert md.startswith("# Feedback on your submission") and '<html lang="en">' in html
    assert "Overview: points per exercise and part" in md and "up to 1 point from manual grading" in md
    assert "Rückmeldung" not in md + html and "Summe" not in text and "Total:" in text
    assert timeout.startswith("m.f(...) did not finish within 3 s") and stub == "Not implemented yet (todo)."
    assert feedback.render_md(fixture).startswith("# Rückmeldung zur Abgabe")
