"""The naive baseline: the course tests run with the student's files imported directly.

This is what most course autograders do: one fresh `python -m pytest` per
submission, the student's modules imported into the test process, and
pytest-timeout for time limits. No sandbox, no fork, no warm process. It
offers the same fixtures as the engine's plugin (`student`, `rng`, `credit`,
`grade_options`, marker `part`) so the very same public and hidden test
files run unchanged, and it appends one JSON line per test phase to
$NAIVE_REPORT (so a submission that kills the process still leaves a trace).

Environment: NAIVE_SUBMISSION (folder with the student's files),
NAIVE_COURSE (course root), NAIVE_REPORT (JSONL output, optional),
NAIVE_OPTIONS (JSON dict for grade_options, optional).

Load with `-p naive_plugin` and this folder on PYTHONPATH.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from grader import course as course_mod
from grader.trusted.errors import ImportFailed, StudentException

_COURSE = course_mod.load(Path(os.environ.get("NAIVE_COURSE", ".")))
_SUBMISSION = Path(os.environ.get("NAIVE_SUBMISSION", ".")).resolve()
_REPORT = os.environ.get("NAIVE_REPORT", "")
_STARTED = time.monotonic()


def _log(entry: dict) -> None:
    if _REPORT:
        with open(_REPORT, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")


def _read_only(value: Any) -> Any:
    """Inputs arrive read-only, as in the engine (which sends copies)."""
    if isinstance(value, np.ndarray):
        value = value.copy()
        value.flags.writeable = False
        return value
    if type(value) in (list, tuple):
        return type(value)(_read_only(v) for v in value)
    if type(value) is dict:
        return {k: _read_only(v) for k, v in value.items()}
    return value


def _call(fn: Callable, args: tuple, kwargs: dict) -> Any:
    try:
        return fn(*_read_only(args), **_read_only(kwargs))
    except (StudentException, ImportFailed):
        raise
    except Exception as exc:  # noqa: BLE001 - translated like the engine does, so checks.raises works
        tb = "".join(traceback.format_tb(exc.__traceback__)[-3:])
        raise StudentException(type(exc).__name__, str(exc)[:2000], tb) from None


class NaiveModule:
    """A student module imported straight into the test process."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _module(self) -> Any:
        try:
            return importlib.import_module(self._name)
        except Exception as exc:  # noqa: BLE001
            raise ImportFailed(f"{self._name}.py could not be imported: {type(exc).__name__}: {exc}") from None

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = getattr(self._module(), attr)
        if callable(value):
            return lambda *a, **k: _call(value, a, k)
        return value


class NaiveStudent:
    """The `student` fixture without a sandbox."""

    def module(self, name: str, timeout: float | None = None) -> NaiveModule:
        return NaiveModule(name)

    def __getattr__(self, name: str) -> NaiveModule:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.module(name)

    def run(self, driver: Callable, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        return _call(driver, args, kwargs)


class Credit:
    def __init__(self) -> None:
        self.fraction = 0.0

    def set(self, fraction: float) -> None:
        self.fraction = float(min(1.0, max(0.0, fraction)))


def _exercise_of(path: Path):
    stem = path.stem[len("test_"):]
    return next((e for e in sorted(_COURSE.exercises, key=lambda e: -len(e.id))
                 if stem == e.id or stem.startswith(e.id + "_")), None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "part(id, weight=1): the exercise part this test scores for")
    # Student folder first, then the test folders, then the course modules (autodiff, ...).
    sys.path.insert(0, str(_SUBMISSION))
    for folder in (_COURSE.public_tests_dir, _COURSE.hidden_tests_dir):
        if str(folder) not in sys.path:
            sys.path.insert(1, str(folder))
    sys.path.append(str(_COURSE.exercises_dir))
    _log({"event": "configured", "t": time.monotonic() - _STARTED})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Per-test time limits: the exercise's per-call limit (MNIST tests: 120 s), as the engine."""
    for item in items:
        exercise = _exercise_of(Path(str(item.fspath)))
        limit = exercise.call_timeout if exercise else 10.0
        if "mnist" in Path(str(item.fspath)).stem:
            limit = 120.0
        item.add_marker(pytest.mark.timeout(limit, method="signal"))
    _log({"event": "collected", "t": time.monotonic() - _STARTED, "n": len(items)})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    outcome = yield
    report = outcome.get_result()
    _log({"event": "phase", "id": item.nodeid, "when": call.when, "outcome": report.outcome,
          "duration": call.duration})


def pytest_sessionfinish(session: pytest.Session) -> None:
    _log({"event": "finished", "t": time.monotonic() - _STARTED})


@pytest.fixture
def student() -> NaiveStudent:
    return NaiveStudent()


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    hidden = _COURSE.hidden_tests_dir.resolve() in Path(str(request.node.fspath)).resolve().parents
    salt = _COURSE.secret_seed if hidden else ""
    digest = hashlib.sha256(f"{salt}|{request.node.nodeid.split('::', 1)[-1]}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


@pytest.fixture
def credit() -> Credit:
    return Credit()


@pytest.fixture
def grade_options() -> dict:
    return json.loads(os.environ.get("NAIVE_OPTIONS", "{}"))
