"""`grade release`: the student release zip.

What students get: course.toml, the stubs and everything else in exercises/
(task texts, public tests and their support code, the course framework),
one Jupyter notebook per exercise (exercises/notebooks/<id>.ipynb), the
training part of the data, and an installable project that provides `grade`
(the engine grader/ without the staff pipeline grader/staff/, a pyproject.toml
and a German README). Never
solutions/, autograder_tests/ or the project's own tests/.

The zip is reproducible: the same input gives the same bytes (sorted
entries, fixed timestamps and permissions, no directory entries), so staff
can tell from a checksum whether a release changed. `grade validate` builds
it and checks that nothing secret leaked into it (grader/staff/validate.py).

Notebook convention (shared with grader/notebook.py, which extracts): a code
cell tagged ``exercise-file:<filename>`` holds that file; its first line
``%%writefile ../<filename>`` saves it to exercises/ when run, so the local
check (`grade <id>`, the notebook's last cell) sees the notebook's code.
The extractor comments IPython lines out, so the graded code is the cell.
"""
from __future__ import annotations

import fnmatch
import re
import string
import tomllib
import zipfile
from pathlib import Path

import nbformat

import grader
from grader.course import Course, Exercise
from grader.notebook import ANSWER_PLACEHOLDER, ANSWER_PREFIX, TAG_PREFIX

RELEASE_NAME = "student-release.zip"
RELEASE_FOLDER = "student-release"          # every entry lies in this folder: unzipping makes one folder
FIXED_TIME = (2020, 1, 1, 0, 0, 0)
ENGINE_DIR = Path(grader.__file__).resolve().parent
PROJECT_DIR = ENGINE_DIR.parent
TEMPLATES = Path(__file__).resolve().parent / "release_files"
NOTEBOOKS = "exercises/notebooks"

JUNK_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".hypothesis", ".mypy_cache", ".git",
             ".venv", "__MACOSX"}
JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
JUNK_SUFFIXES = (".pyc", ".pyo", ".swp", "~")
# Data that stays with staff: the MNIST test split scores ex41 e in the hidden test.
DATA_EXCLUDE = ("t10k-*",)
# Fallback when the project's pyproject.toml is not beside the engine (engine installed as a wheel).
DEFAULT_DEPENDENCIES = ["numpy>=1.24", "torch>=2.2,<2.14", "click>=8.1", "jinja2>=3.1", "nbformat>=5.9",
                        "pytest>=8.0", "pytest-timeout>=2.2", "hypothesis>=6.100"]


# -- files ------------------------------------------------------------------------

def is_junk(rel: Path) -> bool:
    """Editor, OS and Python litter that never belongs in a package."""
    return (any(p in JUNK_DIRS for p in rel.parts) or rel.name in JUNK_NAMES
            or rel.name.endswith(JUNK_SUFFIXES) or rel.name.startswith("._"))


def tree(folder: Path, prefix: str) -> dict[str, bytes]:
    """``{prefix/relative/path: bytes}`` of the regular files below ``folder`` (no junk, no symlinks)."""
    out: dict[str, bytes] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_symlink() or not path.is_file() or is_junk(rel):
            continue
        out[f"{prefix}/{rel.as_posix()}"] = path.read_bytes()
    return out


def engine_entries(staff: bool = False) -> dict[str, bytes]:
    """The engine (grader/, with the `grade` program grader/cli.py): not secret, students run the same checks.

    The student release leaves out grader/staff/ (batch, LMS, release code): students
    get what they run, and `grade --help` lists only their commands. The autograder
    package (``staff=True``) needs the staff side too.
    """
    entries = tree(ENGINE_DIR, "grader")
    if not staff:
        entries = {name: data for name, data in entries.items() if not name.startswith("grader/staff/")}
    return entries


def exercise_entries(course: Course) -> dict[str, bytes]:
    """course.toml and exercises/ without files students make themselves (e.g. trained weights)."""
    produced = {f for ex in course.exercises for f in ex.extra_files}
    entries = {"course.toml": (course.root / "course.toml").read_bytes()}
    for name, data in tree(course.exercises_dir, "exercises").items():
        rel = name[len("exercises/"):]
        if rel in produced or name.startswith(NOTEBOOKS + "/"):
            continue
        entries[name] = data
    return entries


def data_entries(course: Course) -> dict[str, bytes]:
    """data/ without the files hidden tests score with (DATA_EXCLUDE)."""
    return {name: data for name, data in tree(course.root / "data", "data").items()
            if not any(fnmatch.fnmatch(Path(name).name, pattern) for pattern in DATA_EXCLUDE)}


# -- generated files -----------------------------------------------------------------

def _template(name: str, **values: str) -> str:
    return string.Template((TEMPLATES / name).read_text(encoding="utf-8")).substitute(values)


def project_metadata() -> dict:
    """``dependencies`` and ``requires-python`` of the course project (its pyproject.toml)."""
    path = PROJECT_DIR / "pyproject.toml"
    if path.is_file():
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
        if project.get("dependencies"):
            return {"dependencies": list(project["dependencies"]),
                    "requires-python": project.get("requires-python", ">=3.11")}
    return {"dependencies": list(DEFAULT_DEPENDENCIES), "requires-python": ">=3.11"}


def pyproject_text(course: Course) -> str:
    """The release's pyproject.toml: the project's dependencies, `grade` as console script."""
    meta = project_metadata()
    deps = "\n".join(f"    {_toml_string(d)}," for d in meta["dependencies"])
    return _template("pyproject.toml.tmpl", title=course.title, version=grader.__version__,
                     requires_python=meta["requires-python"], dependencies=deps)


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def readme_text(course: Course) -> str:
    """The German README: install, check, hand in, notebooks."""
    meta = project_metadata()
    rows = []
    for ex in course.exercises:
        files = ", ".join(f"`{f}`" for f in ex.files + ex.extra_files)
        rows.append(f"| `{ex.id}` | {ex.title} | {ex.max_points:g} | {files} |")
    torch = next((d for d in meta["dependencies"] if re.match(r"^torch\b", d)), "torch")
    version = re.sub(r"^[^0-9]*", "", meta["requires-python"]).split(",")[0] or "3.11"
    return _template("README.md.tmpl", title=course.title, exercise_table="\n".join(rows),
                     torch_requirement=torch, python_version=version)


def _cell_id(ex: Exercise, index: int) -> str:
    return f"{ex.id}-{index:02d}"[-64:]


def _markdown_chunks(text: str) -> list[str]:
    """A task text split at its level-2 headings, one notebook cell each."""
    chunks, current = [], []
    for line in text.splitlines():
        if line.startswith("## ") and any(s.strip() for s in current):
            chunks.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    if any(s.strip() for s in current):
        chunks.append("\n".join(current).strip("\n"))
    return chunks


def build_notebook(course: Course, ex: Exercise) -> nbformat.NotebookNode:
    """The task notebook of ``ex``: text, one tagged code cell per student file, the local check."""
    v4 = nbformat.v4
    extra = ""
    if ex.extra_files:
        extra = (" Zusätzlich gehört zur Abgabe: " + ", ".join(f"`{f}`" for f in ex.extra_files)
                 + " (siehe Aufgabentext).")
    if ex.manual_only:
        cells = [v4.new_markdown_cell(f"# {ex.title}\n\nDiese Aufgabe hat keinen Code: Ihre Antworten gehören in "
                                      "die markierten Antwortzellen (Zell-Tag `answer:…`) weiter unten. Abgabe: "
                                      "`grade pack` nimmt dieses Notebook mit.")]
    else:
        cells = [v4.new_markdown_cell(_template("notebook_intro.md.tmpl", title=ex.title, exercise_id=ex.id,
                                                files=", ".join(f"`{f}`" for f in ex.files), extra_note=extra))]
    task = course.exercises_dir / "tasks" / f"{ex.id}.md"
    if task.is_file():
        cells += [v4.new_markdown_cell(chunk) for chunk in _markdown_chunks(task.read_text(encoding="utf-8"))]
    for name in ex.files:
        stub = course.exercises_dir / name
        code = stub.read_text(encoding="utf-8").rstrip("\n") if stub.is_file() else ""
        cells.append(v4.new_markdown_cell(f"## Ihre Datei `{name}`"))
        cells.append(v4.new_code_cell(f"%%writefile ../{name}\n{code}\n",
                                      metadata={"tags": [TAG_PREFIX + name]}))
    cells += answer_cells(ex)
    if ex.manual_only:
        return _finish_notebook(ex, cells)
    imports = "\n".join(f"import {m}\nimportlib.reload({m})" for m in ex.modules)
    cells.append(v4.new_markdown_cell(_template("notebook_try.md.tmpl")))
    cells.append(v4.new_code_cell("import importlib\nimport sys\n\n"
                                  "if \"..\" not in sys.path:\n"
                                  "    sys.path.insert(0, \"..\")  # exercises/: Ihre Dateien und das Kurs-Framework\n"
                                  f"{imports}\n"))
    cells.append(v4.new_markdown_cell(_template("notebook_check.md.tmpl", exercise_id=ex.id)))
    cells.append(v4.new_code_cell(f"# entspricht `grade {ex.id}` im Terminal\n"
                                  "import sys\n\n"
                                  f"!\"{{sys.executable}}\" -m cli {ex.id}\n"))
    return _finish_notebook(ex, cells)


def answer_cells(ex: Exercise) -> list:
    """A heading and one tagged Markdown answer cell per manual (free-text) part."""
    v4 = nbformat.v4
    cells = []
    for part in ex.manual_parts:
        cells.append(v4.new_markdown_cell(f"## Ihre Antwort: {part.title}\n\nSchreiben Sie Ihre Antwort in die "
                                          f"nächste Zelle (Markdown). Sie wird mit `grade pack` abgegeben und von "
                                          f"Tutor*innen bewertet ({_points_de(part.points)})."))
        cells.append(v4.new_markdown_cell(ANSWER_PLACEHOLDER,
                                          metadata={"tags": [f"{ANSWER_PREFIX}{ex.id}.{part.id}"]}))
    return cells


def _points_de(points: float) -> str:
    if points == 0:
        return "ohne Punkte, mit Rückmeldung"
    text = f"{points:g}".replace(".", ",")
    return f"bis zu {text} Punkt" if points == 1 else f"bis zu {text} Punkte"


def _finish_notebook(ex: Exercise, cells: list) -> nbformat.NotebookNode:
    v4 = nbformat.v4
    for index, cell in enumerate(cells):
        cell["id"] = _cell_id(ex, index)
    nb = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(nb)
    return nb


def notebook_bytes(course: Course, ex: Exercise) -> bytes:
    text = nbformat.writes(build_notebook(course, ex))
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


# -- the release ---------------------------------------------------------------------

def release_entries(course: Course) -> dict[str, bytes]:
    """Every file of the release, keyed by its path inside the release folder."""
    entries = engine_entries()
    entries.update(exercise_entries(course))
    entries.update(data_entries(course))
    for ex in course.exercises:
        entries[f"{NOTEBOOKS}/{ex.id}.ipynb"] = notebook_bytes(course, ex)
    entries["pyproject.toml"] = pyproject_text(course).encode("utf-8")
    entries["README.md"] = readme_text(course).encode("utf-8")
    return entries


def write_zip(entries: dict[str, bytes], path: Path, executables: frozenset[str] = frozenset()) -> Path:
    """Write a reproducible zip: sorted names, fixed time, mode 644 (755 for ``executables``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.create_system = 3  # Unix, so that the permission bits below are honoured
            info.external_attr = ((0o100755 if name in executables else 0o100644) & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[name], compresslevel=9)
    tmp.replace(path)
    return path


def build_release(course: Course, out_dir: Path) -> Path:
    """Write ``out_dir/student-release.zip`` and return its path."""
    entries = {f"{RELEASE_FOLDER}/{name}": data for name, data in release_entries(course).items()}
    return write_zip(entries, Path(out_dir) / RELEASE_NAME)
