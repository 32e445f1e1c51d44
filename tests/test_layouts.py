"""Reading SUBMISSIONS in the layouts dir, moodle and canvas, safely."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader.staff.layouts import LayoutError, Limits, read_submissions

EXPECTED = {"ex41_conv.py", "ex41_mnist.py", "ex41_mnist_weights.npz"}
CONV = "import numpy as np\n\ndef h_conv2d(image, kernel):\n    return image\n"
MNIST = "def predict(x):\n    return x\n"


def make_zip(entries: dict[str, bytes | str], *, symlinks=(), modes=None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = (modes or {}).get(name, stat.S_IFREG | 0o644)
            if name in symlinks:
                mode = stat.S_IFLNK | 0o777
            info.external_attr = mode << 16
            zf.writestr(info, data.encode() if isinstance(data, str) else data)
    return buf.getvalue()


def notebook(**files: str) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Aufgabe 41"))
    for name, code in files.items():
        cell = nbformat.v4.new_code_cell(code)
        cell.metadata["tags"] = [f"exercise-file:{name}.py"]
        nb.cells.append(cell)
    return nbformat.writes(nb).encode()


def by_student(subs):
    return {s.student_id: s for s in subs}


def files_of(sub) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(sub.files_dir.iterdir()) if p.suffix == ".py"}


# --- dir -----------------------------------------------------------------------

@pytest.fixture
def dir_source(tmp_path: Path) -> Path:
    root = tmp_path / "submissions"
    (root / "s1" / "abgabe" / "src").mkdir(parents=True)
    (root / "s1" / "abgabe" / "src" / "ex41_conv.py").write_text(CONV)
    (root / "s1" / "abgabe" / "ex41_mnist.py").write_text(MNIST)
    (root / "s1" / "abgabe" / "helpers.py").write_text("X = 1\n")
    (root / "s1" / "abgabe" / "tests").mkdir()
    (root / "s1" / "abgabe" / "tests" / "test_ex41.py").write_text("def test(): pass\n")
    (root / "s1" / "__MACOSX").mkdir()
    (root / "s1" / "__MACOSX" / "ex41_conv.py").write_text("junk")
    manifest = '{"tool": "nn-grader", "files": {"ex41_conv.py": "%s"}}' % ("0" * 64)
    (root / "s2.zip").write_bytes(make_zip({"manifest.json": manifest, "ex41_conv.py": CONV,
                                            "ex41_mnist_weights.npz": b"\x93NUMPY"}))
    (root / "s3").mkdir()
    (root / "s3" / "abgabe.ipynb").write_bytes(notebook(ex41_conv=CONV, ex41_mnist=MNIST))
    (root / "s4.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    (root / "s5").mkdir()
    (root / "s5" / "ex41_conv.py").write_bytes("# Lösung\n".encode("latin-1"))
    (root / "s6").mkdir()
    (root / "s6" / "bericht.pdf").write_bytes(b"%PDF-1.4")
    (root / "s7").mkdir()
    (root / "s7" / "ex41_conv.py").write_text(CONV)
    (root / "s7.zip").write_bytes(make_zip({"ex41_conv.py": CONV}))
    (root / "s8").mkdir()
    (root / "s8" / "ex41_conv.py").symlink_to("/etc/passwd")
    (root / "s9" / "a").mkdir(parents=True)
    (root / "s9" / "b").mkdir(parents=True)
    (root / "s9" / "a" / "ex41_conv.py").write_text(CONV)
    (root / "s9" / "b" / "ex41_conv.py").write_text(CONV + "# newer\n")
    (root / "s10").mkdir()
    (root / "s10" / "abgabe.ipynb").write_bytes(nbformat.writes(nbformat.v4.new_notebook()).encode())
    (root / "README.txt").write_text("stray file at the top level")
    return root


def test_dir_layout(dir_source, tmp_path):
    subs = by_student(read_submissions(dir_source, "dir", tmp_path / "work", EXPECTED))
    assert sorted(subs) == ["s1", "s10", "s2", "s3", "s4", "s5", "s6", "s7", "s7__dup2_", "s8", "s9"]
    s1 = subs["s1"]
    assert s1.error is None and s1.name is None
    assert files_of(s1) == {"ex41_conv.py": CONV, "ex41_mnist.py": MNIST, "helpers.py": "X = 1\n"}
    assert s1.files_dir == tmp_path / "work" / "s1" / "files"
    s2 = subs["s2"]
    assert s2.error is None and sorted(p.name for p in s2.files_dir.iterdir()) == ["ex41_conv.py", "ex41_mnist_weights.npz"]
    assert s2.notes == ["ex41_conv.py differs from the file list made by grade pack (edited after packing?)"]
    assert subs["s1"].notes == []
    s3 = subs["s3"]
    assert s3.error is None and set(files_of(s3)) == {"ex41_conv.py", "ex41_mnist.py"}
    assert "def h_conv2d" in files_of(s3)["ex41_conv.py"]
    assert subs["s4"].error == "die ZIP-Datei ist beschädigt"
    assert "ex41_conv.py ist nicht als UTF-8 gespeichert (Byte 0xf6 in Zeile 1)" in subs["s5"].error
    assert subs["s6"].error.startswith("keine der Aufgabendateien gefunden") and "bericht.pdf" in subs["s6"].error
    assert "mehr als eine Abgabe für die ID s7" in subs["s7"].error
    assert subs["s7__dup2_"].error == subs["s7"].error
    assert "symbolischen Link" in subs["s8"].error
    assert "zwei verschiedene Fassungen von ex41_conv.py" in subs["s9"].error
    assert subs["s10"].error.startswith("abgabe.ipynb hat keine Zellen mit dem Tag 'exercise-file:<file>'")
    for sub in subs.values():                         # errors leave no files to grade
        if sub.error:
            assert not list(sub.files_dir.iterdir())
        assert len(sub.fingerprint) == 64


def test_single_expected_file_message(dir_source, tmp_path):
    subs = by_student(read_submissions(dir_source, "dir", tmp_path / "w", {"ex41_conv.py"}))
    assert subs["s6"].error == "ex41_conv.py nicht gefunden (die Abgabe enthält: bericht.pdf)"


def test_fingerprint_tracks_content(dir_source, tmp_path):
    first = by_student(read_submissions(dir_source, "dir", tmp_path / "w", EXPECTED))
    again = by_student(read_submissions(dir_source, "dir", tmp_path / "w", EXPECTED))
    assert {k: s.fingerprint for k, s in first.items()} == {k: s.fingerprint for k, s in again.items()}
    (dir_source / "s1" / "abgabe" / "ex41_mnist.py").write_text(MNIST + "# changed\n")
    changed = by_student(read_submissions(dir_source, "dir", tmp_path / "w", EXPECTED))
    assert changed["s1"].fingerprint != first["s1"].fingerprint
    assert changed["s2"].fingerprint == first["s2"].fingerprint
    assert len({s.fingerprint for s in first.values()}) == len(first)


def test_dir_layout_from_a_zip_with_hostile_entries(tmp_path):
    bomb = b"\0" * (3 * 1024 * 1024)
    outer = make_zip({
        "batch/s1/ex41_conv.py": CONV,
        "batch/s2.zip": make_zip({"ex41_conv.py": CONV, "link.py": "/etc/passwd"}, symlinks={"link.py"}),
        "batch/s3.zip": make_zip({"../../evil.py": "print('pwned')", "ex41_conv.py": CONV}),
        "batch/s4.zip": make_zip({"/abs/ex41_conv.py": CONV}),
        "batch/s5.zip": make_zip({"ex41_conv.py": CONV, "data.bin": bomb}),
        "batch/s6.zip": make_zip({"ex41_conv.py": CONV, "fifo": ""}, modes={"fifo": stat.S_IFIFO | 0o644}),
        "batch/s7/src\\ex41_conv.py": CONV,
        "batch/../../outside.py": "print('pwned')",
        "/abs_top.py": "print('pwned')",
    })
    src = tmp_path / "batch.zip"
    src.write_bytes(outer)
    subs = by_student(read_submissions(src, "dir", tmp_path / "work", EXPECTED))
    assert sorted(subs) == ["s1", "s2", "s3", "s4", "s5", "s6", "s7"]     # unowned hostile entries dropped
    assert subs["s1"].error is None and files_of(subs["s1"]) == {"ex41_conv.py": CONV}
    assert "symbolischen Link (link.py)" in subs["s2"].error
    assert "Pfad, der aus seinem Ordner hinausführt (../../evil.py)" in subs["s3"].error
    assert "absoluten Pfad (/abs/ex41_conv.py)" in subs["s4"].error
    assert "data.bin, verdächtig stark komprimiert (ZIP-Bombe?)" in subs["s5"].error
    assert "Geräte- oder Spezialdatei (fifo)" in subs["s6"].error
    assert subs["s7"].error is None                       # Windows separators are understood
    assert "outside.py" not in {p.name for p in tmp_path.rglob("*")}
    assert "evil.py" not in {p.name for p in tmp_path.rglob("*")}
    assert not Path("/abs_top.py").exists()


def test_size_and_count_caps(tmp_path):
    root = tmp_path / "subs"
    (root / "big").mkdir(parents=True)
    (root / "big" / "ex41_conv.py").write_text(CONV + "#" * 5000)
    (root / "many").mkdir()
    for i in range(12):
        (root / "many" / f"f{i}.txt").write_text("x")
    (root / "many" / "ex41_conv.py").write_text(CONV)
    (root / "total").mkdir()
    (root / "total" / "ex41_conv.py").write_text(CONV + "#" * 3000)
    (root / "total" / "ex41_mnist.py").write_text(MNIST + "#" * 3000)
    limits = Limits(max_file_bytes=4000, max_total_bytes=5000, max_entries=10)
    subs = by_student(read_submissions(root, "dir", tmp_path / "w", EXPECTED, limits=limits))
    assert "größer als die Obergrenze von 4 KB" in subs["big"].error
    assert "mehr als 10 Dateien" in subs["many"].error
    assert "Abgabe ist größer als die Obergrenze von 5 KB" in subs["total"].error


def test_broken_source_is_the_batch_error(tmp_path):
    bad = tmp_path / "subs.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(LayoutError, match="neither a folder nor a readable zip"):
        read_submissions(bad, "dir", tmp_path / "w", EXPECTED)
    with pytest.raises(LayoutError, match="unknown layout"):
        read_submissions(tmp_path, "blackboard", tmp_path / "w", EXPECTED)
    with pytest.raises(LayoutError, match="does not exist"):
        read_submissions(tmp_path / "nope", "dir", tmp_path / "w", EXPECTED)


# --- moodle -------------------------------------------------------------------

def test_moodle_download_all_three_namings(tmp_path):
    pack = make_zip({"manifest.json": "{}", "ex41_conv.py": CONV, "ex41_mnist.py": MNIST})
    src = tmp_path / "DL-WS24-Aufgabe 41-1234.zip"
    src.write_bytes(make_zip({
        "Max Mustermann_1234567_assignsubmission_file/ex41_conv.py": CONV,
        "Max Mustermann_1234567_assignsubmission_file/lib/ex41_mnist.py": MNIST,
        "Max Mustermann_1234567_assignsubmission_onlinetext/onlinetext.html": "<p>siehe Datei</p>",
        "Erika Musterfrau_1234568_assignsubmission_file_/submission.zip": pack,
        "Jörg Müller-Lüdenscheidt_1234569_assignsubmission_file_ex41_conv-1.py": CONV,
        "Participant_1234570_assignsubmission_file/abgabe.ipynb": notebook(ex41_conv=CONV),
        "Ana Lima_1234571_assignsubmission_onlinetext/onlinetext.html": "<p>code im Text</p>",
        "Ana Lima_1234572_assignsubmission_file/ex41_conv.py": CONV,
        "Ana Lima Souza_1234572_assignsubmission_file/ex41_conv.py": CONV,
        "Broken Zip_1234573_assignsubmission_file/abgabe.zip": b"PK\x03\x04garbage",
    }))
    subs = by_student(read_submissions(src, "moodle", tmp_path / "work", EXPECTED))
    max_ = subs["1234567"]
    assert max_.error is None and max_.name == "Max Mustermann"
    assert max_.lms["participant_id"] == "1234567" and max_.lms["folder_style"] == "4.1"
    assert max_.lms["prefix"] == "Max Mustermann_1234567" and max_.lms["plugins"] == ["file", "onlinetext"]
    assert files_of(max_) == {"ex41_conv.py": CONV, "ex41_mnist.py": MNIST}
    erika = subs["1234568"]
    assert erika.error is None and erika.lms["folder_style"] == "old" and len(files_of(erika)) == 2
    joerg = subs["1234569"]
    assert joerg.name == "Jörg Müller-Lüdenscheidt" and joerg.lms["folder_style"] == "flat"
    assert files_of(joerg) == {"ex41_conv.py": CONV}
    anon = subs["1234570"]
    assert anon.name == "Participant" and anon.error is None and "def h_conv2d" in files_of(anon)["ex41_conv.py"]
    assert subs["1234571"].error == "die Abgabe enthält keine Dateien (nur Online-Text)"
    assert "mehr als eine Abgabe für die ID 1234572" in subs["1234572"].error
    assert "mehr als eine Abgabe" in subs["1234572__dup2_"].error
    assert subs["1234573"].error == "die ZIP-Datei ist beschädigt"


def test_moodle_unpacked_and_rewrapped(tmp_path):
    root = tmp_path / "unpacked" / "DL-WS24-Aufgabe 41-1234"
    folder = root / "Max Mustermann_1234567_assignsubmission_file"
    folder.mkdir(parents=True)
    (folder / "ex41_conv.py").write_text(CONV)
    subs = read_submissions(tmp_path / "unpacked", "moodle", tmp_path / "w", EXPECTED)
    assert [(s.student_id, s.name, s.error) for s in subs] == [("1234567", "Max Mustermann", None)]


# --- canvas -------------------------------------------------------------------

def test_canvas_download(tmp_path):
    src = tmp_path / "DL101-Exercise_41_submissions.zip"
    src.write_bytes(make_zip({
        "mustermannmax_12345_67890_ex41_conv-1.py": CONV,
        "mustermannmax_12345_67891_ex41_mnist.py": MNIST,
        "musterfrauerika_LATE_12346_67892_submission.zip": make_zip({"ex41_conv.py": CONV}),
        "LATE_anon_AbC12_67893_ex41_conv.py": CONV,
        "lima_12347_67894_conv.py": CONV,
        "lima_12347_67895_notes.py": "# notes\n",
        "oldstyle_late_12348_67896_ex41_conv (2).py": CONV,
        "textonly_12349_text.html": "<p>hi</p>",
    }))
    subs = by_student(read_submissions(src, "canvas", tmp_path / "work", EXPECTED))
    assert sorted(subs) == ["12345", "12346", "12347", "12348", "12349", "anon_AbC12"]
    max_ = subs["12345"]
    assert max_.error is None and max_.name == "mustermannmax"
    assert max_.lms == {"user_id": "12345", "late": False, "anonymous": False, "attachment_ids": ["67890", "67891"]}
    assert files_of(max_) == {"ex41_conv.py": CONV, "ex41_mnist.py": MNIST}
    assert subs["12346"].lms["late"] is True and files_of(subs["12346"]) == {"ex41_conv.py": CONV}
    anon = subs["anon_AbC12"]
    assert anon.lms["anonymous"] is True and anon.lms["late"] is True and anon.name is None
    lima = subs["12347"]
    assert files_of(lima) == {"ex41_conv.py": CONV, "notes.py": "# notes\n"}
    assert "conv.py taken as ex41_conv.py" in lima.notes
    assert subs["12348"].lms["late"] is True and subs["12348"].error is None
    assert "enthält keine Dateien" in subs["12349"].error


def test_reads_a_real_grade_pack_zip(tmp_path, course):
    """A zip made by `grade pack` (grader/pack.py) is read back unchanged and without notes."""
    from grader.pack import pack

    work = tmp_path / "exercises"
    work.mkdir()
    (work / "ex41_conv.py").write_text(CONV)
    (work / "ex41_mnist.py").write_text(MNIST)
    (tmp_path / "subs").mkdir()
    pack(course, work, tmp_path / "subs" / "s1234567.zip", allow_missing=True)
    expected = {n for ex in course.exercises for n in ex.files + ex.extra_files}
    [sub] = read_submissions(tmp_path / "subs", "dir", tmp_path / "w", expected)
    assert (sub.student_id, sub.error, sub.notes) == ("s1234567", None, [])
    assert files_of(sub) == {"ex41_conv.py": CONV, "ex41_mnist.py": MNIST}


# --- hostile names and crashes cost only their own row ---------------------------------------

def test_student_ids_never_collide_with_reports_or_each_other(tmp_path):
    root = tmp_path / "subs"
    for name in ("grades.csv", "SUMMARY.HTML", "nul.txt", "batch.log", "Jörg", "Jürg", "s7", "s7__dup2",
                 "canvas_gradebook.csv", "x" * 200, "line\nbreak", "moodle_feedback_files.zip"):
        (root / name).mkdir(parents=True)
        (root / name / "ex41_conv.py").write_text(CONV)
    (root / "s7.zip").write_bytes(make_zip({"ex41_conv.py": CONV}))
    subs = read_submissions(root, "dir", tmp_path / "w", EXPECTED)
    ids = [s.student_id for s in subs]
    assert len(ids) == 13 and len({i.lower() for i in ids}) == 13
    from grader.staff.layouts import RESERVED
    assert not {i.lower() for i in ids} & RESERVED
    by = by_student(subs)
    assert by["grades.csv_"].error is None and by["grades.csv_"].lms["original_id"] == "grades.csv"
    assert by["SUMMARY.HTML_"].error is None and "nul.txt_" in by
    assert by["s7__dup2"].error is None                    # a real folder named like a duplicate stays itself
    assert "mehr als eine Abgabe" in by["s7"].error and "mehr als eine Abgabe" in by["s7__dup2_"].error
    joerg = [s for s in subs if s.lms.get("original_id") in ("Jörg", "Jürg")]
    assert len(joerg) == 2 and all(s.error is None and s.student_id.endswith("_") for s in joerg)
    again = [s.student_id for s in read_submissions(root, "dir", tmp_path / "w2", EXPECTED)]
    assert again == ids                                     # deterministic: reruns find their records


def test_moodle_full_name_cannot_claim_another_id(tmp_path):
    evil = "Evil_1000001_assignsubmission_file_ E_1000002_assignsubmission_file_"
    src = tmp_path / "flat.zip"
    src.write_bytes(make_zip({
        "Victim V_1000001_assignsubmission_file_ex41_conv.py": CONV,
        evil + "ex41_conv.py": CONV + "# evil\n",
        evil + "ex41_mnist.py": MNIST,
        # a file name shaped like a Moodle name stays with its uploader
        "Ada L_1000003_assignsubmission_file_ex41_mnist.py": MNIST,
        "Ada L_1000003_assignsubmission_file_x_1000001_assignsubmission_file_ex41_conv.py": CONV,
    }))
    subs = by_student(read_submissions(src, "moodle", tmp_path / "w", EXPECTED))
    assert sorted(subs) == ["1000001", "1000002", "1000003"]
    assert subs["1000001"].error is None and subs["1000001"].name == "Victim V"
    assert files_of(subs["1000001"]) == {"ex41_conv.py": CONV}
    assert subs["1000002"].error is None and files_of(subs["1000002"])["ex41_conv.py"].endswith("# evil\n")
    assert subs["1000003"].error is None
    assert set(files_of(subs["1000003"])) == {"ex41_mnist.py", "x_1000001_assignsubmission_file_ex41_conv.py"}

    alone = tmp_path / "alone.zip"                      # the victim did not submit: still the last suffix
    alone.write_bytes(make_zip({evil + "ex41_conv.py": CONV, "Bob_12_34_assignsubmission_file/ex41_conv.py": CONV,
                                "Zed_١٢٣_assignsubmission_file/ex41_conv.py": CONV}))
    subs = by_student(read_submissions(alone, "moodle", tmp_path / "w2", EXPECTED))
    assert sorted(subs) == ["1000002", "34"]            # Arabic-Indic digits are no Moodle id
    assert subs["34"].name == "Bob_12"


def test_canvas_ids_come_from_the_numeric_tokens(tmp_path):
    src = tmp_path / "canvas.zip"
    src.write_bytes(make_zip({
        "anon_13_35_ex41_conv.py": CONV,                 # a student whose sortable name reads "anon"
        "anon_LATE_14_36_ex41_conv.py": CONV,
        "mustermannmax_12_34_anon_99_98_ex41_conv.py": CONV,   # the file name cannot change the ids
        "smith_١٢_٣٤_ex41_conv.py": CONV,                # not ASCII digits: not a Canvas name
    }))
    subs = by_student(read_submissions(src, "canvas", tmp_path / "w", EXPECTED))
    assert sorted(subs) == ["12", "13", "14"]
    assert subs["13"].lms["anonymous"] is False and subs["13"].name == "anon"
    assert subs["14"].lms["late"] is True and subs["12"].lms["attachment_ids"] == ["34"]
    anonymous = tmp_path / "anonymous.zip"             # a truly anonymous download: every upload anon_
    anonymous.write_bytes(make_zip({"anon_12345_67890_ex41_conv.py": CONV, "LATE_anon_AbC12_67891_ex41_conv.py": CONV}))
    subs = by_student(read_submissions(anonymous, "canvas", tmp_path / "w2", EXPECTED))
    assert sorted(subs) == ["anon_12345", "anon_AbC12"] and all(s.lms["anonymous"] for s in subs.values())


def test_a_crash_while_reading_one_submission_is_its_error_only(tmp_path, monkeypatch):
    from grader.staff import layouts

    real = layouts.collect

    def collect(group, *args, **kwargs):
        if group.student_id == "s2":
            raise RecursionError("maximum recursion depth exceeded")
        return real(group, *args, **kwargs)

    monkeypatch.setattr(layouts, "collect", collect)
    root = tmp_path / "subs"
    for name in ("s1", "s2", "s3"):
        (root / name).mkdir(parents=True)
        (root / name / "ex41_conv.py").write_text(CONV)
    (root / "s1" / "manifest.json").write_text("[" * 100_000)
    subs = by_student(read_submissions(root, "dir", tmp_path / "w", EXPECTED))
    assert subs["s1"].error is None and subs["s3"].error is None
    assert subs["s1"].notes == ["manifest.json is not a readable file list (ignored)"]
    assert subs["s2"].error.startswith("the submission could not be read (RecursionError")
    assert len(subs["s2"].fingerprint) == 64 and not list(subs["s2"].files_dir.iterdir())


# --- language -----------------------------------------------------------------------

def _password_zip(name: str, data: str) -> bytes:
    """A zip whose entry is marked encrypted (general purpose flag bit 0), as a password-protected upload."""
    blob = bytearray(make_zip({name: data}))
    central = blob.index(b"PK\x01\x02")
    blob[central + 8] |= 0x01
    return bytes(blob)


def _hostile_intake(tmp_path: Path) -> dict[str, str]:
    """Reasons (student -> Submission.error) of corrupt and hostile submissions in every layout and cap."""
    root = tmp_path / "subs"
    root.mkdir(parents=True)
    nb = {
        "nb_deep": b"[" * 100_000,
        "nb_latin1": b"\xff\xfe\x00garbage",
        "nb_json": b'{"cells": [',
        "nb_list": b"[1, 2, 3]",
        "nb_types": b'{"cells": 7, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
        "nb_number": b'{"cells": [], "nbformat": 4, "n": 1' + b"0" * 5000 + b"}",
        "nb_untagged": nbformat.writes(nbformat.v4.new_notebook()).encode(),
        "nb_tag": notebook(**{"../evil": CONV}),
    }
    markdown = nbformat.v4.new_notebook()
    markdown.cells.append(nbformat.v4.new_markdown_cell("text", metadata={"tags": ["exercise-file:ex41_conv.py"]}))
    nb["nb_markdown"] = nbformat.writes(markdown).encode()
    for student, data in nb.items():
        (root / student).mkdir()
        (root / student / "abgabe.ipynb").write_bytes(data)
    (root / "corrupt.zip").write_bytes(b"PK\x03\x04garbage")
    (root / "nested").mkdir()
    (root / "nested" / "a.zip").write_bytes(b"PK\x03\x04garbage")
    (root / "nested" / "b.zip").write_bytes(make_zip({"ex41_conv.py": CONV}))
    (root / "latin1").mkdir()
    (root / "latin1" / "ex41_conv.py").write_bytes(b"# Gr\xf6\xdfe\n")
    (root / "nothing").mkdir()
    (root / "nothing" / "bericht.pdf").write_bytes(b"%PDF")
    for folder, text in (("a", CONV), ("b", CONV + "# v2\n")):
        (root / "twice" / folder).mkdir(parents=True)
        (root / "twice" / folder / "ex41_conv.py").write_text(text)
    for student in ("dup", "DUP"):
        (root / student).mkdir()
        (root / student / "ex41_conv.py").write_text(CONV)
    (root / "link.zip").write_bytes(make_zip({"ex41_conv.py": CONV, "l.py": "/etc/passwd"}, symlinks={"l.py"}))
    (root / "slip.zip").write_bytes(make_zip({"../../evil.py": "x = 1", "ex41_conv.py": CONV}))
    (root / "absolute.zip").write_bytes(make_zip({"/abs/ex41_conv.py": CONV}))
    (root / "bomb.zip").write_bytes(make_zip({"ex41_conv.py": CONV, "data.bin": b"\0" * (3 * 1024 * 1024)}))
    (root / "fifo.zip").write_bytes(make_zip({"ex41_conv.py": CONV, "f": ""}, modes={"f": stat.S_IFIFO | 0o644}))
    (root / "locked.zip").write_bytes(_password_zip("ex41_conv.py", CONV))
    reasons = {s.student_id: s.error for s in read_submissions(root, "dir", tmp_path / "w1", EXPECTED)}
    single = by_student(read_submissions(root, "dir", tmp_path / "w2", {"ex41_conv.py"}))
    reasons["single_nothing"] = single["nothing"].error
    caps = tmp_path / "caps"
    for student, files in (("big", {"ex41_conv.py": CONV + "#" * 5000}),
                           ("many", {f"f{i}.txt": "x" for i in range(12)}),
                           ("total", {"ex41_conv.py": CONV + "#" * 3000, "ex41_mnist.py": MNIST + "#" * 3000})):
        (caps / student).mkdir(parents=True)
        for name, text in files.items():
            (caps / student / name).write_text(text)
    limits = Limits(max_file_bytes=4000, max_total_bytes=5000, max_entries=10)
    reasons.update({f"cap_{s.student_id}": s.error
                    for s in read_submissions(caps, "dir", tmp_path / "w3", EXPECTED, limits=limits)})
    moodle = tmp_path / "moodle.zip"
    moodle.write_bytes(make_zip({"Ana Lima_1234571_assignsubmission_onlinetext/onlinetext.html": "<p>code</p>"}))
    reasons["moodle_text"] = read_submissions(moodle, "moodle", tmp_path / "w4", EXPECTED)[0].error
    ilias = tmp_path / "ilias.zip"
    ilias.write_bytes(make_zip({"Abgaben/Kaputt_Ordner/ex41_conv.py": CONV}))
    reasons["ilias_folder"] = read_submissions(ilias, "ilias", tmp_path / "w5", EXPECTED)[0].error
    return reasons


def test_every_intake_reason_is_in_the_course_language(tmp_path):
    """What a student reads when the batch cannot use their upload is German in a German course.

    Each reason is scanned the way students get it (``error_reason`` of the status, as in
    feedback, results.json and LMS comments) with the English scanner of tests/test_language.py.
    The same uploads in an English course give English reasons the scanner flags: it can fail.
    """
    from grader import i18n
    from grader.trusted.results import error_reason
    from test_language import english_lines

    german = _hostile_intake(tmp_path / "de")
    assert len(german) == 28 and all(german.values()), german
    assert len(set(german.values())) >= 27                       # distinct reasons, not one catch-all
    student_text = {s: error_reason(f"error: {reason}") for s, reason in german.items()}
    assert {s: line for s, text in student_text.items() for line in english_lines(text)} == {}
    assert student_text == german                                # intake reasons are passed through as written
    expected_parts = {
        "corrupt": "die ZIP-Datei ist beschädigt", "nested": "die ZIP-Datei a.zip ist beschädigt",
        "locked": "die ZIP-Datei locked.zip ist passwortgeschützt (ex41_conv.py)",
        "fifo": "die ZIP-Datei fifo.zip enthält eine Geräte- oder Spezialdatei (f)",
        "nb_markdown": "abgabe.ipynb, Zelle 1: mit 'exercise-file:ex41_conv.py' markiert, aber eine markdown-Zelle",
        "cap_many": "die Abgabe enthält mehr als 10 Dateien",
        "moodle_text": "die Abgabe enthält keine Dateien (nur Online-Text)",
        "ilias_folder": "der Ordnername 'Kaputt_Ordner' endet nicht auf eine ILIAS-Benutzer-ID",
    }
    assert {s: german[s][:len(text)] for s, text in expected_parts.items()} == expected_parts
    try:
        i18n.set_language("en")
        english = _hostile_intake(tmp_path / "en")
    finally:
        i18n.set_language("de")
    assert set(english) == set(german)
    assert [s for s, reason in english.items() if not english_lines(reason)] == []
