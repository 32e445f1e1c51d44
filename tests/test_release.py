"""The student release: reproducible, complete, nothing secret, installable as its README says.

Everything but the last test works on the zip in memory (fast). The last
test installs the release into ONE fresh virtualenv (module-scoped, about a
minute: torch comes from the local CPU wheel) and runs `grade` there.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from grader.staff import release
from grader.staff import validate
from grader.notebook import TAG_PREFIX, extract_files

PREFIX = release.RELEASE_FOLDER + "/"


@pytest.fixture(scope="module")
def built(course, tmp_path_factory) -> tuple[bytes, bytes]:
    first = release.build_release(course, tmp_path_factory.mktemp("rel1")).read_bytes()
    second = release.build_release(course, tmp_path_factory.mktemp("rel2")).read_bytes()
    return first, second


@pytest.fixture(scope="module")
def entries(built) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(built[0])) as zf:
        assert all(name.startswith(PREFIX) for name in zf.namelist())
        return {name[len(PREFIX):]: zf.read(name) for name in zf.namelist()}


def test_release_is_reproducible(built):
    first, second = built
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {release.FIXED_TIME}
    assert {(i.external_attr >> 16) & 0o777 for i in infos} == {0o644}


def test_release_has_what_students_need(course, entries):
    for name in ["course.toml", "grader/cli.py", "pyproject.toml", "README.md", "grader/trusted/runner.py", "grader/trusted/plugin.py",
                 "grader/notebook.py", "exercises/autodiff/__init__.py", "exercises/gridworld.py",
                 "exercises/mnist_idx.py", "exercises/ex41_mnist_experiment.py",
                 "data/mnist-sample/train-images-idx3-ubyte.gz", "data/mnist-sample/train-labels-idx1-ubyte.gz",
                 "data/mnist-sample/README.md", "data/mnist-sample/NOTICE"]:
        assert name in entries, name
    # every file of exercises/ ships unchanged (stubs, task texts, public tests, support code) ...
    source = release.tree(course.exercises_dir, "exercises")
    produced = {f"exercises/{f}" for ex in course.exercises for f in ex.extra_files}
    assert source, "exercises/ is empty"
    for name, data in source.items():
        if name not in produced:
            assert entries.get(name) == data, name
    for ex in course.exercises:
        for f in ex.files:
            if (course.exercises_dir / f).is_file():
                assert entries[f"exercises/{f}"] == (course.exercises_dir / f).read_bytes()
        assert f"exercises/notebooks/{ex.id}.ipynb" in entries
    assert any(n.startswith("exercises/tests/support/") for n in entries)
    assert entries["course.toml"] == (course.root / "course.toml").read_bytes()


def test_release_leaves_out_the_staff_pipeline(entries):
    """Students get what they run: no grader/staff/ (batch, LMS, release code), the rest of the engine whole."""
    assert not [n for n in entries if n.startswith("grader/staff/")]
    assert "grader/sandbox/server.py" in entries and "grader/feedback/terminal.py" in entries


def test_release_has_nothing_secret(course, entries):
    tops = {name.split("/", 1)[0] for name in entries}
    assert not tops & {"solutions", "autograder_tests", "tests", "docs", ".git", ".venv"}
    assert not [n for n in entries if "t10k" in n or n.endswith("SEED") or "__pycache__" in n or n.endswith(".pyc")]
    hidden = {p.name for p in course.hidden_tests_dir.glob("*.py")} - {"__init__.py"}  # a package marker
    assert not [n for n in entries if Path(n).name in hidden]
    assert not [n for n in entries if Path(n).name in {f for ex in course.exercises for f in ex.extra_files}]
    problems = validate.leaks(course, {PREFIX + n: d for n, d in entries.items()})
    assert problems == [], "\n".join(map(str, problems))


def test_leak_check_sees_a_planted_leak(course, entries):
    secret = next(iter(validate.secret_lines(course)))
    planted = dict(entries)
    planted["README.md"] = entries["README.md"] + b"\n    " + secret.encode() + b"\n"
    planted["exercises/tests/support/oops.py"] = (course.solutions_dir / "ex39_rnn_gradients.py").read_bytes()
    problems = [str(p) for p in validate.leaks(course, planted)]
    assert any("README.md:" in p for p in problems), problems
    assert any("oops.py: identical to solutions/ex39_rnn_gradients.py" in p for p in problems), problems


def test_pyproject_has_the_project_dependencies(entries):
    ours = tomllib.loads(entries["pyproject.toml"].decode())
    main = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert ours["project"]["dependencies"] == main["project"]["dependencies"]
    assert "torch>=2.2,<2.14" in ours["project"]["dependencies"]
    assert ours["project"]["scripts"] == {"grade": "grader.cli:main"}
    assert ours["project"]["name"] == main["project"]["name"]  # `grade --version` looks the name up
    assert ours["project"]["readme"] == "README.md"


def test_readme_is_german_and_says_how_to_install_check_and_hand_in(course, entries):
    text = entries["README.md"].decode()
    for needle in ["python3 -m venv .venv", "source .venv/bin/activate", "pip install -e .", "grade list",
                   "grade ex41", "grade all", "grade pack", "exercises/notebooks/", ".ipynb", "Installation",
                   "Abgeben", "öffentlichen"]:
        assert needle in text, needle
    for ex in course.exercises:
        assert f"`{ex.id}`" in text


def _notebook(entries, ex_id: str) -> nbformat.NotebookNode:
    nb = nbformat.reads(entries[f"exercises/notebooks/{ex_id}.ipynb"].decode(), as_version=4)
    nbformat.validate(nb)
    return nb


def _tagged(nb) -> dict[str, nbformat.NotebookNode]:
    out = {}
    for cell in nb.cells:
        for tag in cell.metadata.get("tags", []):
            if tag.startswith(TAG_PREFIX):
                out[tag[len(TAG_PREFIX):]] = cell
    return out


def test_notebooks_hold_task_text_stub_cells_and_the_check(course, entries):
    for ex in course.exercises:
        nb = _notebook(entries, ex.id)
        tagged = _tagged(nb)
        assert sorted(tagged) == sorted(ex.files)
        for name, cell in tagged.items():
            assert cell.cell_type == "code"
            first, _, body = cell.source.partition("\n")
            assert first == f"%%writefile ../{name}"
            stub = course.exercises_dir / name
            if stub.is_file():  # running the cell writes the stub back byte for byte
                assert body == stub.read_text(encoding="utf-8").rstrip("\n") + "\n"
        task = course.exercises_dir / "tasks" / f"{ex.id}.md"
        if task.is_file():
            heading = task.read_text(encoding="utf-8").splitlines()[0]
            assert any(c.cell_type == "markdown" and heading in c.source for c in nb.cells)
        if ex.manual_only:  # free-text answers only: nothing to check locally, the answer cells come last
            assert nb.cells[-1].metadata.get("tags") == [f"answer:{ex.id}.{ex.parts[-1].id}"]
        else:
            assert nb.cells[-1].cell_type == "code" and f"-m cli {ex.id}" in nb.cells[-1].source
        assert len({c.id for c in nb.cells}) == len(nb.cells)


def _strip_extraction_header(code: str) -> str:
    lines = [line for line in code.splitlines()
             if not line.startswith("# --- ") and not line.startswith("# (IPython, not run when grading)")]
    return "\n".join(lines).strip("\n")


def test_notebook_round_trip_through_the_extractor(course, entries):
    nb = _notebook(entries, "ex39")
    cell = _tagged(nb)["ex39_rnn_gradients.py"]
    reference = (course.solutions_dir / "ex39_rnn_gradients.py").read_text(encoding="utf-8")
    cell.source = f"%%writefile ../ex39_rnn_gradients.py\n{reference}"
    nb.cells.append(nbformat.v4.new_code_cell("print('an experiment, not graded')"))
    extracted = extract_files(nbformat.writes(nb).encode(), label="ex39.ipynb")
    assert list(extracted) == ["ex39_rnn_gradients.py"]
    assert _strip_extraction_header(extracted["ex39_rnn_gradients.py"]) == reference.strip("\n")
    compile(extracted["ex39_rnn_gradients.py"], "ex39_rnn_gradients.py", "exec")
    untouched = extract_files(entries["exercises/notebooks/ex41.ipynb"], label="ex41.ipynb")
    for name in ("ex41_conv.py", "ex41_mnist.py"):
        stub = (course.exercises_dir / name).read_text(encoding="utf-8")
        assert _strip_extraction_header(untouched[name]) == stub.strip("\n")


# -- the one slow test: install the release as its README says and use it ----------------------

def _run(args, cwd, timeout=600, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory) -> tuple[Path, Path]:
    """The release unpacked and installed into a fresh venv: (release folder, venv bin)."""
    work = tmp_path_factory.mktemp("installed")
    with zipfile.ZipFile(io.BytesIO(built[0])) as zf:
        zf.extractall(work)
    folder = work / release.RELEASE_FOLDER
    readme = (folder / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Installation.*?```bash\n(.*?)```", readme, re.S).group(1).splitlines()
    assert block == ["python3 -m venv .venv", "source .venv/bin/activate", "pip install -e ."]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "GRADE_COURSE_ROOT")}
    made = _run([sys.executable, "-m", "venv", ".venv"], folder, env=env)
    assert made.returncode == 0, made.stderr
    bin_dir = folder / ".venv" / "bin"
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"   # what `source .venv/bin/activate` does
    env["VIRTUAL_ENV"] = str(folder / ".venv")
    pip = _run([str(bin_dir / "pip"), "install", "-e", "."], folder, env=env)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    return folder, bin_dir


def test_fresh_install_runs_grade_like_a_student(course, installed):
    folder, bin_dir = installed
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "GRADE_COURSE_ROOT")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    listed = json.loads(_run([str(bin_dir / "pip"), "list", "--format=json"], folder, env=env).stdout)
    versions = {p["name"].lower(): p["version"] for p in listed}
    assert versions["torch"].startswith("2.13."), versions["torch"]
    assert not [n for n in versions if n.startswith("nvidia")], "CUDA packages were installed"
    assert "nn-grader" in versions

    grade = str(bin_dir / "grade")
    shown = _run([grade, "list"], folder, env=env)
    assert shown.returncode == 0 and "ex41" in shown.stdout, shown.stdout + shown.stderr
    helped = _run([grade, "--help"], folder, env=env)
    commands = {line.split()[0] for line in helped.stdout.split("Commands:")[-1].splitlines() if line.strip()}
    assert {"list", "all", "pack", "doctor", "ex41"} <= commands, helped.stdout
    assert not commands & {"batch", "merge", "validate", "release", "autograder", "similarity"}, helped.stdout

    stubs = _run([grade, "ex41"], folder, env=env)
    assert stubs.returncode == 1, stubs.stdout + stubs.stderr
    for part in course.exercise("ex41").parts:
        assert part.id in stubs.stdout

    for name in course.exercise("ex41").files + course.exercise("ex41").extra_files:
        shutil.copy(course.solutions_dir / name, folder / "exercises" / name)
    solved = _run([grade, "ex41"], folder / "exercises", env=env)  # from a sub-folder, too
    assert solved.returncode == 0, solved.stdout[-4000:] + solved.stderr[-2000:]


def test_a_manual_only_exercise_needs_no_code_and_gets_answer_cells(tmp_path):
    """An exercise of free-text answers only (like ex40): loads, has answer cells, grades as pending."""
    import shutil

    import nbformat

    from grader import course as course_mod
    from grader.trusted import runner
    from grader.notebook import ANSWER_PREFIX, extract_answers
    from conftest import MINI

    root = tmp_path / "course"
    shutil.copytree(MINI, root)
    with open(root / "course.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[[exercise]]\nid = "essays"\ntitle = "Essays"\nfiles = []\n\n'
                 '[[exercise.part]]\nid = "one"\ntitle = "Erste Frage"\npoints = 1\nmanual = true\n\n'
                 '[[exercise.part]]\nid = "two"\ntitle = "Zweite Frage"\npoints = 2\nmanual = true\n')
    course = course_mod.load(root)
    essays = course.exercise("essays")
    assert essays.manual_only and essays.files == ()
    nb = nbformat.reads(release.notebook_bytes(course, essays).decode(), as_version=4)
    tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
    assert tags == [f"{ANSWER_PREFIX}essays.one", f"{ANSWER_PREFIX}essays.two"]
    assert not any(c.cell_type == "code" for c in nb.cells)
    assert extract_answers(nbformat.writes(nb).encode()) == {}  # placeholders are no answers
    nb.cells[-1].source = "Meine Antwort."
    assert extract_answers(nbformat.writes(nb).encode()) == {"essays.two": "Meine Antwort."}
    result = runner.grade(tmp_path, ["essays"], suite="public", course=course)
    parts = result["exercises"][0]["parts"]
    assert [p["pending"] for p in parts] == [True, True] and result["max_score"] == 3
    assert result["exercises"][0]["status"] == "graded"
