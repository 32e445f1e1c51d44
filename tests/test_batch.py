"""`grade batch` end to end on the mini course: layouts, reports, resume after kill -9."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from conftest import MINI

REF = {n: (MINI / "solutions" / n).read_text() for n in ("alpha.py", "beta.py")}
STUB = {n: (MINI / "exercises" / n).read_text() for n in ("alpha.py", "beta.py")}
GRADE = [sys.executable, "-c", "from grader.cli import main; main()"]


def notebook_bytes(files: dict[str, str]) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Aufgabe"))
    for name, code in files.items():
        nb.cells.append(nbformat.v4.new_code_cell(code, metadata={"tags": [f"exercise-file:{name}"]}))
    nb.cells.append(nbformat.v4.new_code_cell("!grade alpha"))
    return nbformat.writes(nb).encode()


def run_grade(args: list[str], cwd: Path = MINI, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    env = env or dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    return subprocess.run(GRADE + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, **kw)


def rows(path: Path) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


def make_dir_layout(root: Path) -> Path:
    subs = root / "subs"
    (subs / "s001").mkdir(parents=True)
    for name, text in REF.items():
        (subs / "s001" / name).write_text(text)
    (subs / "s002" / "deep" / "er").mkdir(parents=True)
    (subs / "s002" / "deep" / "er" / "alpha.py").write_text(STUB["alpha.py"])
    (subs / "s003").mkdir()
    (subs / "s003" / "abgabe.ipynb").write_bytes(notebook_bytes({"alpha.py": REF["alpha.py"]}))
    (subs / "s004.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    (subs / "s005").mkdir()
    (subs / "s005" / "alpha.py").write_bytes(b"\xff\xfe not utf-8 \x81")
    return subs


def test_dir_layout_grades_every_student_and_reports_errors(tmp_path):
    subs = make_dir_layout(tmp_path)
    out = tmp_path / "out"
    proc = run_grade(["batch", str(subs), "-o", str(out), "--jobs", "2"])
    assert proc.returncode == 0, proc.stderr
    grades = rows(out / "grades.csv")
    assert set(grades) == {"s001", "s002", "s003", "s004", "s005"}
    assert grades["s001"]["total"] == "4" and grades["s001"]["status"] == "graded"
    assert grades["s002"]["alpha"] == "0" and grades["s002"]["status"] == "graded"
    assert grades["s003"]["alpha"] == "3"          # the notebook's tagged cell was graded
    assert grades["s004"]["status"] == "error: die ZIP-Datei ist beschädigt"     # the course language (de)
    assert grades["s005"]["alpha"] == "0"
    for student in grades:
        for name in ("feedback.html", "feedback.md", "results.json"):
            assert (out / student / name).is_file(), (student, name)
    gs = json.loads((out / "s001" / "results.json").read_text())
    assert gs["score"] == 4 and all("visibility" in t for t in gs["tests"])
    assert "alpha.py ist nicht als UTF-8 gespeichert (Byte 0xff in Zeile 1)" in (out / "s005" / "feedback.md").read_text()
    assert (out / "summary.html").is_file()


def test_moodle_layout_writes_worksheet_and_feedback_zip(tmp_path):
    archive = tmp_path / "KURS-Blatt 1-77.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Max Mustermann_1001_assignsubmission_file/alpha.py", REF["alpha.py"])
        zf.writestr("Max Mustermann_1001_assignsubmission_file/beta.py", REF["beta.py"])
        zf.writestr("Erika Muster_1002_assignsubmission_file_/abgabe.ipynb", notebook_bytes({"alpha.py": REF["alpha.py"]}))
        zf.writestr("Jo Doe_1003_assignsubmission_file_alpha.py", STUB["alpha.py"])
        zf.writestr("Kaputt Zip_1004_assignsubmission_file/abgabe.zip", b"PK\x03\x04 broken")
        zf.writestr("Nicht Json_1005_assignsubmission_file/abgabe.ipynb", b"{not json")
    out = tmp_path / "out"
    proc = run_grade(["batch", str(archive), "-o", str(out), "--layout", "moodle", "--lms-lang", "de"])
    assert proc.returncode == 0, proc.stderr
    with open(out / "moodle_grading_worksheet.csv", newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    header, body = table[0], table[1:]
    assert header[0] == "ID" and "Zuletzt geändert (Bewertung)" in header
    assert len(body) == 5
    by_id = {r[0]: r for r in body}
    grade_col = header.index("Bewertung")
    assert by_id["Teilnehmer/in1001"][grade_col] == "4,00"
    assert by_id["Teilnehmer/in1002"][grade_col] == "3,00"
    assert by_id["Teilnehmer/in1004"][grade_col] == ""  # not graded: Moodle keeps what it has
    comment = by_id["Teilnehmer/in1005"][-1]
    assert "JSON" in comment or "Notebook" in comment or "notebook" in comment
    with zipfile.ZipFile(out / "moodle_feedback_files.zip") as zf:
        names = zf.namelist()
    assert "Max Mustermann_1001_assignsubmission_file/feedback.html" in names
    assert "Erika Muster_1002_assignsubmission_file_/feedback.html" in names
    assert "Jo Doe_1003_assignsubmission_file_feedback.html" in names


def test_killed_batch_resumes_without_regrading(tmp_path):
    subs = tmp_path / "subs"
    for i in range(8):
        folder = subs / f"s{i:02d}"
        folder.mkdir(parents=True)
        sources = REF if i % 2 == 0 else {"alpha.py": REF["alpha.py"], "beta.py": STUB["beta.py"]}
        for name, text in sources.items():
            (folder / name).write_text(text)
    clean = tmp_path / "clean"
    assert run_grade(["batch", str(subs), "-o", str(clean), "--jobs", "2"]).returncode == 0

    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    proc = subprocess.Popen(GRADE + ["batch", str(subs), "-o", str(out), "--jobs", "2"], cwd=MINI, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(out.glob("*/grading.json"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/grading.json")}
    assert 3 <= len(finished) < 8, "the kill should land halfway"

    rerun = run_grade(["batch", str(subs), "-o", str(out), "--jobs", "2"])
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(finished)} unchanged" in rerun.stdout
    for student, mtime in finished.items():  # nothing finished was graded again
        assert (out / student / "grading.json").stat().st_mtime_ns == mtime
    assert rows(out / "grades.csv") == rows(clean / "grades.csv")
    assert not list(out.glob("*/.grading.json.*.tmp"))


def test_changed_submission_is_regraded(tmp_path):
    subs = tmp_path / "subs"
    (subs / "s1").mkdir(parents=True)
    (subs / "s1" / "alpha.py").write_text(STUB["alpha.py"])
    out = tmp_path / "out"
    assert run_grade(["batch", str(subs), "-o", str(out), "--only", "alpha"]).returncode == 0
    assert rows(out / "grades.csv")["s1"]["total"] == "0"
    (subs / "s1" / "alpha.py").write_text(REF["alpha.py"])
    second = run_grade(["batch", str(subs), "-o", str(out), "--only", "alpha"])
    assert "0 unchanged" in second.stdout
    assert rows(out / "grades.csv")["s1"]["total"] == "3"


# --- no single student can stop the class (issue 10, item 4) ----------------------------------

NOISY_ALPHA = '''import numpy as np


def scale(x, factor):
    print("Zwischenstand \\ud800 \\x1b[31mrot\\x1b[0m \\u202eevil =HYPERLINK(1)")
    return x * factor


def total(x):
    print("Summe \\ud800 \\x1b[2J\\u202eevil")
    raise ValueError("\\x1b]0;Titel\\x07kaputt \\udcff")
'''
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def zip_bytes(entries: dict[str, bytes | str], symlinks=()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ((stat.S_IFLNK | 0o777) if name in symlinks else (stat.S_IFREG | 0o644)) << 16
            zf.writestr(info, data)
    return buf.getvalue()


def assert_complete_reports(out: Path, students: set[str], extra: tuple[str, ...] = ()) -> dict[str, dict]:
    grades = rows(out / "grades.csv")
    assert set(grades) == students
    for name in ("grades.csv", "summary.html", *extra):
        assert (out / name).is_file(), name
    for student in students:
        for name in ("feedback.html", "feedback.md", "results.json", "grading.json"):
            assert (out / student / name).is_file(), (student, name)
        for name in ("feedback.html", "feedback.md", "results.json"):
            assert not CONTROL.search((out / student / name).read_text(encoding="utf-8")), (student, name)
    return grades


def test_hostile_dir_batch_grades_everyone_else(tmp_path):
    subs = tmp_path / "subs"
    for name in ("s1", "grades.csv", "summary.html", "deepnb", "deepmanifest", "noisy", "wrongtypes"):
        (subs / name).mkdir(parents=True)
    for name in ("s1", "grades.csv", "summary.html", "deepmanifest"):
        (subs / name / "alpha.py").write_text(REF["alpha.py"])
    (subs / "deepnb" / "abgabe.ipynb").write_text("[" * 100_000)
    (subs / "deepmanifest" / "manifest.json").write_text("[" * 100_000)
    (subs / "noisy" / "alpha.py").write_text(NOISY_ALPHA)
    (subs / "wrongtypes" / "abgabe.ipynb").write_text('{"cells": {"a": 1}, "nbformat": 4, "metadata": []}')
    (subs / "bomb.zip").write_bytes(zip_bytes({"alpha.py": REF["alpha.py"], "data.bin": b"\0" * (30 * 2**20)}))
    (subs / "slip.zip").write_bytes(zip_bytes({"../../evil.py": "x = 1", "alpha.py": REF["alpha.py"]}))
    (subs / "link.zip").write_bytes(zip_bytes({"alpha.py": "/etc/passwd"}, symlinks={"alpha.py"}))
    (subs / "broken.zip").write_bytes(b"PK\x03\x04 broken")
    out = tmp_path / "out"
    proc = run_grade(["batch", str(subs), "-o", str(out), "--jobs", "2"])
    assert proc.returncode == 0, proc.stderr
    students = {"s1", "grades.csv_", "summary.html_", "deepnb", "deepmanifest", "noisy", "wrongtypes", "bomb",
                "slip", "link", "broken"}
    grades = assert_complete_reports(out, students)
    for student in ("s1", "grades.csv_", "summary.html_", "deepmanifest"):
        assert grades[student]["alpha"] == "3" and grades[student]["status"] == "graded", student
    assert "abgabe.ipynb ist kein gültiges Notebook (sein JSON ist mehr als 64 Ebenen" in grades["deepnb"]["status"]
    assert "abgabe.ipynb ist kein gültiges Jupyter-Notebook" in grades["wrongtypes"]["status"]
    assert "ZIP-Bombe" in grades["bomb"]["status"] or "größer als die Obergrenze" in grades["bomb"]["status"]
    assert "aus seinem Ordner hinausführt" in grades["slip"]["status"]
    assert "symbolischen Link (alpha.py)" in grades["link"]["status"]
    # a lone surrogate in printed output is written, and the 1 point of part a is kept
    assert grades["noisy"]["alpha"] == "1" and grades["noisy"]["status"] == "graded"
    record = json.loads((out / "noisy" / "grading.json").read_text(encoding="utf-8"))
    assert record["score"] == 1
    md = (out / "noisy" / "feedback.md").read_text(encoding="utf-8")
    assert "\\ud800" in md and "\\u202e" in md and "kaputt" in md
    # rerun: nothing is graded twice, the reports are the same
    again = run_grade(["batch", str(subs), "-o", str(out), "--jobs", "2"])
    assert again.returncode == 0 and f"{len(students)} unchanged" in again.stdout
    assert rows(out / "grades.csv") == grades


def test_hostile_moodle_batch(tmp_path):
    evil = "Evil_1000001_assignsubmission_file_ E_1000002_assignsubmission_file_"
    archive = tmp_path / "KURS-Blatt-77.zip"
    archive.write_bytes(zip_bytes({
        "Victim V_1000001_assignsubmission_file_alpha.py": REF["alpha.py"],
        evil + "alpha.py": STUB["alpha.py"],
        '=HYPERLINK("http:__x";"y")_1000003_assignsubmission_file/alpha.py': REF["alpha.py"],
        "@SUM(1+1)_1000004_assignsubmission_file/manifest.json": "[" * 100_000,
        "@SUM(1+1)_1000004_assignsubmission_file/alpha.py": REF["alpha.py"],
        "Tief Nb_1000005_assignsubmission_file/abgabe.ipynb": "[" * 100_000,
        "Zeile\nUmbruch_1000006_assignsubmission_file/alpha.py": REF["alpha.py"],
    }))
    out = tmp_path / "out"
    proc = run_grade(["batch", str(archive), "-o", str(out), "--layout", "moodle", "--jobs", "2"])
    assert proc.returncode == 0, proc.stderr
    ids = {str(i) for i in range(1000001, 1000007)}
    grades = assert_complete_reports(out, ids, ("moodle_grading_worksheet.csv", "moodle_feedback_files.zip"))
    assert grades["1000001"]["alpha"] == "3" and grades["1000002"]["alpha"] == "0"   # nobody claims 1000001
    assert grades["1000004"]["alpha"] == "3" and "Ebenen tief verschachtelt" in grades["1000005"]["status"]
    with open(out / "moodle_grading_worksheet.csv", newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    by_id = {r[0]: r for r in table[1:]}
    assert set(by_id) == {f"Participant {i}" for i in ids}
    assert by_id["Participant 1000003"][1].startswith("'=") and by_id["Participant 1000004"][1].startswith("'@")
    assert by_id["Participant 1000001"][table[0].index("Grade")] == "3.00"


def test_timed_out_grading_leaves_no_copy_and_canvas_anon_is_a_name(tmp_path):
    src = tmp_path / "canvas"
    src.mkdir()
    (src / "smith_12_34_alpha.py").write_text(REF["alpha.py"].replace("return x * factor",
                                                                      "import time; time.sleep(2.5); return x * factor")
                                              .replace("return float(np.sum(x))",
                                                       "import time; time.sleep(2.5); return float(np.sum(x))"))
    (src / "anon_13_35_alpha.py").write_text(REF["alpha.py"])          # the student "On An"
    (src / "anon_LATE_14_36_alpha.py").write_text(REF["alpha.py"])
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "out"
    proc = run_grade(["batch", str(src), "-o", str(out), "--layout", "canvas", "--timeout", "4", "--jobs", "2"],
                     env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent), TMPDIR=str(tmp)))
    assert proc.returncode == 0, proc.stderr
    grades = assert_complete_reports(out, {"12", "13", "14"}, ("canvas_gradebook.csv",))
    assert "time limit" in grades["12"]["status"]
    assert "Zeitlimit" in (out / "12" / "feedback.md").read_text(encoding="utf-8")   # German for the student
    assert not list(tmp.rglob("grade-sbx-*"))  # the sandboxes' folders and the batch's own
    with open(out / "canvas_gradebook.csv", newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    assert {r[1]: r[3] for r in table[2:]} == {"12": "", "13": "3", "14": "3"}


def test_records_take_any_text(tmp_path, mini):
    from grader.staff import batch
    from grader.trusted import results

    record = results.error_result(mini, ["alpha"], "kaputt \ud800 \x1b[31m", "s1")
    record["exercises"][0]["parts"][0]["tests"] = [{"output": "\udcff" * 3, "message": "\u202e"}]
    batch.write_record(tmp_path, "s1", record)
    again = batch.load_record(tmp_path, "s1")
    assert again["status"] == "error: kaputt \ud800 \x1b[31m"
    assert again["exercises"][0]["parts"][0]["tests"][0]["output"] == "\udcff" * 3
    (tmp_path / "s2").mkdir()
    (tmp_path / "s2" / "grading.json").write_text("[" * 100_000)
    assert batch.load_record(tmp_path, "s2") is None          # unreadable: graded again, no crash


def test_record_write_removes_what_a_killed_writer_left(tmp_path):
    """A batch SIGKILLed between writing and renaming leaves .grading.json.PID.tmp; the
    rerun regrades that student, and its write removes the leftover."""
    from grader.staff import batch

    (tmp_path / "s1").mkdir()
    left = tmp_path / "s1" / ".grading.json.99999999.tmp"
    left.write_text('{"half": ')
    other = tmp_path / "s1" / "feedback.html"
    other.write_text("bleibt")
    batch.write_record(tmp_path, "s1", {"status": "ok"})
    assert not left.exists()
    assert other.read_text() == "bleibt"
    assert batch.load_record(tmp_path, "s1") == {"status": "ok"}
    staff = tmp_path / "grades.csv"  # a leftover's name that is a symlink: the link goes, never its target
    staff.write_text("staff")
    (tmp_path / "s1" / ".grading.json.1.tmp").symlink_to(staff)
    (tmp_path / "s1" / ".grading.json.2.tmp").symlink_to(tmp_path)
    batch.write_record(tmp_path, "s1", {"status": "again"})
    assert staff.read_text() == "staff" and sorted(p.name for p in (tmp_path / "s1").iterdir()) == [
        "feedback.html", "grading.json"]


def test_batch_writes_only_reserved_names_at_the_top(tmp_path):
    """Everything `grade batch` writes beside the student folders is a name no student id can take."""
    from grader.staff.layouts import RESERVED

    out = tmp_path / "out"
    archive = tmp_path / "m.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("A B_1001_assignsubmission_file/alpha.py", "x = (")
    assert run_grade(["batch", str(archive), "-o", str(out), "--layout", "moodle", "--only", "alpha"]).returncode == 0
    top = {p.name for p in out.iterdir()} - {"1001", ".work"}
    assert top and top <= RESERVED, top - RESERVED


def test_a_record_that_breaks_rendering_costs_only_its_row(tmp_path, mini, monkeypatch):
    """write_reports(): a student whose reports cannot be rendered gets an error row; the rest are written."""
    from grader.staff import batch
    from grader.trusted import results
    from grader.staff.layouts import Submission
    from grader.staff.reports import feedback

    subs = [Submission(s, None, {}) for s in ("s1", "s2", "s3")]
    for sub in subs:
        record = results.build(mini, ["alpha"], [], "all", student_id=sub.student_id)
        batch.write_record(tmp_path, sub.student_id, record)
    broken = batch.load_record(tmp_path, "s3")
    broken["exercises"] = 5                                 # a record no report can show
    batch.write_record(tmp_path, "s3", broken)
    real = feedback.write

    def write(record, folder):
        if Path(folder).name == "s2" and not str(record["status"]).startswith("error"):
            raise RuntimeError("template bug")
        real(record, folder)

    monkeypatch.setattr(feedback, "write", write)
    records = batch.write_reports(mini, subs, ["alpha"], tmp_path, batch.BatchOptions())
    assert [r["status"].split(" (")[0] for r in records] == [
        "graded", "error: the reports could not be written for this submission",
        "error: the reports could not be written for this submission"]
    grades = rows(tmp_path / "grades.csv")
    assert set(grades) == {"s1", "s2", "s3"} and (tmp_path / "summary.html").is_file()
    for sub in subs:
        assert (tmp_path / sub.student_id / "feedback.md").is_file()
    assert "nicht Ihr Fehler" in (tmp_path / "s2" / "feedback.md").read_text(encoding="utf-8")
    assert "template bug" in (tmp_path / "batch.log").read_text(encoding="utf-8")


def test_bad_manual_row_is_a_clean_error_before_grading(tmp_path):
    """A manual points file with a non-number stops the batch at once, with the line, and no traceback."""
    subs = tmp_path / "subs"
    (subs / "s001").mkdir(parents=True)
    for name, text in REF.items():
        (subs / "s001" / name).write_text(text)
    manual = tmp_path / "points.csv"
    manual.write_text("student,part,points,comment\ns001,alpha.essay,viel,gut\n", encoding="utf-8")
    proc = run_grade(["batch", str(subs), "-o", str(tmp_path / "out"), "--manual", str(manual)])
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "line 2" in proc.stderr and "'viel' is not a number" in proc.stderr
    assert not list((tmp_path / "out").glob("*/grading.json")), "nothing was graded"


def test_every_file_of_out_is_staff_only(tmp_path):
    subs = tmp_path / "subs"
    (subs / "s001").mkdir(parents=True)
    for name, text in REF.items():
        (subs / "s001" / name).write_text(text)
    out = tmp_path / "out"
    assert run_grade(["batch", str(subs), "-o", str(out)]).returncode == 0
    files = [p for p in out.rglob("*") if p.is_file() and ".work" not in p.parts]
    assert any(p.name == "grading.json" for p in files) and any(p.name == "grades.csv" for p in files)
    loose = [f"{p.relative_to(out)} {oct(p.stat().st_mode & 0o777)}" for p in files if p.stat().st_mode & 0o077]
    assert not loose, loose
    assert out.stat().st_mode & 0o077 == 0


def test_suite_digest_sees_the_course_framework_but_not_student_files(tmp_path):
    """A rerun regrades after any change to what grading runs (framework modules, test packages),
    and not after a change to a stub (the students' files are the submissions' business)."""
    from grader import course as course_mod
    from grader.staff import batch

    course_dir = tmp_path / "course"
    shutil.copytree(MINI, course_dir, ignore=shutil.ignore_patterns("__pycache__"))
    course = course_mod.load(course_dir)
    before = batch.suite_digest(course, ["alpha"])
    (course_dir / "exercises" / "alpha.py").write_text("# a student's stub changed\n")
    assert batch.suite_digest(course, ["alpha"]) == before
    for changed in (course_dir / "exercises" / "tests" / "__init__.py", course_dir / "exercises" / "framework.py",
                    course_dir / "autograder_tests" / "helpers" / "data.txt"):
        changed.parent.mkdir(parents=True, exist_ok=True)
        changed.write_text(changed.read_text() + "\n# changed\n" if changed.exists() else "# new\n")
        after = batch.suite_digest(course, ["alpha"])
        assert after != before, changed
        before = after
