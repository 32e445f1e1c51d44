"""Property: whatever the submissions look like, `grade batch` gives one row per student.

Hypothesis builds SUBMISSIONS trees in the layouts dir, moodle and canvas with
hostile names (report names, unicode, newlines, very long, dots, ``..``, names
that contain another participant's Moodle id), random bytes as .py/.ipynb,
deep JSON and JSON of the wrong types. Grading is expensive and is tested on
real submissions elsewhere (tests/test_batch.py); here the step that grades
one submission is replaced by a cheap fake that returns a record full of
hostile text (escape sequences, lone surrogates, formulas), so what is tested
is the intake, the records and the rendering of every report.
"""
from __future__ import annotations

import csv
import functools
import io
import json
import re
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.staff import batch
from grader.trusted import results
from grader.trusted import runner
from grader.staff.reports import feedback

IDS = ["alpha", "beta"]
HOSTILE_TEXT = "=HYPERLINK(\"x\")\x1b[31m\u202e\ud800\x00\r\n@SUM(1)"
JUNK = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini", ".git", ".idea", ".vscode", "__pycache__",
        ".ipynb_checkpoints"}
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])

# --- what a student may upload ------------------------------------------------------------------

_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="/\\:\x00")
names = st.one_of(
    st.sampled_from(["grades.csv", "summary.html", "GRADES.CSV", "batch.log", "canvas_gradebook.csv",
                     "moodle_grading_worksheet.csv", "moodle_feedback_files.zip", "nul", "con.txt", "s1",
                     "s1__dup2", "a.", "...x", "-x-", " ", "Jörg", "Jürg", "line\nbreak", "=cmd()", "x" * 240]),
    st.text(_chars, min_size=1, max_size=30),
)
deep = b"[" * 100_000
contents = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([deep, b'{"cells": 5, "nbformat": 4}', b"[]", b"null", b'"x"',
                     b'{"cells": [{"cell_type": 7, "metadata": {"tags": 3}}], "nbformat": 4, "metadata": []}',
                     b'{"files": [1, 2]}', b"def scale(x, f):\n    return x * f\n", b"\xff\xfe\x00\x81",
                     b"PK\x03\x04broken zip"]),
)
file_names = st.sampled_from(["alpha.py", "beta.py", "abgabe.ipynb", "manifest.json", "helper.py", "notes.txt",
                              "inner.zip", "Alpha (2).py"])
files = st.dictionaries(file_names, contents, min_size=1, max_size=3)


def _is_student_name(name: str, kind: str) -> bool:
    """Names the dir layout can attribute (what is dropped by design: '.', '..', OS litter)."""
    top = name + (".zip" if kind == "zip" else "")
    return name not in (".", "..") and top not in JUNK \
        and not (kind == "zip" and (top.startswith("._") or top.startswith("~$")))


# --- the cheap fake grading ----------------------------------------------------------------------

@pytest.fixture
def fake_grading(monkeypatch, mini):
    """Grading returns at once: a record whose texts are hostile, as real output can be."""
    def grade_here(course, request):
        result = results.build(course, list(request.exercise_ids), [], request.suite, student_id=request.student_id)
        part = result["exercises"][0]["parts"][0]
        part["tests"] = [{"id": "t::x", "name": "test_" + HOSTILE_TEXT, "hidden": False, "score": 0.0,
                          "max_score": 0.5, "status": "failed", "message": "Fehler " + HOSTILE_TEXT,
                          "output": HOSTILE_TEXT * 3, "duration": 0.01}]
        return results.totals(result)

    monkeypatch.setattr(runner, "grade_in_process", grade_here)
    env = getattr(feedback, "_env", None)
    if env is not None:       # speed only: jinja compiles the templates once, not once per student
        monkeypatch.setattr(feedback, "_env", functools.lru_cache(maxsize=None)(env))
    monkeypatch.setattr(runner, "prepare_trusted", lambda: None)
    monkeypatch.setattr(runner, "warm_tests", lambda course, ids=None: None)
    monkeypatch.setattr(batch, "_kill_strays", lambda: None)
    return mini


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def _run(course, source: Path, out: Path, layout: str) -> list[list[str]]:
    """Run the batch; check every report; return grades.csv's rows without the header."""
    counts = batch.run(course, source, out, batch.BatchOptions(layout=layout, jobs=2, assignment_title="Blatt"))
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    body = table[1:]
    assert counts["total"] == len(body)
    students = [r[0][1:] if r[0].startswith("'") else r[0] for r in body]
    assert len(set(students)) == len(students)
    assert (out / "summary.html").is_file()
    for student in students:
        folder = out / student
        for name in ("grading.json", "feedback.html", "feedback.md", "results.json"):
            assert (folder / name).is_file(), (student, name)
        for name in ("feedback.html", "feedback.md", "results.json"):
            assert not CONTROL.search((folder / name).read_text(encoding="utf-8")), (student, name)
        json.loads((folder / "grading.json").read_text(encoding="utf-8"))
    return body


# --- the properties --------------------------------------------------------------------------------

@SETTINGS
@given(students=st.dictionaries(st.tuples(names, st.sampled_from(["folder", "zip"])), files, min_size=2, max_size=5),
       noise=st.lists(st.sampled_from(["../evil.py", "./x.py", "README.txt", "__MACOSX/._alpha.py", ".DS_Store"]),
                      max_size=2))
def test_dir_layout_one_row_per_student(fake_grading, students, noise):
    entries, expected = [], set()
    for (name, kind), content in students.items():
        if kind == "folder":
            entries += [(f"{name}/{f}", data) for f, data in content.items()]
        else:
            entries.append((f"{name}.zip", _zip(list(content.items())) if len(content) > 1
                            else next(iter(content.values()))))
        if _is_student_name(name, kind):
            expected.add((name, kind))
    entries += [(n, b"x = 1\n") for n in noise]
    if len({(n if k == "folder" else n + ".zip") for n, k in expected}) < 2:
        return                                  # one top folder would be read as a wrapper: another test
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "subs.zip"
        source.write_bytes(_zip(entries))
        rows = _run(fake_grading, source, Path(tmp) / "out", "dir")
    assert len(rows) == len(expected)


@st.composite
def moodle_downloads(draw):
    """Participants with distinct ids; full names may contain another participant's id suffix."""
    pids = draw(st.lists(st.integers(1000, 1000020), min_size=2, max_size=5, unique=True))
    entries = []
    for pid in pids:
        other = draw(st.sampled_from(pids))
        name = draw(st.one_of(names, st.just(f"Evil_{other}_assignsubmission_file_ E")))
        if name.startswith(("._", "~$")):
            name = "N" + name
        style = draw(st.sampled_from(["4.1", "old", "flat"]))
        content = draw(files)
        for fname, data in content.items():
            if style == "flat":
                entries.append((f"{name}_{pid}_assignsubmission_file_{fname}", data))
            else:
                suffix = "_" if style == "old" else ""
                entries.append((f"{name}_{pid}_assignsubmission_file{suffix}/{fname}", data))
    return pids, entries


@SETTINGS
@given(download=moodle_downloads())
def test_moodle_layout_one_row_per_participant(fake_grading, download):
    pids, entries = download
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "KURS-Blatt-1.zip"
        source.write_bytes(_zip(entries))
        out = Path(tmp) / "out"
        rows = _run(fake_grading, source, out, "moodle")
        assert sorted(r[0] for r in rows) == sorted(str(p) for p in pids)
        with open(out / "moodle_grading_worksheet.csv", newline="", encoding="utf-8") as fh:
            sheet = list(csv.reader(fh))
        assert sorted(r[0] for r in sheet[1:]) == sorted(f"Participant {p}" for p in pids)
        assert all(not r[1].startswith(("=", "@", "+", "-", "\t", "\r")) for r in sheet[1:])
        with zipfile.ZipFile(out / "moodle_feedback_files.zip") as zf:
            assert len(zf.namelist()) == len(pids)


def _canvas_name(raw: str) -> str:
    """What Canvas makes of a sortable name: word characters, lower case, no digits (docs/lms.md §3.2)."""
    return re.sub(r"[\W\d]", "", raw).lower()


@st.composite
def canvas_downloads(draw):
    uids = draw(st.lists(st.integers(1, 99999), min_size=2, max_size=5, unique=True))
    entries, attachment = [], 100000
    for uid in uids:
        name = _canvas_name(draw(st.one_of(names, st.just("anon"), st.just("On An"))))
        late = draw(st.booleans())
        head = "_".join(p for p in (name, "LATE" if late else "", str(uid)) if p)
        for fname, data in draw(files).items():
            display = draw(st.one_of(st.just(fname), st.text(_chars, min_size=1, max_size=20).map(
                lambda t, f=fname: re.sub(r'[*?"<>|]', "_", t) + "_12_34_" + f)))
            attachment += 1
            entries.append((f"{head}_{attachment}_{display}", data))
    return uids, entries


@SETTINGS
@given(download=canvas_downloads())
def test_canvas_layout_one_row_per_user(fake_grading, download):
    uids, entries = download
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "DL101-Blatt_1_submissions.zip"
        source.write_bytes(_zip(entries))
        out = Path(tmp) / "out"
        rows = _run(fake_grading, source, out, "canvas")
        assert len(rows) == len(uids)
        with open(out / "canvas_gradebook.csv", newline="", encoding="utf-8") as fh:
            book = list(csv.reader(fh))
        anonymous = all(e[0].startswith("anon_") and not e[0].startswith("anon_LATE_") for e in entries)
        assert sorted(r[1] for r in book[2:]) == ([] if anonymous else sorted(str(u) for u in uids))
