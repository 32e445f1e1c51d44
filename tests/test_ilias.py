"""ILIAS: reading exercise downloads (`--layout ilias`) and writing the multi-feedback zip and status file."""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import MINI
from grader.staff.layouts import RESERVED, read_submissions
from grader.staff.layouts.naming import ilias_ascii, parse_ilias_folder
from grader.staff.reports import ilias

REF = {n: (MINI / "solutions" / n).read_text() for n in ("alpha.py", "beta.py")}
STUB = {n: (MINI / "exercises" / n).read_text() for n in ("alpha.py", "beta.py")}
EXPECTED = {"alpha.py", "beta.py"}


def ilias_dir(last: str, first: str, login: str, usr_id: int) -> str:
    """The folder name ILIAS gives a student (ilExSubmission::getDirectoryNameFromUserData)."""
    return ilias_ascii(f"{last.strip()}_{first.strip()}_{login.strip()}_{usr_id}")


def download(submissions: str = "Abgaben", title: str | None = "Übungsblatt 3") -> dict[str, str]:
    """A realistic ILIAS "download all submissions": umlauts, names with '_', a team, a renamed folder."""
    root = (ilias_ascii(title) + "/" if title else "") + submissions + "/"
    mueller = ilias_dir("Müller", "Jörg", "jmüller", 4711)
    heide = ilias_dir("von_der Heide", "Anna_Lena", "avdh", 12)
    return {
        f"{root}{mueller}/alpha.py": REF["alpha.py"],
        f"{root}{mueller}/beta.py": REF["beta.py"],
        f"{root}{heide}/alpha.py": STUB["alpha.py"],
        f"{root}Team 7/{ilias_dir('Öztürk', 'Ça?lar', 'coeztuerk', 815)}/Late Submission - alpha.py": REF["alpha.py"],
        f"{root}Kaputt_Ordner_umbenannt/alpha.py": REF["alpha.py"],
    }


def as_folder(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "download"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def as_zip(tmp_path: Path, files: dict[str, str], name: str = "Uebungsblatt_3.zip") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        for entry, text in files.items():
            zf.writestr(entry, text)
    return path


def test_ilias_ascii_follows_getASCIIFilename():
    assert ilias_ascii("Müller_Jörg_jmüller_4711") == "Mueller_Joerg_jmueller_4711"
    assert ilias_ascii("Größe ÄÖÜ") == "Groesse AeOeUe"
    assert ilias_ascii("Élodie & Zoë") == "Elodie a Zoe"                    # entity's first letter
    assert ilias_ascii("Łukasz") == "__ukasz"                               # no entity: one '_' per UTF-8 byte
    assert ilias_ascii('a:b/c\\d*e?f"g|h') == "a_b_c_d_e_f_g_h"
    assert ilias_ascii("<x>") == "lxg"                                      # htmlentities runs first


def test_folder_name_parsing_takes_the_last_part_as_usr_id():
    info = parse_ilias_folder("von_der_Heide_Anna_Lena_avdh_12")
    assert info["usr_id"] == "12" and info["folder"] == "von_der_Heide_Anna_Lena_avdh_12"
    assert info["lastname"] == "von" and info["login"] == "avdh"            # names with '_' are a best guess
    assert parse_ilias_folder("Mueller_Joerg_jmueller_4711")["login"] == "jmueller"
    assert parse_ilias_folder("Kaputt_Ordner") is None
    assert parse_ilias_folder("Name_١٢") is None                            # digits, but not ASCII


@pytest.mark.parametrize("form", ["folder", "zip"])
@pytest.mark.parametrize("submissions,title", [("Abgaben", "Übungsblatt 3"), ("Submissions", "Sheet 3"),
                                               ("Abgaben", None)])
def test_ilias_download_is_read_per_student(tmp_path, form, submissions, title):
    files = download(submissions, title)
    source = as_folder(tmp_path, files) if form == "folder" else as_zip(tmp_path, files)
    subs = {s.student_id: s for s in read_submissions(source, "ilias", tmp_path / "work", EXPECTED)}
    assert set(subs) == {"4711", "12", "815", "Kaputt_Ordner_umbenannt"}
    m = subs["4711"]
    assert m.error is None and m.name == "Joerg Mueller"
    assert m.lms["login"] == "jmueller" and m.lms["folder"] == "Mueller_Joerg_jmueller_4711"
    assert (m.files_dir / "alpha.py").read_text() == REF["alpha.py"]
    assert (m.files_dir / "beta.py").read_text() == REF["beta.py"]
    assert subs["12"].error is None and subs["12"].lms["folder"] == "von_der Heide_Anna_Lena_avdh_12"
    team = subs["815"]
    assert team.error is None and team.lms["team"] == "Team 7" and team.lms["late"] is True
    assert (team.files_dir / "alpha.py").read_text() == REF["alpha.py"]    # "Late Submission - " dropped
    broken = subs["Kaputt_Ordner_umbenannt"]
    assert broken.error and "ILIAS-Benutzer-ID" in broken.error and "Kaputt_Ordner_umbenannt" in broken.error
    assert not any(broken.files_dir.iterdir())


def test_same_usr_id_twice_is_an_error_for_both(tmp_path):
    files = {"Abgaben/Mueller_Joerg_jmueller_4711/alpha.py": REF["alpha.py"],
             "Abgaben/Mueller_Jorg_jm_4711/alpha.py": STUB["alpha.py"]}
    subs = read_submissions(as_zip(tmp_path, files), "ilias", tmp_path / "w", EXPECTED)
    assert len(subs) == 2 and all(s.error and "mehr als eine Abgabe für die ID 4711" in s.error for s in subs)


def test_traversal_in_an_ilias_zip_costs_only_that_student(tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("Abgaben/Mueller_Joerg_jmueller_4711/alpha.py", REF["alpha.py"])
        zf.writestr("Abgaben/Evil_Eve_eve_66/../../../etc/x.py", "x = 1")
        zf.writestr("Abgaben/Evil_Eve_eve_66/alpha.py", REF["alpha.py"])
    subs = {s.student_id: s for s in read_submissions(path, "ilias", tmp_path / "w", EXPECTED)}
    assert subs["4711"].error is None
    assert "aus seinem Ordner hinausführt" in subs["66"].error
    assert not (tmp_path / "etc").exists() and not (tmp_path / "w" / "etc").exists()


def _record(student: str, score: float, status: str = "graded", pending: bool = False) -> dict:
    part = {"id": "essay", "manual": True, "pending": pending, "score": 0, "max_score": 1}
    return {"student": student, "status": status, "score": score, "max_score": 5,
            "exercises": [{"id": "alpha", "score": score, "max_score": 5, "parts": [part]}]}


def test_status_rule_and_rows():
    subs = [SimpleNamespace(student_id="4711", lms={"usr_id": "4711", "login": "jmueller", "lastname": "Mueller",
                                                 "firstname": "Joerg", "folder": "Mueller_Joerg_jmueller_4711"}),
            SimpleNamespace(student_id="12", lms={"usr_id": "12", "folder": "x_12"}),
            SimpleNamespace(student_id="13", lms={"usr_id": "13", "folder": "x_13"}),
            SimpleNamespace(student_id="14", lms={"usr_id": "14", "folder": "x_14"}),
            SimpleNamespace(student_id="Kaputt", lms={"folder": "Kaputt"})]
    results = [_record("4711", 2.5), _record("12", 0), _record("13", 0, pending=True),
               _record("14", 0, status="error: =HYPERLINK(\"x\") die ZIP-Datei ist beschädigt"), _record("Kaputt", 3)]
    left_out: list[str] = []
    rows = ilias.status_rows(results, subs, left_out)
    assert rows[0] == ilias.STATUS_HEADER and left_out == ["Kaputt"]
    by_id = {r[1]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert [r[1] for r in rows[1:]] == ["12", "13", "14", "4711"]          # sorted by usr_id as a number
    assert by_id["4711"]["status"] == "passed" and by_id["4711"]["mark"] == "2.5"
    assert by_id["4711"]["update"] == "1" and by_id["4711"]["login"] == "jmueller"
    assert "2,5 von 5 Punkten" in by_id["4711"]["comment"]
    assert ilias.comment({**_record("x", 1), "max_score": 1}).startswith("Autograder: 1 von 1 Punkt.")
    assert by_id["12"]["status"] == "failed" and by_id["12"]["mark"] == "0"
    assert by_id["13"]["status"] == "notgraded" and "noch ausstehend" in by_id["13"]["comment"]
    assert by_id["14"]["status"] == "notgraded" and by_id["14"]["update"] == "0" and by_id["14"]["mark"] == ""
    assert "die ZIP-Datei ist beschädigt" in by_id["14"]["comment"]


def test_multi_feedback_zip_is_reproducible_and_named_like_ilias(tmp_path):
    subs = [SimpleNamespace(student_id="4711", lms={"usr_id": "4711", "folder": "Mueller_Joerg_jmueller_4711"}),
            SimpleNamespace(student_id="12", lms={"usr_id": "12", "lastname": "Groß", "firstname": "Zoë", "login": "zg"}),
            SimpleNamespace(student_id="Kaputt", lms={"folder": "Kaputt"})]
    for s in subs:
        (tmp_path / s.student_id).mkdir()
        (tmp_path / s.student_id / "feedback.html").write_text(f"<p>{s.student_id}</p>")
        (tmp_path / s.student_id / "feedback.md").write_text(f"# {s.student_id}")
    results = [_record("4711", 1), _record("12", 0), _record("Kaputt", 1)]
    first = ilias.multi_feedback_bytes(results, subs, tmp_path, "Übungsblatt 3: RNN/GAN", "321", "x")
    again = ilias.multi_feedback_bytes(list(reversed(results)), subs, tmp_path, "Übungsblatt 3: RNN/GAN", "321", "x")
    assert first == again
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    top = "multi_feedback_Uebungsblatt_3__RNN_GAN_321"
    assert names == ["status.csv", f"{top}/", f"{top}/Gross_Zoe_zg_12/", f"{top}/Mueller_Joerg_jmueller_4711/",
                     f"{top}/Gross_Zoe_zg_12/feedback.html", f"{top}/Gross_Zoe_zg_12/feedback.md",
                     f"{top}/Mueller_Joerg_jmueller_4711/feedback.html",
                     f"{top}/Mueller_Joerg_jmueller_4711/feedback.md"]


def test_batch_with_ilias_layout_end_to_end(tmp_path):
    from test_batch import rows, run_grade

    archive = as_zip(tmp_path, download("Abgaben", "Übungsblatt 3"))
    out = tmp_path / "out"
    proc = run_grade(["batch", str(archive), "-o", str(out), "--layout", "ilias", "--jobs", "2",
                      "--assignment-title", "Übungsblatt 3", "--assignment-id", "321"])
    assert proc.returncode == 0, proc.stderr
    grades = rows(out / "grades.csv")
    assert set(grades) == {"4711", "12", "815", "Kaputt_Ordner_umbenannt"}
    assert grades["4711"]["total"] == "4" and grades["Kaputt_Ordner_umbenannt"]["status"].startswith("error:")
    assert {"ilias_status.csv", "ilias_multi_feedback.zip"} <= {p.name for p in out.iterdir()} & RESERVED

    with open(out / "ilias_status.csv", newline="", encoding="utf-8") as fh:
        status = list(csv.DictReader(fh))
    assert list(status[0]) == ilias.STATUS_HEADER
    by_id = {r["usr_id"]: r for r in status}
    assert set(by_id) == {"4711", "12", "815"}                              # the renamed folder cannot be matched
    for usr_id, row in by_id.items():
        assert row["update"] == "1" and row["mark"] == grades[usr_id]["total"], usr_id
        assert row["status"] == ("passed" if float(grades[usr_id]["total"]) > 0 else "notgraded")  # essay pending
    assert by_id["4711"]["status"] == "passed" and by_id["4711"]["lastname"] == "Mueller"
    assert by_id["12"]["mark"] == "0" and by_id["12"]["status"] == "notgraded"

    with zipfile.ZipFile(out / "ilias_multi_feedback.zip") as zf:
        names = zf.namelist()
        assert zf.read("status.csv") == (out / "ilias_status.csv").read_bytes()
        files = [n for n in names if not n.endswith("/") and n != "status.csv"]
        tops = {n.split("/")[0] for n in files}
        assert tops == {"multi_feedback_Uebungsblatt_3_321"}
        folders = {n.split("/")[1] for n in files}
        assert folders == {"Mueller_Joerg_jmueller_4711", "von_der Heide_Anna_Lena_avdh_12",
                           ilias_dir("Öztürk", "Ça?lar", "coeztuerk", 815)}
        assert {f.rsplit("_", 1)[1] for f in folders} == set(by_id)
        for name in files:
            folder, leaf = name.split("/")[1:]
            student = folder.rsplit("_", 1)[1]
            assert leaf in ("feedback.html", "feedback.md")
            assert zf.read(name) == (out / student / leaf).read_bytes()
        assert all(zi.date_time == (1980, 1, 1, 0, 0, 0) for zi in zf.infolist())


def test_merged_ilias_shards_write_the_ilias_files(tmp_path):
    """`grade merge` takes the layout from the shards and the ILIAS names from the records' lms."""
    from test_batch import rows, run_grade

    archive = as_zip(tmp_path, download("Submissions", "Sheet 3"))
    shards = []
    for index in range(2):
        out = tmp_path / f"shard-{index}"
        proc = run_grade(["batch", str(archive), "-o", str(out), "--layout", "ilias", "--shard", f"{index}/2",
                          "--jobs", "1"])
        assert proc.returncode == 0, proc.stderr
        assert not (out / "ilias_status.csv").exists()                     # class reports only after the merge
        shards.append(out)
    final = tmp_path / "final"
    proc = run_grade(["merge", *map(str, shards), "-o", str(final), "--assignment-id", "77"])
    assert proc.returncode == 0, proc.stderr
    grades = rows(final / "grades.csv")
    with open(final / "ilias_status.csv", newline="", encoding="utf-8") as fh:
        status = {r["usr_id"]: r for r in csv.DictReader(fh)}
    assert set(status) == {"4711", "12", "815"}
    assert all(row["mark"] == grades[uid]["total"] for uid, row in status.items())
    assert status["815"]["login"] == "coeztuerk"
    with zipfile.ZipFile(final / "ilias_multi_feedback.zip") as zf:
        folders = {n.split("/")[1] for n in zf.namelist() if n.count("/") == 2 and not n.endswith("/")}
        tops = {n.split("/")[0] for n in zf.namelist() if "/" in n}
    assert tops == {"multi_feedback_Mini_77"}
    assert folders == {"Mueller_Joerg_jmueller_4711", "von_der Heide_Anna_Lena_avdh_12",
                       ilias_dir("Öztürk", "Ça?lar", "coeztuerk", 815)}
