"""The course metadata (course.toml): exercises, parts, points, limits.

The engine learns everything about the content from here and from the folder
conventions below, so that adding an exercise never touches engine code:

- student files:   exercises/<file>
- task text:       exercises/tasks/<id>.md
- public tests:    exercises/tests/test_<id>*.py
- hidden tests:    autograder_tests/test_<id>*.py
- references:      solutions/<file>
"""
from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

COURSE_FILE = "course.toml"
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class CourseError(Exception):
    """course.toml is missing or inconsistent; the message says where."""


class CourseNotFound(CourseError):
    """No course.toml at or above ``folder``: grade was started outside a course."""

    def __init__(self, folder: Path) -> None:
        super().__init__(f"no {COURSE_FILE} found in {folder} or any folder above it; "
                         "run grade inside the course (or student release) folder")
        self.folder = folder


@dataclass(frozen=True)
class Part:
    id: str
    title: str
    points: float
    manual: bool = False
    public_share: float | None = None


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    files: tuple[str, ...]
    parts: tuple[Part, ...]
    extra_files: tuple[str, ...] = ()
    numpy_only: tuple[str, ...] = ()
    call_timeout: float = 10.0

    @property
    def max_points(self) -> float:
        return sum(p.points for p in self.parts)

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(Path(f).stem for f in self.files)

    @property
    def manual_parts(self) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if p.manual)

    @property
    def manual_only(self) -> bool:
        """No code to grade: every part is a free-text answer graded by staff."""
        return all(p.manual for p in self.parts)

    def part(self, part_id: str) -> Part:
        for p in self.parts:
            if p.id == part_id:
                return p
        raise KeyError(part_id)


@dataclass(frozen=True)
class Course:
    root: Path
    title: str
    exercises: tuple[Exercise, ...]
    import_timeout: float = 20.0
    output_cap: int = 16384
    memory_mb: int = 2048
    sandbox_modules: tuple[str, ...] = ()
    forbidden_packages: tuple[str, ...] = ("torch", "scipy", "tensorflow", "jax", "jaxlib", "keras")
    secret_seed: str = ""
    #: Language of everything students read (grader/i18n): "de" or "en".
    language: str = "de"

    @property
    def exercises_dir(self) -> Path:
        return self.root / "exercises"

    @property
    def public_tests_dir(self) -> Path:
        return self.exercises_dir / "tests"

    @property
    def hidden_tests_dir(self) -> Path:
        return self.root / "autograder_tests"

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    def exercise(self, exercise_id: str) -> Exercise:
        for ex in self.exercises:
            if ex.id == exercise_id:
                return ex
        raise KeyError(exercise_id)

    def test_files(self, exercise_id: str, hidden: bool) -> list[Path]:
        """The test files of one exercise, public or hidden, in a stable order."""
        folder = self.hidden_tests_dir if hidden else self.public_tests_dir
        if not folder.is_dir():
            return []
        pattern = re.compile(rf"^test_{re.escape(exercise_id)}(_.*)?\.py$")
        return sorted(p for p in folder.iterdir() if pattern.match(p.name))

    def has_hidden_tests(self) -> bool:
        return any(self.test_files(ex.id, hidden=True) for ex in self.exercises)

    def exercise_ids(self, only: Iterable[str] = ()) -> list[str]:
        """``only`` checked against the course (KeyError for an unknown id), or every exercise id."""
        ids = list(only) or [e.id for e in self.exercises]
        for ex_id in ids:
            self.exercise(ex_id)
        return ids

    def submission_files(self, exercise_ids: Iterable[str], extra: bool = True) -> list[str]:
        """The files a submission of these exercises consists of (with ``extra_files`` such as weights)."""
        names: list[str] = []
        for ex_id in exercise_ids:
            ex = self.exercise(ex_id)
            names += [f for f in ex.files + (ex.extra_files if extra else ()) if f not in names]
        return names

    def suite_test_files(self, exercise_ids: Iterable[str], hidden: bool) -> list[Path]:
        """The public test files of these exercises, followed by the hidden ones when ``hidden``."""
        ids = list(exercise_ids)
        public = [f for ex_id in ids for f in self.test_files(ex_id, hidden=False)]
        return public + ([f for ex_id in ids for f in self.test_files(ex_id, hidden=True)] if hidden else [])


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) with a course.toml."""
    env = os.environ.get("GRADE_COURSE_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / COURSE_FILE).is_file():
            return folder
    raise CourseNotFound(here)


def load(root: Path | None = None) -> Course:
    """Read and check course.toml."""
    root = find_root() if root is None else Path(root).resolve()
    path = root / COURSE_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CourseError(f"{path}: {exc}") from None
    try:
        return _course(data, root, path)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # e.g. call_timeout = "zehn"
        raise CourseError(f"{path}: a value has the wrong form ({type(exc).__name__}: {exc})") from None


def _course(data: dict, root: Path, path: Path) -> Course:
    meta = data.get("course", {})
    default_timeout = float(meta.get("call_timeout", 10))
    exercises = tuple(_exercise(e, default_timeout, path) for e in data.get("exercise", []))
    ids = [e.id for e in exercises]
    if len(set(ids)) != len(ids):
        raise CourseError(f"{path}: duplicate exercise ids in {ids}")
    return Course(
        root=root,
        title=str(meta.get("title", "Course")),
        exercises=exercises,
        import_timeout=float(meta.get("import_timeout", 20)),
        output_cap=int(meta.get("output_cap", 16384)),
        memory_mb=int(meta.get("memory_mb", 2048)),
        sandbox_modules=tuple(meta.get("sandbox_modules", ())),
        forbidden_packages=tuple(meta.get("forbidden_packages", Course.forbidden_packages)),
        secret_seed=_secret_seed(root),
        language=str(meta.get("language", "de")),
    )


def _exercise(raw: dict, default_timeout: float, path: Path) -> Exercise:
    ex_id = str(raw.get("id", ""))
    if not _ID.match(ex_id):
        raise CourseError(f"{path}: exercise id {ex_id!r} must be a Python-style name")
    parts = tuple(
        Part(
            id=str(p["id"]),
            title=str(p.get("title", p["id"])),
            points=float(p.get("points", 0)),
            manual=bool(p.get("manual", False)),
            public_share=None if p.get("public_share") is None else float(p["public_share"]),
        )
        for p in raw.get("part", [])
    )
    if not parts:
        raise CourseError(f"{path}: exercise {ex_id} has no [[exercise.part]]")
    part_ids = [p.id for p in parts]
    if len(set(part_ids)) != len(part_ids):
        raise CourseError(f"{path}: exercise {ex_id} has duplicate part ids")
    for p in parts:
        if p.public_share is not None and not 0 <= p.public_share <= 1:
            raise CourseError(f"{path}: {ex_id}.{p.id}: public_share must lie in [0, 1]")
    files = tuple(raw.get("files", ()))
    if not files and not all(p.manual for p in parts):
        raise CourseError(f"{path}: exercise {ex_id} lists no files (only an exercise whose parts are all "
                          "manual, free-text answers in the notebook, may have none)")
    return Exercise(
        id=ex_id,
        title=str(raw.get("title", ex_id)),
        files=files,
        parts=parts,
        extra_files=tuple(raw.get("extra_files", ())),
        numpy_only=tuple(raw.get("numpy_only", ())),
        call_timeout=float(raw.get("call_timeout", default_timeout)),
    )


def _secret_seed(root: Path) -> str:
    """The secret that varies hidden-test inputs per student and course run.

    Kept outside course.toml (which ships to students): the GRADE_SECRET_SEED
    environment variable or autograder_tests/SEED. Without either, a digest of
    the hidden test files themselves: they are as secret as a seed (students
    never get them), so hidden inputs cannot be recomputed from the student id
    and the test name alone. A course without hidden tests has no secret.
    """
    env = os.environ.get("GRADE_SECRET_SEED")
    if env:
        return env
    hidden = root / "autograder_tests"
    seed_file = hidden / "SEED"
    if seed_file.is_file():
        return seed_file.read_text(encoding="utf-8").strip()
    digest = hashlib.sha256(b"nn-grader hidden tests\0")
    files = sorted(p for p in hidden.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if hidden.is_dir() else []
    for path in files:
        digest.update(path.relative_to(hidden).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest() if files else ""