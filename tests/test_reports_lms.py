"""grades.csv, Moodle worksheet + feedback zip, Canvas gradebook CSV."""

from __future__ import annotations

import csv
import re
import io
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from grader.staff.layouts import Submission
from grader.staff.reports import canvas, feedback, gradescsv, moodle

FIX = Path(__file__).parent / "fixtures" / "lms"
NAMES = ["full", "partial", "error", "pending", "hidden"]
EXERCISES = ["ex38", "ex39", "ex41", "gan", "qlearning"]


def load(name: str) -> dict:
    return json.loads((FIX / "results" / f"{name}.json").read_text(encoding="utf-8"))


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def moodle_subs(style_cycle=("4.1", "old", "flat", "4.1", "flat")) -> list[Submission]:
    people = ["Max Mustermann", "Erika Musterfrau", "Jörg Müller", "Participant", "Ana Lima"]
    subs = []
    for i, (name, style) in enumerate(zip(people, style_cycle)):
        r = load(NAMES[i])
        pid = str(1234567 + i)
        subs.append(Submission(r["student"], name, {"participant_id": pid, "fullname": name,
                                                      "folder_style": style, "prefix": f"{name}_{pid}"}))
    return subs


# --- grades.csv --------------------------------------------------------------

def test_grades_csv(tmp_path):
    path = tmp_path / "grades.csv"
    gradescsv.write([load(n) for n in NAMES], path, EXERCISES)
    rows = read_csv(path)
    assert rows[0] == ["student", *EXERCISES, "total", "max_total", "status"]
    by = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert by["s1000002"]["ex41"] == "2.75" and by["s1000002"]["gan"] == "2.5" and by["s1000002"]["ex38"] == ""
    assert by["s1000002"]["total"] == "5.25" and by["s1000002"]["max_total"] == "9"
    assert by["s1000003"]["status"] == "error: the zip file is corrupt"
    assert by["s1000005"]["qlearning"] == "0"
    for r in by.values():   # the total is the sum of the exercise columns
        assert sum(float(r[e] or 0) for e in EXERCISES) == pytest.approx(float(r["total"]))


FORMULAS = ['=HYPERLINK("http://x.example";"klick")', "@SUM(A1:A9)", "+1+cmd|' /C calc'!A0", "-2+3",
            "\t=1+1", "\r=1+1"]


def test_grades_csv_neutralises_formulas(tmp_path):
    records = []
    for i, text in enumerate(FORMULAS):
        r = load("partial")
        r["student"] = text
        r["status"] = "error: " + text if i % 2 else "graded"
        records.append(r)
    gradescsv.write(records, tmp_path / "grades.csv", EXERCISES)
    rows = read_csv(tmp_path / "grades.csv")
    for row in rows[1:]:
        assert row[0].startswith("'") and row[0][1] in "=@+-\t\n"
        assert row[rows[0].index("total")] == "5.25" and row[rows[0].index("ex41")] == "2.75"
    assert rows[2][-1].startswith("error: ")          # status text starts with a letter: unchanged


def test_csv_cells_keep_numbers_and_clean_text():
    from grader.staff.reports.files import csv_cell

    for number in ("-1", "-0.25", "-0,5", "3,00", "1e-05", "-"):
        assert csv_cell(number) == number
    assert csv_cell(-1.5) == "-1.5" and csv_cell(None) == ""
    assert csv_cell("=1+1") == "'=1+1" and csv_cell("-1+1") == "'-1+1" and csv_cell("-inf") == "'-inf"
    assert csv_cell("\x1b[31m=cmd\x1b[0m") == "'=cmd"       # the escape sequence cannot hide a formula
    assert csv_cell("Jörg Müller") == "Jörg Müller"


def test_moodle_and_canvas_files_neutralise_formulas(tmp_path):
    results = [load(n) for n in NAMES]
    subs = moodle_subs()
    for sub, text in zip(subs, FORMULAS):
        sub.name = sub.lms["fullname"] = text
    moodle.write_worksheet(results, subs, tmp_path / "w.csv", lang="de")
    rows = read_csv(tmp_path / "w.csv")
    names = [r[1] for r in rows[1:]]
    assert all(n.startswith("'") for n in names), names
    grade = rows[0].index("Bewertung")
    assert rows[2][grade] == "5,25"                   # numbers stay numbers

    csubs = canvas_subs()
    for sub, text in zip(csubs, FORMULAS):
        sub.name = text
        sub.lms["section"] = "=cmd()"
    canvas.write(results, csubs, tmp_path / "c.csv", "@Übung")
    rows = read_csv(tmp_path / "c.csv")
    assert rows[0][3] == "'@Übung"
    assert all(r[0].startswith("'") and r[2] == "'=cmd()" for r in rows[2:])
    assert rows[1] == ["    Points Possible", "", "", "9"]
    assert {r[1]: r[3] for r in rows[2:]}["5679"] == "5.25"


# --- Moodle ------------------------------------------------------------------

def test_moodle_worksheet_en_matches_moodle_headers(tmp_path):
    path = tmp_path / "Grades.csv"
    stamp = datetime(2026, 11, 24, 10, 15, tzinfo=timezone.utc)
    moodle.write_worksheet([load(n) for n in NAMES], moodle_subs(), path, lang="en", modified=stamp)
    example = read_csv(FIX / "moodle_grading_worksheet.example.en.csv")
    rows = read_csv(path)
    assert rows[0] == example[0]
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "a BOM would break Moodle's header match"
    assert raw.startswith(b'"Identifier","Full name"')          # all cells quoted like Moodle
    row = dict(zip(rows[0], rows[2]))
    assert row["Identifier"] == "Participant 1234568"
    assert row["Full name"] == "Erika Musterfrau"
    assert row["Grade"] == "5.25" and row["Maximum grade"] == "9.00"
    assert row["Grade can be changed"] == "Yes"
    parsed = datetime.fromisoformat(row["Last modified (grade)"])
    assert parsed == stamp and parsed.utcoffset() is not None
    assert "5.25 von 9 Punkten" in row["Feedback comments"]
    # same cell shapes as Moodle's own example row
    ex = dict(zip(example[0], example[1]))
    assert row["Identifier"].startswith("Participant ") and ex["Identifier"].startswith("Participant ")
    assert len(row["Grade"].split(".")[1]) == len(ex["Grade"].split(".")[1]) == 2
    error_row = dict(zip(rows[0], rows[3]))
    assert error_row["Grade"] == "" and "the zip file is corrupt" in error_row["Feedback comments"]
    pending_row = dict(zip(rows[0], rows[4]))
    assert "noch ausstehend: Teil mlp" in pending_row["Feedback comments"]


def test_moodle_worksheet_de(tmp_path):
    path = tmp_path / "Bewertungen.csv"
    moodle.write_worksheet([load(n) for n in NAMES], moodle_subs(), path, lang="de")
    rows = read_csv(path)
    assert rows[0] == ["ID", "Vollständiger Name", "E-Mail-Adresse", "Status", "Bewertung", "Bestwertung",
                       "Bewertung kann geändert werden", "Zuletzt geändert (Abgabe)",
                       "Zuletzt geändert (Bewertung)", "Feedback als Kommentar"]
    row = dict(zip(rows[0], rows[2]))
    assert row["ID"] == "Teilnehmer/in1234568"              # no space in German
    assert row["Bewertung"] == "5,25" and row["Bestwertung"] == "9,00"
    assert row["Bewertung kann geändert werden"] == "Ja"
    assert datetime.fromisoformat(row["Zuletzt geändert (Bewertung)"]).utcoffset() is not None
    assert dict(zip(rows[0], rows[3]))["Vollständiger Name"] == "Jörg Müller"


def test_moodle_worksheet_needs_participant_ids(tmp_path):
    subs = [Submission("s1000001", None, {})]
    with pytest.raises(ValueError, match="participant id"):
        moodle.write_worksheet([load("full")], subs, tmp_path / "w.csv")
    with pytest.raises(ValueError, match="without a Moodle submission"):
        moodle.write_worksheet([load("full")], [], tmp_path / "w.csv")
    with pytest.raises(ValueError, match="lang"):
        moodle.write_worksheet([load("full")], moodle_subs(), tmp_path / "w.csv", lang="fr")


def test_moodle_feedback_zip_names_follow_the_download(tmp_path):
    results = [load(n) for n in NAMES]
    for r in results:
        feedback.write(r, tmp_path / "out" / r["student"])
    (tmp_path / "out" / "s1000005" / "feedback.html").unlink()     # not graded yet: left out
    zpath = tmp_path / "feedback.zip"
    names = moodle.write_feedback_zip(results, moodle_subs(), tmp_path / "out", zpath)
    with zipfile.ZipFile(zpath) as zf:
        assert sorted(zf.namelist()) == sorted(names)
        assert zf.testzip() is None
        assert "5,25" in zf.read("Erika Musterfrau_1234568_assignsubmission_file_/feedback.html").decode()
    assert names == [
        "Max Mustermann_1234567_assignsubmission_file/feedback.html",
        "Erika Musterfrau_1234568_assignsubmission_file_/feedback.html",
        "Jörg Müller_1234569_assignsubmission_file_feedback.html",
        "Participant_1234570_assignsubmission_file/feedback.html",
    ]
    # what Moodle's importer does: explode('_', part, 5) -> participant id is the 2nd piece
    for name in names:
        info = name.split("/")[0].split("_", 4)
        assert info[1].isdigit() and info[2] == "assignsubmission" and info[3].startswith("file")


# --- Canvas ------------------------------------------------------------------

def canvas_subs() -> list[Submission]:
    return [Submission(load(n)["student"], f"student{i}", {"user_id": str(5678 + i), "late": False})
            for i, n in enumerate(NAMES)]


def test_canvas_csv_matches_import_format(tmp_path):
    path = tmp_path / "canvas.csv"
    canvas.write([load(n) for n in NAMES], canvas_subs(), path, "Übung 12: Faltung", assignment_id=4711)
    rows = read_csv(path)
    example = read_csv(FIX / "canvas_gradebook_import.example.csv")
    assert rows[0][:2] == example[0][:2] == ["Student", "ID"] and rows[0][2] == "Section"
    assert rows[0][3] == "Übung 12: Faltung (4711)"
    assert rows[1][0] == example[1][0] == "    Points Possible"
    assert rows[1][3] == "9"
    by_id = {r[1]: r for r in rows[2:]}
    assert by_id["5679"][3] == "5.25"
    assert by_id["5680"][3] == ""                     # error: no grade, Canvas leaves it unchanged


def test_canvas_leaves_out_anonymous_rows_only(tmp_path):
    """A student without a numeric user id costs only their own row, never the file."""
    subs = canvas_subs()
    subs[0].lms["user_id"] = "anon_AbC12"
    left = canvas.write([load(n) for n in NAMES], subs, tmp_path / "c.csv", "Übung 12")
    assert left == ["s1000001 (anonymous)"]
    rows = read_csv(tmp_path / "c.csv")
    assert sorted(r[1] for r in rows[2:]) == ["5679", "5680", "5681", "5682"]


def test_canvas_rejects_reserved_titles(tmp_path):
    with pytest.raises(ValueError, match="another assignment title"):
        canvas.write([load("full")], canvas_subs(), tmp_path / "c.csv", "Final Score bonus")
    assert not (tmp_path / "c.csv").exists()


# --- student-controlled text in every report -----------------------------------------------

HOSTILE = "a\x1b[31mrot\x1b[0m b\x1b]0;Titel\x07 c\u202eevil\u2066 d\x07\x00\x85 e\ud800 f\r\ng\rh\ti \x9b31mC1"


def test_clean_text_removes_escapes_and_shows_controls():
    from grader.feedback.text import clean_text

    clean = clean_text(HOSTILE)
    assert clean == "arot b c\\u202eevil\\u2066 d\\x07\\x00\\x85 e\\ud800 f\ng\nh\ti C1"
    assert clean_text("Grüße\n\tok") == "Grüße\n\tok"
    clean.encode("utf-8")                                # no lone surrogate left


def test_reports_show_no_control_characters_and_write_surrogates(tmp_path):
    from grader.staff.reports import gradescope, summary

    r = load("partial")
    failing = next(t for ex in r["exercises"] for p in ex["parts"] for t in p["tests"] if t["status"] != "passed")
    failing["output"] = HOSTILE
    failing["message"] = "Fehler " + HOSTILE
    r["student"] = "s\x1b[2Jx"
    feedback.write(r, tmp_path)
    gradescope.write(r, tmp_path / "results.json")
    summary.write([r, load("full")], tmp_path / "summary.html")
    bad = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
    for name in ("feedback.md", "feedback.html", "results.json", "summary.html"):
        text = (tmp_path / name).read_text(encoding="utf-8")   # valid UTF-8: surrogates are escaped
        assert not bad.search(text), name
    assert "\\u202e" in (tmp_path / "feedback.md").read_text(encoding="utf-8")
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert "ud800" in json.dumps(data)


def test_write_text_atomic_accepts_lone_surrogates(tmp_path):
    from grader.staff.reports.files import write_text_atomic

    write_text_atomic(tmp_path / "x.txt", "2.75/3 \ud800")
    assert (tmp_path / "x.txt").read_bytes() == b"2.75/3 \\ud800"


def test_a_report_write_removes_the_temp_file_a_killed_writer_left(tmp_path):
    """A SIGKILL between writing and renaming leaves .NAME.XXXX.tmp beside the report; the next
    write of that report removes it, and only its own (glob characters in a name match literally)."""
    from grader.staff.reports.files import write_text_atomic

    left = tmp_path / ".grades.csv.k2j3_x.tmp"
    left.write_text("student,total\ns1,")
    other = tmp_path / ".summary.md.abc.tmp"  # another report's leftover: its own next write removes it
    other.write_text("x")
    write_text_atomic(tmp_path / "grades.csv", "student,total\ns1,3\n")
    assert (tmp_path / "grades.csv").read_text() == "student,total\ns1,3\n"
    assert not left.exists() and other.exists()
    assert (tmp_path / "grades.csv").stat().st_mode & 0o777 == 0o600
    left.write_text("x")  # "[g]rades.csv" as a pattern would match .grades.csv's leftover
    own = tmp_path / ".[g]rades.csv.abc.tmp"
    own.write_text("x")
    write_text_atomic(tmp_path / "[g]rades.csv", "y")
    assert left.exists() and not own.exists()


def test_batch_reasons_reach_students_in_german():
    from grader.trusted.results import error_reason

    assert error_reason("error: grading took longer than the time limit").startswith("die Bewertung dauerte")
    assert "nicht Ihr Fehler" in error_reason("error: the grader failed on this submission (see batch.log)")
    assert error_reason("error: the zip file is corrupt") == "the zip file is corrupt"
