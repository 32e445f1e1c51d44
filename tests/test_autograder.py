"""The Gradescope autograder: the zip's layout, and run_autograder in a simulated /autograder.

The zip is unpacked into ROOT/source as Gradescope does; a submission goes to
ROOT/submission; run_autograder (or gradescope_run.run) must leave a
results.json that fits Gradescope's schema in ROOT/results. setup.sh is not
run here (it installs from the internet); the current venv's python stands in.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest

from conftest import ROOT
from grader import pack
from grader.staff import autograder
from grader.staff import gradescope_run
from grader.staff import release
from grader.notebook import TAG_PREFIX

SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "lms" / "gradescope_results.schema.json").read_text())
EX39 = "ex39_rnn_gradients.py"


def check_schema(data: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(data)


@pytest.fixture(scope="module")
def zip_bytes(course, tmp_path_factory) -> bytes:
    return autograder.build(course, tmp_path_factory.mktemp("ag")).read_bytes()


@pytest.fixture(scope="module")
def source(zip_bytes, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("unpacked") / "source"
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        zf.extractall(folder)
        for info in zf.infolist():  # extractall drops permissions; Gradescope's image build chmods
            os.chmod(folder / info.filename, (info.external_attr >> 16) & 0o777)
    return folder


def make_root(tmp_path: Path, source: Path, files: dict[str, bytes]) -> Path:
    root = tmp_path / "autograder"
    (root / "results").mkdir(parents=True)
    os.symlink(source, root / "source")
    for rel, data in files.items():
        path = root / "submission" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "submission").mkdir(exist_ok=True)
    return root


def results_of(root: Path) -> dict:
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    check_schema(data)
    return data


def test_zip_layout(course, zip_bytes):
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        names = set(infos)
        assert (infos["setup.sh"].external_attr >> 16) & 0o777 == 0o755
        assert (infos["run_autograder"].external_attr >> 16) & 0o777 == 0o755
        setup = zf.read("setup.sh").decode()
        requirements = zf.read("requirements.txt").decode()
        config = json.loads(zf.read("autograder_config.json"))
    for name in ["course.toml", "grader/cli.py", "grader/trusted/runner.py", "grader/staff/gradescope_run.py",
                 "exercises/autodiff/__init__.py", "data/mnist-sample/t10k-labels-idx1-ubyte.gz"]:
        assert name in names, name
    for path in course.hidden_tests_dir.glob("test_*.py"):
        assert f"autograder_tests/{path.name}" in names
    for path in course.public_tests_dir.glob("test_*.py"):
        assert f"exercises/tests/{path.name}" in names
    assert not [n for n in names if n.startswith("solutions/") or "__pycache__" in n]
    solution_bytes = {p.read_bytes() for p in course.solutions_dir.iterdir() if p.is_file()}
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        assert not [n for n in names if zf.read(n) in solution_bytes]
    assert "--index-url" in setup and "https://download.pytorch.org/whl/cpu" in setup
    assert "torch==2.13.0" in setup.replace('"', "")
    pins = [line for line in requirements.splitlines() if line and not line.startswith("#")]
    assert pins and all("==" in p for p in pins), pins
    assert "torch==2.13.0" in pins
    assert config["hidden_visibility"] == "after_published"
    for script in (setup, zipfile.ZipFile(io.BytesIO(zip_bytes)).read("run_autograder").decode()):
        assert script.startswith("#!/usr/bin/env bash\n")
        checked = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr


def test_zip_is_reproducible_and_visibility_configurable(course, zip_bytes, tmp_path):
    assert autograder.build(course, tmp_path / "a").read_bytes() == zip_bytes
    hidden = autograder.build(course, tmp_path / "b", hidden_visibility="hidden")
    with zipfile.ZipFile(hidden) as zf:
        assert json.loads(zf.read("autograder_config.json"))["hidden_visibility"] == "hidden"
    with pytest.raises(ValueError):
        autograder.build(course, tmp_path / "c", platform="moodle")


def _reference(course, name: str) -> bytes:
    return (course.solutions_dir / name).read_bytes()


def test_run_autograder_grades_reference_files_at_any_depth(course, source, tmp_path):
    files = {f"Abgabe/blatt 6/{EX39}": _reference(course, EX39), "Abgabe/notes.txt": b"hello"}
    if (course.solutions_dir / "gan.py").is_file() and (source / "exercises" / "tests" / "test_gan.py").is_file():
        files["gan.py"] = _reference(course, "gan.py")
    root = make_root(tmp_path, source, files)
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    done = subprocess.run(["bash", str(source / "run_autograder")], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    data = results_of(root)
    graded = ["ex39"] + (["gan"] if "gan.py" in files else [])
    assert data["extra_data"]["exercises"] == graded
    scored = [t for t in data["tests"] if "score" in t]
    assert all(t["status"] == "passed" for t in scored), [t["name"] for t in scored if t["status"] != "passed"]
    assert data["score"] == pytest.approx(sum(t["max_score"] for t in scored), abs=1e-3), data["output"]
    ex39 = sum(t["score"] for t in scored if t["name"].startswith("ex39 "))
    assert ex39 == pytest.approx(sum(p.points for p in course.exercise("ex39").parts if not p.manual), abs=1e-3)
    assert {t["visibility"] for t in scored} == {"visible", "after_published"}
    hidden = [t for t in scored if t["visibility"] == "after_published"]
    assert hidden and all(t["status"] == "passed" for t in hidden)


def test_broken_submission_scores_zero_with_messages(course, source, tmp_path):
    broken = _reference(course, EX39).replace(b"def grad_diag(", b"def grad_diag_renamed(")
    root = make_root(tmp_path, source, {EX39: broken})
    data = gradescope_run.run(root, hidden_visibility="hidden")
    assert data == results_of(root)
    diag = [t for t in data["tests"] if t["name"].startswith("ex39 grad_diag:")]
    assert diag and all(t["score"] == 0 and t["status"] == "failed" for t in diag)
    assert all("grad_diag" in t.get("output", "") for t in diag if t["visibility"] == "visible")
    assert {t["visibility"] for t in diag} == {"visible", "hidden"}
    others = [t for t in data["tests"] if t["name"].startswith("ex39 grad_full:")]
    assert others and all(t["status"] == "passed" for t in others)
    assert 0 < data["score"] < 3


def test_release_notebook_and_pack_zip_are_graded(course, source, tmp_path):
    nb = nbformat.reads(release.notebook_bytes(course, course.exercise("ex39")).decode(), as_version=4)
    cell = next(c for c in nb.cells if TAG_PREFIX + EX39 in c.metadata.get("tags", []))
    cell.source = f"%%writefile ../{EX39}\n" + _reference(course, EX39).decode()
    folder = tmp_path / "packed"
    folder.mkdir()
    (folder / EX39).write_bytes(_reference(course, EX39))
    pack.pack(course, folder, tmp_path / "submission.zip", allow_missing=True)
    for label, files in [("notebook", {"ex39.ipynb": nbformat.writes(nb).encode()}),
                         ("pack", {"submission.zip": (tmp_path / "submission.zip").read_bytes()})]:
        root = make_root(tmp_path / label, source, files)
        data = gradescope_run.run(root)
        assert data["score"] == pytest.approx(3.0), (label, data["output"])
        assert data["extra_data"]["exercises"] == ["ex39"]


def test_submission_without_exercise_files_scores_zero_and_says_why(source, tmp_path):
    root = make_root(tmp_path, source, {"readme.txt": b"ich habe nichts"})
    data = gradescope_run.run(root)
    assert data["score"] == 0
    assert "readme.txt" in data["output"] and "grader_error" not in data["extra_data"]
    assert data["tests"] and all(t.get("score", 0) == 0 for t in data["tests"])


def test_grader_failure_still_writes_results(source, tmp_path):
    broken_source = tmp_path / "source-copy"
    shutil.copytree(source, broken_source, symlinks=True)
    (broken_source / "course.toml").write_text("this is = not [valid toml\n")
    root = make_root(tmp_path, broken_source, {EX39: b"x = 1\n"})
    data = gradescope_run.run(root)
    assert data == results_of(root)
    assert data["score"] == 0 and data["extra_data"]["grader_error"] is True
    assert "nicht an Ihrer Abgabe" in data["output"]


def test_run_autograder_falls_back_when_python_cannot_start(source, tmp_path):
    root = make_root(tmp_path, source, {EX39: b"x = 1\n"})
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON="/bin/false")
    done = subprocess.run(["bash", str(source / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0
    data = results_of(root)
    assert data["score"] == 0 and data["extra_data"]["grader_error"] is True


def test_hidden_inputs_stay_out_of_results_json_and_vary_per_student(course, source, tmp_path, capsys):
    """grad_diag prints the input it gets: results.json shows public prints only; hidden ones reach
    run_autograder's stdout (instructors only), and another Gradescope user gets other hidden inputs."""
    printer = _reference(course, EX39).replace(
        b"def grad_diag(u: np.ndarray, h: np.ndarray, k: int, grad_hk: np.ndarray) -> np.ndarray:\n",
        b"def grad_diag(u: np.ndarray, h: np.ndarray, k: int, grad_hk: np.ndarray) -> np.ndarray:\n"
        b"    print('IN<%.15g>' % float(np.asarray(h).ravel()[-1]))\n")
    assert b"IN<" in printer

    def grade_as(user: str) -> tuple[str, set[str]]:
        root = make_root(tmp_path / user, source, {EX39: printer})
        (root / "submission_metadata.json").write_text(json.dumps({"users": [{"id": user, "name": "N"}]}))
        capsys.readouterr()
        data = gradescope_run.run(root, hidden_visibility="visible")
        out = capsys.readouterr().out
        assert data["score"] == pytest.approx(3.0)
        staff = json.loads(out.split("staff record (instructors only):\n", 1)[1].rsplit("results.json written", 1)[0]
                           if "results.json written" in out else out.split("staff record (instructors only):\n", 1)[1])
        hidden = {v for t in staff["tests"] if t["hidden"] for v in re.findall(r"IN<([^>]*)>", t.get("output", ""))}
        return json.dumps(data), hidden

    text, hidden = grade_as("111")
    assert "IN<" in text and hidden                       # public prints reach the student, hidden ones staff
    assert not any(value in text for value in hidden)
    _, other = grade_as("222")
    assert other and not other & hidden
    assert gradescope_run.student_id(tmp_path / "111" / "autograder") == "111"
