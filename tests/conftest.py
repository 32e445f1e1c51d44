"""Shared helpers for the project's own tests: grade real submissions."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads BLAS: threads oversubscribe 2 cores

from grader import course as course_mod # noqa: E402
from grader.trusted import runner # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MINI = Path(__file__).resolve().parent / "fixtures" / "minicourse"


def pytest_configure(config: pytest.Config) -> None:
    runner.prepare_trusted()
    # Forked gradings then reuse the imported test modules. The course is warmed last, so its test
    # packages are the current ones here (project tests import them; grader/trusted/testmodules.py).
    for root in (MINI, ROOT):
        runner.warm_tests(course_mod.load(root))


@pytest.fixture(scope="session")
def course() -> course_mod.Course:
    """The real course of this repository."""
    return course_mod.load(ROOT)


@pytest.fixture(scope="session")
def mini() -> course_mod.Course:
    """A two-exercise course for engine tests."""
    return course_mod.load(MINI)


def write_submission(folder: Path, sources: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in sources.items():
        data = text.encode() if isinstance(text, str) else text
        (folder / name).write_bytes(data)
    return folder


def grade_sources(course: course_mod.Course, folder: Path, sources: dict[str, str | bytes],
                  exercises: list[str], suite: str = "all", **kwargs) -> dict:
    write_submission(folder, sources)
    return runner.grade(folder, exercises, suite=suite, course=course, **kwargs)


def part_scores(result: dict) -> dict[str, float]:
    return {f"{ex['id']}.{p['id']}": p["score"] for ex in result["exercises"] for p in ex["parts"]}


def part_messages(result: dict, exercise: str, part: str) -> str:
    ex = next(e for e in result["exercises"] if e["id"] == exercise)
    p = next(p for p in ex["parts"] if p["id"] == part)
    return "\n".join(t["message"] for t in p["tests"] if t["status"] != "passed")
