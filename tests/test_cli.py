"""The student commands: list, EXID, all, pack; exit codes per docs/cli.md."""
from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import cli
from conftest import MINI, ROOT


@pytest.fixture
def student_copy(tmp_path: Path) -> Path:
    """A student's view of the real course: course.toml + exercises/ (no solutions, no hidden tests)."""
    shutil.copy(ROOT / "course.toml", tmp_path / "course.toml")
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises",
                    ignore=shutil.ignore_patterns("__pycache__", "*.npz"))
    data = tmp_path / "data" / "mnist-sample"  # the release ships the training digits only
    data.mkdir(parents=True)
    for src in (ROOT / "data" / "mnist-sample").glob("train-*"):
        shutil.copy(src, data / src.name)
    return tmp_path


def invoke(args: list[str], cwd: Path, monkeypatch) -> "click.testing.Result":
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("GRADE_COURSE_ROOT", raising=False)
    return CliRunner().invoke(cli.cli, args, catch_exceptions=False)


def test_list_shows_every_exercise_and_part(monkeypatch):
    result = invoke(["list"], ROOT, monkeypatch)
    assert result.exit_code == 0
    for ex_id in ("ex38", "ex39", "ex41", "gan", "qlearning"):
        assert ex_id in result.output
    assert "mlp" in result.output and "[manuell]" in result.output


def test_stubs_score_zero_and_exit_1(student_copy, monkeypatch):
    result = invoke(["ex41", "--json"], student_copy, monkeypatch)
    assert result.exit_code == 1
    data = json.loads(result.output)
    parts = {p["id"]: p for p in data["exercises"][0]["parts"]}
    for pid in "abcd":
        assert parts[pid]["score"] == 0 and parts[pid]["max_score"] > 0
        assert any("noch nicht implementiert" in t["message"].lower() for t in parts[pid]["tests"]), pid


def test_table_output_is_readable(student_copy, monkeypatch):
    result = invoke(["ex41"], student_copy, monkeypatch)
    assert result.exit_code == 1
    assert "ex41" in result.output and "FEHLER" in result.output and "Befunde" in result.output
    assert "\x1b[" not in result.output  # no colour codes when not a terminal
    # the stub's report fits on one screen: overview, then one line per part that is not implemented
    assert len(result.output.splitlines()) <= 40, result.output
    assert result.output.count("Noch nicht implementiert") == 5, result.output  # parts a-e, one line each
    assert result.output.index("Summe") < result.output.index("Befunde")


def test_reference_scores_full_public_points_and_exit_0(student_copy, monkeypatch):
    for name in ("ex41_conv.py", "ex41_mnist.py", "ex41_mnist_weights.npz"):
        shutil.copy(ROOT / "solutions" / name, student_copy / "exercises" / name)
    result = invoke(["ex41", "--json"], student_copy, monkeypatch)
    data = json.loads(result.output)
    assert result.exit_code == 0, result.output[-3000:]
    for part in data["exercises"][0]["parts"]:
        assert part["score"] == part["max_score"] > 0, part["id"]


def test_help_lists_commands_and_exercises(monkeypatch):
    result = invoke(["--help"], ROOT, monkeypatch)
    assert result.exit_code == 0
    for name in ("batch", "validate", "release", "autograder", "pack", "ex41", "qlearning"):
        assert f"  {name} " in result.output, name
    assert "Führt die öffentlichen Tests von ex41 aus." in result.output


STAFF_COMMANDS = {"batch", "validate", "release", "autograder", "merge", "similarity"}


def _help(args: list[str], monkeypatch) -> str:
    """`grade ARGS --help` as a student's terminal shows it (wide, so each command's line stays one line)."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GRADE_COURSE_ROOT", raising=False)
    result = CliRunner().invoke(cli.cli, [*args, "--help"], catch_exceptions=False, prog_name="grade",
                                terminal_width=300, max_content_width=300)
    assert result.exit_code == 0, result.output
    return result.output


def _prose(help_text: str) -> str:
    """The help without option names (``--allow-missing`` is an identifier, not English prose)."""
    return "\n".join(re.split(r"\s{2,}", line.strip(), maxsplit=1)[-1] if line.strip().startswith("-") else line
                     for line in help_text.splitlines())


def test_student_help_is_german(monkeypatch):
    """`grade --help` and the student commands' help read German (the staff commands' lines stay English)."""
    from test_language import english_lines

    top = _help([], monkeypatch).splitlines()
    staff_lines = [line for line in top if line.split()[:1] and line.split()[0] in STAFF_COMMANDS]
    student_lines = [line for line in top if line not in staff_lines]
    assert len(staff_lines) == len(STAFF_COMMANDS) and english_lines("\n".join(staff_lines))  # the scanner bites
    assert english_lines(_prose("\n".join(student_lines))) == []
    for needed in ("Aufruf: grade [OPTIONEN] BEFEHL", "Optionen:", "Befehle:", "Diese Hilfe anzeigen und beenden.",
                   "Prüft und bewertet die Aufgaben", "Führt die öffentlichen Tests aller Aufgaben aus."):
        assert any(needed in line for line in student_lines), needed
    for command in (["ex41"], ["qlearning"], ["list"], ["all"], ["pack"], ["doctor"]):
        text = _help(command, monkeypatch)
        assert english_lines(_prose(text)) == [], (command, english_lines(_prose(text)))
        assert f"Aufruf: grade {command[0]} [OPTIONEN]" in text and "Optionen:" in text, text
    exercise = _help(["ex41"], monkeypatch)
    for needed in ("Führt die Tests der Aufgabe ex41 mit Ihren Dateien", "--submission ORDNER",
                   "--option SCHLÜSSEL=WERT", "Vorgabe: public", "als JSON-Dokument"):
        assert needed in exercise, needed


def test_unknown_exercise_is_a_usage_error(monkeypatch):
    result = invoke(["ex99"], ROOT, monkeypatch)
    assert result.exit_code == 2
    assert "unbekannte Aufgabe 'ex99'" in result.output


def test_missing_file_is_exit_2(student_copy, monkeypatch):
    (student_copy / "exercises" / "gan.py").unlink()
    result = invoke(["gan"], student_copy, monkeypatch)
    assert result.exit_code == 2


def test_outside_a_course_is_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRADE_COURSE_ROOT", raising=False)
    result = CliRunner().invoke(cli.cli, ["list"])
    assert result.exit_code != 0 and "course.toml" in result.output


def test_all_runs_every_exercise(monkeypatch, tmp_path):
    sub = tmp_path / "sub"
    shutil.copytree(MINI / "solutions", sub)
    result = invoke(["all", "--submission", str(sub), "--json"], MINI, monkeypatch)
    data = json.loads(result.output)
    assert result.exit_code == 0
    assert [e["id"] for e in data["exercises"]] == ["alpha", "beta"]


def test_pack_writes_files_and_manifest(student_copy, monkeypatch):
    (student_copy / "exercises" / "ex41_mnist_weights.npz").write_bytes(b"weights")
    out = student_copy / "abgabe.zip"
    result = invoke(["pack", "-o", str(out)], student_copy, monkeypatch)
    assert result.exit_code == 0
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
    assert {"ex41_conv.py", "gan.py", "qlearning.py", "manifest.json"} <= names
    assert set(manifest["files"]) == {n for n in names if "/" not in n} - {"manifest.json"}
    assert manifest["tool_version"]
    first = out.read_bytes()
    invoke(["pack", "-o", str(out)], student_copy, monkeypatch)
    assert out.read_bytes() == first  # reproducible


def test_pack_refuses_a_zip_without_a_required_file(student_copy, monkeypatch):
    """ex41's trained weights are missing: no zip, a German message naming the file, exit 2."""
    out = student_copy / "abgabe.zip"
    result = invoke(["pack", "-o", str(out)], student_copy, monkeypatch)
    assert result.exit_code == 2
    assert "ex41_mnist_weights.npz" in result.output and "fehlen" in result.output
    assert not out.exists()
    result = invoke(["pack", "-o", str(out), "--allow-missing"], student_copy, monkeypatch)
    assert result.exit_code == 0 and out.is_file()
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read("manifest.json"))["missing"] == ["ex41_mnist_weights.npz"]


def test_pack_includes_free_text_answers_from_the_release_notebook(student_copy, monkeypatch):
    """ex38's manual part is answered in its notebook's answer cell; the zip carries it."""
    import nbformat

    from grader import course as course_mod
    from grader.staff import release
    from grader.notebook import ANSWER_PREFIX, extract_answers

    course = course_mod.load(student_copy)
    (student_copy / "exercises" / "ex41_mnist_weights.npz").write_bytes(b"weights")
    folder = student_copy / "exercises" / "notebooks"
    folder.mkdir(exist_ok=True)
    for ex in course.exercises:
        (folder / f"{ex.id}.ipynb").write_bytes(release.notebook_bytes(course, ex))
    nb = nbformat.read(folder / "ex38.ipynb", as_version=4)
    cell = next(c for c in nb.cells if f"{ANSWER_PREFIX}ex38.mlp" in c.metadata.get("tags", []))
    cell.source = "Ein MLP sieht nur den aktuellen Zustand, kein Gedächtnis über Schritte."
    nbformat.write(nb, folder / "ex38.ipynb")
    out = student_copy / "abgabe.zip"
    result = invoke(["pack", "-o", str(out)], student_copy, monkeypatch)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        packed = zf.read("notebooks/ex38.ipynb")
    assert manifest["answers"] == {"ex38.mlp": len(cell.source)}
    assert extract_answers(packed) == {"ex38.mlp": cell.source}
    assert "notebooks/gan.ipynb" in manifest["notebooks"]  # gan has a manual part too, unanswered
    assert "notebooks/ex41.ipynb" not in manifest["notebooks"]  # ex41 has none


def test_unknown_exercise_outside_a_course_says_no_course_was_found(monkeypatch, tmp_path):
    result = invoke(["ex41"], tmp_path, monkeypatch)
    assert result.exit_code == 2
    assert "kein Kurs" in result.output and "course.toml" in result.output
    assert "(keine)" not in result.output


@pytest.mark.parametrize("args", [["ex41", "--bogus"], ["ex41", "--suite", "x"], ["ex41", "--option"],
                                  ["ex41", "--option", "a"], ["ex41", "extra"], ["--sub"], ["lsit"],
                                  ["pack", "-o"]])
def test_usage_errors_read_german(args, monkeypatch):
    """click's own sentences ("Error:", "No such option", "Try ... for help") reach students in German."""
    from test_language import english_lines

    result = invoke(args, ROOT, monkeypatch)
    assert result.exit_code == 2, result.output
    assert "Fehler: " in result.output and english_lines(result.output) == [], result.output


def test_staff_usage_errors_and_an_english_course_stay_english(monkeypatch, tmp_path):
    """Staff commands keep click's English, also after a German error in the same process; an
    English course's students get English."""
    from test_language import english_lines

    assert invoke(["ex41", "--bogus"], ROOT, monkeypatch).output.count("Fehler: Die Option '--bogus' gibt es nicht.")
    staff = invoke(["batch", "--bogus"], ROOT, monkeypatch)
    assert staff.exit_code == 2 and "Error: No such option '--bogus'" in staff.output
    assert english_lines(staff.output)  # the scanner bites
    english = tmp_path / "course"
    shutil.copytree(MINI, english)
    toml = english / "course.toml"
    toml.write_text(toml.read_text().replace('[course]\n', '[course]\nlanguage = "en"\n', 1))
    result = invoke(["alpha", "--bogus"], english, monkeypatch)
    assert result.exit_code == 2 and "Error: No such option '--bogus'" in result.output, result.output
    assert "unknown command or exercise 'nosuch'" in invoke(["nosuch"], english, monkeypatch).output


def test_click_translations_are_click_sentences_with_clicks_placeholders():
    """Every `cli.click` entry translates a sentence click really marks for gettext (in a module
    grader/click_messages rebinds), with exactly click's placeholders: click fills them in with
    ``.format`` after the lookup, so a missing or extra name would crash a student's usage error."""
    import ast
    import string

    import click

    from grader import click_messages, i18n

    def fields(text: str) -> set:
        return {(name, conv, spec) for _, name, spec, conv in string.Formatter().parse(text) if name is not None}

    marked: dict[str, set[str]] = {}
    for path in Path(click.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext"):
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        marked.setdefault(arg.value, set()).add(path.stem)
    assert "Error: {message}" in marked  # the scan finds click's sentences
    tables = {lang: i18n.catalogue(lang)["cli.click"] for lang in i18n.available()}
    assert tables["de"]
    for lang, table in tables.items():
        for english, translated in table.items():
            assert english in marked, (lang, english)
            assert marked[english] & set(click_messages.MODULES), (lang, english, marked[english])
            assert fields(translated) == fields(english), (lang, english, translated)


def test_a_broken_course_toml_leaves_doctor_and_version_working(tmp_path, monkeypatch):
    """Choosing click's language must not crash where course.toml is broken beyond a CourseError
    (a value that is no number): `grade doctor` exists to say what is wrong, `--version` reads nothing."""
    course = tmp_path / "course"
    shutil.copytree(MINI, course)
    toml = course / "course.toml"
    toml.write_text(re.sub(r"(?m)^call_timeout = .*$", 'call_timeout = "zehn"', toml.read_text()))
    version = invoke(["--version"], course, monkeypatch)
    assert version.exit_code == 0 and "Version" in version.output, version.output
    doctor = invoke(["doctor", "--json"], course, monkeypatch)
    assert doctor.exit_code == 0, doctor.output
    assert isinstance(json.loads(doctor.output), dict)
    assert invoke(["--help"], course, monkeypatch).exit_code == 0
    listed = invoke(["list"], course, monkeypatch)  # the staff's mistake, said as one
    assert listed.exit_code == 1 and "course.toml dieses Kurses ist fehlerhaft (nicht Ihr Fehler" in listed.output
    assert "'zehn'" in listed.output and "Traceback" not in listed.output


def test_path_errors_name_the_kind_in_german(monkeypatch):
    """click names a path option's kind ("File", "Directory") when it rejects a value; commands built
    at import (`grade pack -o`) must read German too."""
    result = invoke(["pack", "-o", "exercises"], ROOT, monkeypatch)
    assert result.exit_code == 2, result.output
    assert "Datei 'exercises' ist ein Ordner." in result.output, result.output
    submission = invoke(["ex41", "--submission", "course.toml"], ROOT, monkeypatch)
    assert submission.exit_code == 2 and "Ordner 'course.toml' ist eine Datei." in submission.output
    staff = invoke(["release", "--output", "course.toml"], ROOT, monkeypatch)
    assert staff.exit_code == 2 and "Directory 'course.toml' is a file." in staff.output, staff.output


def test_outside_a_course_the_student_reads_german(tmp_path, monkeypatch):
    from test_language import english_lines

    for args in (["list"], ["pack"], ["all"], ["ex41"]):
        result = invoke(args, tmp_path, monkeypatch)
        assert result.exit_code in (1, 2), result.output
        assert "keine" not in result.output and "course.toml" in result.output and str(tmp_path) in result.output
        assert english_lines(result.output) == [], result.output


def test_list_json_is_the_course_metadata(monkeypatch):
    from grader import course as course_mod

    result = invoke(["list", "--json"], ROOT, monkeypatch)
    assert result.exit_code == 0
    data = json.loads(result.output)
    course = course_mod.load(ROOT)
    assert [e["id"] for e in data] == [e.id for e in course.exercises]
    ex41 = next(e for e in data if e["id"] == "ex41")
    assert ex41["extra_files"] == ["ex41_mnist_weights.npz"]
    assert sum(p["points"] for p in ex41["parts"]) == ex41["max_points"] == course.exercise("ex41").max_points


def test_all_aligns_part_columns_and_shows_manual_points_apart(monkeypatch, tmp_path):
    sub = tmp_path / "sub"
    shutil.copytree(MINI / "solutions", sub)
    result = invoke(["all", "--submission", str(sub)], MINI, monkeypatch)
    rows = [line for line in result.output.splitlines() if " / " in line and not line.startswith("Gesamt")]
    assert len(rows) >= 5
    assert len({line.index(" / ") for line in rows}) == 1, "\n".join(rows)
    total = next(line for line in result.output.splitlines() if line.startswith("Gesamt"))
    assert "Gesamt: 3,5 / 3,5" in total and "bis zu 1 Punkt von Tutor*innen" in total
