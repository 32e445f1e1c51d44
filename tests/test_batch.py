"""`grade batch` end to end on the mini course: layouts, reports, resume after kill -9."""
from __future__ import annotations

import csv
import json
import os
import signal
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
GRADE = [sys.executable, "-c", "from cli import main; main()"]


def notebook_bytes(files: dict[str, str]) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Aufgabe"))
    for name, code in files.items():
        nb.cells.append(nbformat.v4.new_code_cell(code, metadata={"tags": [f"exercise-file:{name}"]}))
    nb.cells.append(nbformat.v4.new_code_cell("!grade alpha"))
    return nbformat.writes(nb).encode()


def run_grade(args: list[str], cwd: Path = MINI, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
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
    assert grades["s004"]["status"].startswith("error:") and "zip" in grades["s004"]["status"]
    assert grades["s005"]["alpha"] == "0"
    for student in grades:
        for name in ("feedback.html", "feedback.md", "results.json"):
            assert (out / student / name).is_file(), (student, name)
    gs = json.loads((out / "s001" / "results.json").read_text())
    assert gs["score"] == 4 and all("visibility" in t for t in gs["tests"])
    assert "UTF-8" in (out / "s005" / "feedback.md").read_text()
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
