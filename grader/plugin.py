"""The pytest plugin: fixtures and markers for course tests, and score records.

Course authors see ordinary pytest: `@pytest.mark.part("a")`, the fixtures
`student`, `rng`, `credit` and `grade_options`. The plugin runs in the
trusted process; the student's code is reached only through `student`.
For every test it records outcome, student-facing message, captured student
output and partial credit. Points are assigned afterwards (results.py).
"""
from __future__ import annotations

import hashlib
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from grader import checks
from grader.course import Course, Exercise
from grader.errors import SandboxUnavailable, StudentError
from grader.student import RemoteModule, SandboxConfig, StudentSession


@dataclass
class TestRecord:
    """What one test did, before points are assigned."""

    id: str
    name: str
    exercise: str
    part: str
    hidden: bool
    weight: float
    status: str = "failed"
    message: str = ""
    output: str = ""
    fraction: float = 0.0
    duration: float = 0.0
    internal_error: str = ""
    config_error: str = ""


class Credit:
    """Partial credit for the current test: `credit.set(solved / total)`."""

    def __init__(self) -> None:
        self.fraction = 0.0

    def set(self, fraction: float) -> None:
        self.fraction = float(min(1.0, max(0.0, fraction)))


class Student:
    """The `student` fixture: the sandboxed submission of one exercise."""

    def __init__(self, session: StudentSession, exercise: Exercise) -> None:
        self._session = session
        self._exercise = exercise

    def module(self, name: str, timeout: float | None = None) -> RemoteModule:
        if name not in self._exercise.modules:
            raise AttributeError(f"exercise {self._exercise.id} has no student file {name}.py "
                                 f"(course.toml lists {', '.join(self._exercise.files)})")
        return self._session.module(name, timeout)

    def __getattr__(self, name: str) -> RemoteModule:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.module(name)

    def run(self, driver: Callable, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        return self._session.run(driver, *args, timeout=timeout, **kwargs)

    @property
    def isolation(self) -> dict:
        return self._session.isolation


class GradingPlugin:
    """Registered with pytest.main(plugins=[...]) by the runner."""

    def __init__(self, course: Course, submission_dir: Path, options: dict | None = None,
                 mask: tuple[str, ...] = ()) -> None:
        self.course = course
        self.submission_dir = Path(submission_dir)
        self.options = dict(options or {})
        self.mask = mask
        self.sessions: dict[str, StudentSession] = {}
        self.records: dict[str, TestRecord] = {}
        self.collection_errors: list[str] = []
        self.environment_error: str = ""

    # -- pytest hooks -----------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "part(id, weight=1): the exercise part this test scores for")
        for folder in (self.course.public_tests_dir, self.course.hidden_tests_dir):
            if folder.is_dir() and str(folder) not in sys.path:
                sys.path.insert(0, str(folder))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.records[item.nodeid] = self._record_for(item)
            # Messages come from the exception itself (_message); pytest's own failure
            # rendering re-parses every source file on the traceback: ~30 ms per failed test.
            item.repr_failure = _brief_failure
            item._repr_failure_py = _brief_failure

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        record = self.records.get(item.nodeid)
        token = checks.set_reveal(not (record and record.hidden))
        try:
            yield
        finally:
            checks._REVEAL.reset(token)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        outcome = yield
        report = outcome.get_result()
        record = self.records.get(item.nodeid)
        if record is None or (call.when == "teardown" and not report.failed):
            return
        if call.when == "setup" and report.passed:
            return
        record.duration += call.duration
        if report.passed and call.when == "call":
            record.status, record.fraction = "passed", 1.0
        elif report.failed or report.skipped:
            record.status = "failed"
            credit = getattr(item, "_grader_credit", None)
            record.fraction = credit.fraction if credit else 0.0
            record.message = self._message(call, record, report)
        session = self.sessions.get(record.exercise)
        if session is not None:
            record.output += session.take_output()

    def pytest_sessionfinish(self) -> None:
        for session in self.sessions.values():
            session.close()

    # -- fixtures -------------------------------------------------------------
    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> Student:
        record = self.records[request.node.nodeid]
        exercise = self.course.exercise(record.exercise)
        if record.exercise not in self.sessions:
            self.sessions[record.exercise] = StudentSession(self._sandbox_config(exercise))
        return Student(self.sessions[record.exercise], exercise)

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> np.random.Generator:
        record = self.records.get(request.node.nodeid)
        salt = self.course.secret_seed if record and record.hidden else ""
        digest = hashlib.sha256(f"{salt}|{request.node.nodeid.split('::', 1)[-1]}".encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], "little"))

    @pytest.fixture
    def credit(self, request: pytest.FixtureRequest) -> Credit:
        request.node._grader_credit = Credit()
        return request.node._grader_credit

    @pytest.fixture
    def grade_options(self) -> dict:
        return dict(self.options)

    # -- helpers ----------------------------------------------------------------
    def _record_for(self, item: pytest.Item) -> TestRecord:
        path = Path(str(item.fspath)).resolve()
        hidden = self.course.hidden_tests_dir.resolve() in path.parents
        stem = path.stem[len("test_"):]
        exercise = next((e for e in sorted(self.course.exercises, key=lambda e: -len(e.id))
                         if stem == e.id or stem.startswith(e.id + "_")), None)
        marker = item.get_closest_marker("part")
        part = str(marker.args[0]) if marker and marker.args else ""
        weight = float(marker.kwargs.get("weight", 1.0)) if marker else 1.0
        rel = path.relative_to(self.course.root) if self.course.root in path.parents else path
        record = TestRecord(id=f"{rel.as_posix()}::{item.name}", name=item.name,
                            exercise=exercise.id if exercise else "", part=part, hidden=hidden, weight=weight)
        if exercise is None:
            record.config_error = f"test file {path.name} matches no exercise id"
        elif not part:
            record.config_error = "test has no @pytest.mark.part(...) marker"
        elif part not in [p.id for p in exercise.parts] or exercise.part(part).manual:
            record.config_error = f"unknown or manual part {part!r} for exercise {exercise.id}"
        return record

    def _sandbox_config(self, exercise: Exercise) -> SandboxConfig:
        course = self.course
        hidden_data = [course.solutions_dir, course.hidden_tests_dir, course.root / "data"]
        return SandboxConfig(
            submission_dir=self.submission_dir,
            files=exercise.files,
            extra_files=exercise.extra_files,
            numpy_only=exercise.numpy_only,
            course_paths=(str(course.exercises_dir),),
            preload=course.sandbox_modules,
            forbidden=course.forbidden_packages,
            mask=tuple(str(p) for p in hidden_data) + tuple(self.mask) + forbidden_package_dirs(course),
            call_timeout=exercise.call_timeout,
            import_timeout=course.import_timeout,
            memory_mb=course.memory_mb,
            output_cap=course.output_cap,
        )

    def _message(self, call: pytest.CallInfo, record: TestRecord, report: pytest.TestReport) -> str:
        if report.skipped:
            return "This test was skipped, so it scores no points."
        exc = call.excinfo.value if call.excinfo else None
        if isinstance(exc, SandboxUnavailable):
            self.environment_error = str(exc)
            return f"The grader could not run your code (not your fault): {exc}"
        if isinstance(exc, StudentError):
            return exc.student_message()
        if isinstance(exc, AssertionError):
            text = str(exc)
            if record.hidden or "\nassert " in text:
                text = text.split("\nassert ")[0]
            return text or "A check failed."
        record.internal_error = "".join(traceback.format_exception(exc)) if exc else report.longreprtext
        if record.hidden:
            return "The grader's test itself failed (not your fault); the course staff will look into it."
        return f"The grader's test itself failed (not your fault): {type(exc).__name__}: {exc}"


def _brief_failure(excinfo: pytest.ExceptionInfo, style: str | None = None) -> str:
    """A failed test's pytest report text: the exception line only (nobody reads pytest's report)."""
    return "".join(traceback.format_exception_only(excinfo.type, excinfo.value)).strip()


def forbidden_package_dirs(course: Course) -> tuple[str, ...]:
    """Install folders of packages the sandbox must not load, found without importing them."""
    import importlib.util

    dirs = []
    for name in course.forbidden_packages:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec and spec.submodule_search_locations:
            dirs += list(spec.submodule_search_locations)
    return tuple(dirs)

