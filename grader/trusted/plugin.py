"""The pytest plugin: fixtures and markers for course tests, and score records.

Course authors see ordinary pytest: `@pytest.mark.part("a")`, the fixtures
`student`, `rng`, `credit` and `grade_options`. The plugin runs in the
trusted process; the student's code is reached only through `student`.
For every test it records outcome, student-facing message, captured student
output and partial credit. Points are assigned afterwards (results.py).
Hidden tests run after all public ones (of every exercise; each exercise
keeps its sandbox for both), and their student-facing record holds nothing
the submission produced (the full record goes to the staff fields;
docs/security.md, "Hidden tests").
"""
from __future__ import annotations

import functools
import hashlib
import re
import sys
import traceback
import types
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pytest

from grader import i18n
from grader.trusted import checks
from grader.course import Course, Exercise
from grader.trusted.errors import (AuthorError, BadReturn, ImportFailed, SandboxUnavailable, StudentCrash,
                                  StudentError, StudentException, StudentTimeout)
from grader.trusted.remote import RemoteModule, SandboxConfig, StudentSession
from grader.trusted.results import TestRecord, TestStatus

#: Every student-facing sentence of the plugin, one entry per case (translated in one place).
#: Hidden tests never show what the submission produced (its output, exception text, returned
#: strings or numbers): only the kind of failure, pass/fail and points.
class _PluginMessages:
    """``MESSAGES[key]``: the plugin's sentence ``key`` in the course's language (grader/i18n, "plugin.<key>")."""

    def __getitem__(self, key: str) -> str:
        return i18n.t(f"plugin.{key}")


MESSAGES = _PluginMessages()

#: Called as PROGRESS(stage, record, i, n) when test i of n starts ("start") and ends ("done");
#: `grade EXID` sets it to show progress on the terminal (a forked grading inherits it).
PROGRESS: Callable[[str, "TestRecord", int, int], None] | None = None

#: Shown in place of anything the submission produced inside a hidden-test message.
REDACTED = "…"
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
#: Exceptions that mean the test code itself is broken, whatever the student returned.
_GRADER_DEFECTS = (NameError, ImportError, SyntaxError, AuthorError)
#: A TypeError of these words is a call that does not fit the called function's signature: a test
#: calling a helper (checks.assert_close, its own check_...) wrongly, not a value the student returned.
_SIGNATURE_ERROR = re.compile(r"^[\w.<>]+\(\) (got an unexpected keyword argument|got multiple values for "
                              r"argument|missing \d+ required keyword-only argument)")
#: The checks API (grader/trusted/checks.py) turns every value a student returns into CheckFailed; any
#: other exception raised inside it is a misuse by the test or a bug of the API, never the student's.
_CHECKS_FILE = str(Path(checks.__file__).resolve())

#: The test being run (set by the plugin at setup): hidden or not, the student id, the course secret.
_CURRENT: dict[str, Any] = {}


def hidden_seed(*labels: Any) -> int:
    """A 64-bit seed for the current test: per student and course secret in hidden tests.

    In a hidden test the seed is a hash of the course secret (course.secret_seed),
    the student id and ``labels``: every student gets other inputs (a leaked
    hidden case is useless to anyone else) and a regrade of the same student
    draws the same ones. In public tests the secret and the id are left out, so
    public inputs are the same for everyone. Call it while a test runs (in the
    test or a fixture), never at import time: modules are imported once for
    all students.
    """
    if not _CURRENT:
        raise RuntimeError("hidden_seed()/hidden_rng() called outside a running test (at import time?); "
                           "draw per-student inputs inside the test")
    hidden = _CURRENT["hidden"]
    material = "|".join([_CURRENT["secret"] if hidden else "", _CURRENT["student"] if hidden else "",
                         *map(str, labels)])
    return int.from_bytes(hashlib.sha256(material.encode()).digest()[:8], "little")


def hidden_rng(*labels: Any) -> np.random.Generator:
    """``np.random.default_rng(hidden_seed(*labels))``: the generator hidden tests draw inputs from."""
    return np.random.default_rng(hidden_seed(*labels))


def _hidden_student_message(exc: StudentError) -> str:
    """What a hidden test says about a failure in student code: its kind, nothing it produced."""
    if isinstance(exc, StudentException):
        key = "hidden_not_implemented" if exc.type == "NotImplementedError" else "hidden_exception"
    elif isinstance(exc, StudentTimeout):
        key = "hidden_timeout"
    elif isinstance(exc, StudentCrash):
        key = "hidden_crash"
    elif isinstance(exc, ImportFailed):
        key = "hidden_import"
    elif isinstance(exc, BadReturn):
        key = "hidden_bad_return"
    else:
        key = "hidden_exception"
    return f"{MESSAGES[key]}\n{MESSAGES['hidden_note']}"


def redact_hidden(text: str, produced: list[str]) -> str:
    """A hidden test's check message without anything the submission could have chosen.

    Strings the sandbox sent during the test (returned strings, exception texts,
    type names, printed output) are cut out, then every number is masked:
    shapes, counts and indices in check messages can be chosen by a submission
    to smuggle hidden inputs out. Numbers of the test's own (tolerances, input
    shapes) are masked too; the wording still says what kind of check failed.
    """
    cut = [False] * len(text)
    for piece in set(produced):
        for start, end in _occurrences(piece, text):
            cut[start:end] = [True] * (end - start)
    kept, i = [], 0
    while i < len(text):  # every maximal run of cut characters becomes one REDACTED
        if cut[i]:
            while i < len(text) and cut[i]:
                i += 1
            kept.append(REDACTED)
        else:
            kept.append(text[i])
            i += 1
    return _NUMBER.sub(REDACTED, "".join(kept))


def _occurrences(piece: str, text: str) -> list[tuple[int, int]]:
    """Spans of ``piece`` in ``text``, all found in the original text (redact_hidden cuts their union).

    Cutting one piece after another let a submission shield a string: a printed
    piece overlapping the start of a returned type name was cut first, and the
    name no longer matched. Pieces of one or two characters (a class named with
    two arbitrary letters carries about 40 bits) are cut where they stand alone,
    not inside words, so a student's "a" does not shred the sentence around it.
    """
    if not piece or piece not in text:
        return []
    if len(piece) < 3:
        pattern = re.compile(r"(?<!\w)" + re.escape(piece) + r"(?!\w)")
        return [m.span() for m in pattern.finditer(text)]
    spans, start = [], text.find(piece)
    while start != -1:
        spans.append((start, start + len(piece)))
        start = text.find(piece, start + 1)
    return spans


class Credit:
    """Partial credit for the current test: `credit.set(solved / total)`."""

    def __init__(self) -> None:
        self.fraction = 0.0

    def set(self, fraction: float) -> None:
        self.fraction = float(min(1.0, max(0.0, fraction)))


CREDIT = pytest.StashKey["Credit"]()
"""Where the `credit` fixture leaves the current test's Credit (on the test item's stash)."""


class Student:
    """The `student` fixture: the sandboxed submission of one exercise."""

    def __init__(self, session: StudentSession, exercise: Exercise) -> None:
        self._session = session
        self._exercise = exercise

    def module(self, name: str, timeout: float | None = None) -> RemoteModule:
        if name not in self._exercise.modules:  # a test asking for a file the exercise does not have
            raise AuthorError(f"exercise {self._exercise.id} has no student file {name}.py "
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

    def __init__(self, course: Course, submission_dir: Path, test_options: Mapping[str, str] | None = None,
                 hidden_paths: tuple[str, ...] = (), student_id: str | None = None) -> None:
        self.course = course
        self.submission_dir = Path(submission_dir)
        self.test_options = dict(test_options or {})
        self.hidden_paths = tuple(hidden_paths)
        self.student_id = student_id or ""
        # One sandbox per exercise, for its public tests and then its hidden ones. Every public test
        # of every exercise runs first, so no public test ever runs after a hidden one in any process.
        self.sessions: dict[str, StudentSession] = {}
        self.upcoming: dict[str, StudentSession] = {}   # started ahead (_prestart_after)
        self.session_order: list[str] = []              # exercises in the order of their first test
        self.last_test: dict[str, str] = {}             # exercise -> node id of its last test using `student`
        self._replies_at_start = 0
        self.records: dict[str, TestRecord] = {}
        self.collection_errors: list[str] = []
        self.environment_error: str = ""
        self.test_errors: list[str] = []   # ids of tests whose own code failed ("not your fault")
        i18n.set_language(course.language)

    # -- pytest hooks -----------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        # No test folder goes on sys.path: test modules import helpers as packages (grader/trusted/testmodules.py).
        config.addinivalue_line("markers", "part(id, weight=1): the exercise part this test scores for")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext[-2000:]}")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        cases: dict[tuple[str, str], int] = {}
        for item in items:
            record = self.records[item.nodeid] = self._record_for(item)
            if record.hidden and hasattr(item, "callspec"):
                # A parameter id is made of the values (test_x[4-9-3-3]): students read test names, and
                # a hidden test's parameters are hidden inputs. Its student-facing name numbers the case.
                key = (str(item.path), getattr(item, "originalname", item.name))
                cases[key] = cases.get(key, -1) + 1
                record.name = f"{key[1]}[{cases[key]}]"
        # Every public test runs before every hidden one (stable otherwise), so nothing a
        # submission saw in a hidden test can surface in a public test's output.
        items.sort(key=lambda item: self.records[item.nodeid].hidden)
        users = [i for i in items if "student" in getattr(i, "fixturenames", ())]
        self.session_order = list(dict.fromkeys(self.records[i.nodeid].exercise for i in users))
        self.last_test = {self.records[i.nodeid].exercise: i.nodeid for i in users}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        record = self.records.get(item.nodeid)
        for session in self.sessions.values():
            session.seen.clear()
            session.seen_overflow = False
            session.returned.clear()
        self._replies_at_start = self._replies()
        _CURRENT.update(hidden=bool(record and record.hidden), student=self.student_id,
                        secret=self.course.secret_seed)

    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        _CURRENT.clear()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        record = self.records.get(item.nodeid)
        token = checks.set_reveal(not (record and record.hidden))
        try:
            yield
        finally:
            checks.reset_reveal(token)

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
            record.status, record.fraction = TestStatus.PASSED, 1.0
        elif report.failed or report.skipped:
            record.status = TestStatus.FAILED
            credit = item.stash.get(CREDIT, None)
            record.fraction = credit.fraction if credit else 0.0
            record.message = self._message(call, record, report)
        session = self.sessions.get(record.exercise)
        if session is not None:
            if record.hidden:  # what a submission printed in a hidden test is for staff only
                record.staff_output += session.take_output()
            else:
                record.output += session.take_output()

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self._progress(nodeid, "start")

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self._progress(nodeid, "done")
        record = self.records.get(nodeid)
        if record is not None and self.last_test.get(record.exercise) == nodeid and record.exercise in self.sessions:
            self.sessions[record.exercise].close()   # its last test is done: free the sandbox now

    def _progress(self, nodeid: str, stage: str) -> None:
        """Tell PROGRESS (set by `grade EXID`) that a test starts or is done, so a long wait shows what runs."""
        record = self.records.get(nodeid)
        if PROGRESS is None or record is None:
            return
        order = list(self.records)
        try:
            PROGRESS(stage, record, order.index(nodeid) + 1, len(order))
        except Exception:  # noqa: BLE001 - a broken progress display must not fail the grading
            pass

    def pytest_sessionfinish(self) -> None:
        for session in [*self.sessions.values(), *self.upcoming.values()]:
            session.close()

    # -- fixtures -------------------------------------------------------------
    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> Student:
        record = self.records[request.node.nodeid]
        exercise = self.course.exercise(record.exercise)
        if exercise.id not in self.sessions:
            self.sessions[exercise.id] = self._session_for(exercise.id)
            self._prestart_after(exercise.id)
        session = self.sessions[exercise.id]
        for other in self.sessions.values():
            if other is not session:
                other.pause()   # what it left running must not take this test's CPU
        if record.hidden:
            session.begin_hidden()
        return Student(session, exercise)

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> np.random.Generator:
        """Inputs of this test: in hidden tests drawn from the course secret and the student id."""
        return hidden_rng(request.node.nodeid.split("::", 1)[-1])

    @pytest.fixture
    def credit(self, request: pytest.FixtureRequest) -> Credit:
        request.node.stash[CREDIT] = Credit()
        return request.node.stash[CREDIT]

    @pytest.fixture
    def grade_options(self) -> dict:
        return dict(self.test_options)

    # -- helpers ----------------------------------------------------------------
    def _session_for(self, exercise_id: str) -> StudentSession:
        """The session of an exercise, taking over the sandbox started ahead for it, if any."""
        return (self.upcoming.pop(exercise_id, None)
                or StudentSession(self.sandbox_config(self.course.exercise(exercise_id))))

    def _prestart_after(self, exercise_id: str) -> None:
        """Start the sandbox of the exercise that comes next in test order, so its start overlaps this one's tests.

        Each exercise still gets its own sandbox; at most one is started ahead,
        and it runs nothing of the submission until used.
        """
        order = self.session_order
        following = order[order.index(exercise_id) + 1] if exercise_id in order[:-1] else None
        if following is None or following in self.sessions or following in self.upcoming:
            return
        session = StudentSession(self.sandbox_config(self.course.exercise(following)))
        session.prestart()
        self.upcoming[following] = session

    def _replies(self) -> int:
        """Values received from sandboxes so far (did this test get anything from the student?)."""
        return sum(session.replies for session in self.sessions.values())

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
        elif (origin := _defined_elsewhere(item)):
            record.config_error = (f"test {item.name} is defined in {origin} and imported here: pytest would grade it "
                                   "twice (a public test imported into a hidden module scores hidden points); "
                                   "import helpers, never test functions or classes")
        return record

    def sandbox_config(self, exercise: Exercise) -> SandboxConfig:
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
            hidden_paths=tuple(str(p) for p in hidden_data) + self.hidden_paths + forbidden_package_dirs(course),
            call_timeout=exercise.call_timeout,
            import_timeout=course.import_timeout,
            memory_mb=course.memory_mb,
            output_cap=course.output_cap,
        )

    def _message(self, call: pytest.CallInfo, record: TestRecord, report: pytest.TestReport) -> str:
        """The student-facing message of a failed test (the full story goes to the staff fields).

        Blame: what the student's code did (raised, printed, returned, ran out of
        time) is the student's failure; so is an exception the test hit while
        using a value the student's code returned in this test (the reference
        passes every test, so such a value is what the test could not handle).
        "Not your fault" remains for defects of the test itself: an exception
        before any student value arrived, or one that can only be a bug in the
        test (NameError, ImportError, SyntaxError). Its traceback is kept in
        ``internal_error`` for staff.
        """
        if report.skipped:
            return MESSAGES["skipped"]
        exc = call.excinfo.value if call.excinfo else None
        if isinstance(exc, SandboxUnavailable):
            self.environment_error = str(exc)
            return MESSAGES["sandbox_unavailable"].format(detail=exc)
        if isinstance(exc, StudentError):
            record.cause = exc.cause  # reports show an import failure once, "not implemented" once per part
            if not record.hidden:
                return exc.student_message()
            record.staff_message = exc.student_message()
            return _hidden_student_message(exc)
        if isinstance(exc, AssertionError):
            mistake = getattr(exc, "mistake", None)
            if mistake is not None:
                record.mistake, record.mistake_name = mistake.key, mistake.name
            record.cause = str(getattr(exc, "cause", "") or "")
            text = str(exc)
            if not record.hidden:
                return text.split("\nassert ")[0] or MESSAGES["check_failed"]
            record.staff_message = text
            text = text.split("\nassert ")[0]
            if text.startswith("assert "):  # pytest's rewritten comparison shows the returned values
                text = ""
            if not text or any(session.seen_overflow for session in self.sessions.values()):
                return MESSAGES["check_failed"]  # (too much came back to cut it all out reliably)
            keep = record.mistake_name  # the test's own words for a known mistake stay readable
            return "\n".join(line if keep and keep in line else redact_hidden(line, self._produced())
                             for line in text.splitlines())
        record.internal_error = _internal_error(exc) if exc else report.longreprtext
        got_value = call.when == "call" and self._replies() > self._replies_at_start
        if exc is not None and got_value and not is_test_defect(exc, self._returned()):
            record.staff_message = f"{type(exc).__name__}: {exc}"
            if record.hidden:
                return MESSAGES["unusable_result_hidden"]
            return MESSAGES["unusable_result"].format(error=f"{type(exc).__name__}: {str(exc)[:300]}")
        self.test_errors.append(record.id)
        if isinstance(exc, AuthorError):
            record.staff_message = f"{type(exc).__name__}: {exc}"  # its text is for the author, in English
        if record.hidden:
            return MESSAGES["grader_defect_hidden"]
        if isinstance(exc, AuthorError):
            return MESSAGES["grader_defect"].format(error=MESSAGES["author_error"])
        return MESSAGES["grader_defect"].format(error=f"{type(exc).__name__}: {exc}")

    def _returned(self) -> list[Any]:
        """Values the sandboxes returned during the current test (what a test error may have choked on)."""
        return [value for session in self.sessions.values() for value in session.returned]

    def _produced(self) -> list[str]:
        """Strings the sandboxes sent during the current test."""
        return [text for session in self.sessions.values() for text in session.seen]


def _defined_elsewhere(item: pytest.Item) -> str:
    """The test module a collected test function was imported from ("" when it is the item's own).

    pytest collects every ``test_*`` name in a module's namespace, imported ones
    included: ``from exercises.tests.test_alpha import test_scale`` in a hidden
    module would run the public test again as a hidden one, with hidden points.
    A test made by a helper (a support module, a factory) is collected once and is fine.
    """
    function, module = getattr(item, "function", None), getattr(item, "module", None)
    origin = getattr(function, "__module__", None)
    if function is None or module is None or origin is None or origin == module.__name__:
        return ""
    source = getattr(sys.modules.get(origin), "__file__", None) or ""
    return str(origin) if Path(source).name.startswith("test_") else ""


def is_test_defect(exc: BaseException, returned: Iterable[Any] = ()) -> bool:
    """Whether ``exc`` (raised in the trusted process, not by a student call) is a bug of the test itself.

    Called only for exceptions raised after the submission returned a value in
    the test (before that, every exception is the test's). Such an exception
    is the student's ("the test could not use your result"), unless it can
    only come from the test's code: a NameError/ImportError/SyntaxError, an
    AuthorError (e.g. a driver reading an undefined name), an exception
    raised inside the checks API, a call that does not fit a function's
    signature, an attribute missing on a module, or a subscript of a
    module-level table of the test code whose key involves none of the
    ``returned`` values (what the sandboxes returned in this test, and their
    items). Which party is blamed changes the message and the staff count,
    not the points: the test fails either way.
    """
    if isinstance(exc, _GRADER_DEFECTS):
        return True
    if isinstance(exc, AttributeError) and isinstance(getattr(exc, "obj", None), types.ModuleType):
        return True
    if isinstance(exc, TypeError) and _SIGNATURE_ERROR.match(str(exc)):
        return True
    last = _last_frame(exc)
    if last is None:
        return False
    frame, lasti = last
    if str(Path(frame.f_code.co_filename).resolve()) == _CHECKS_FILE:
        return True
    if not isinstance(exc, (KeyError, IndexError)):
        return False
    try:
        key_names = _module_table_key_names(frame, lasti)
    except Exception:  # noqa: BLE001 - source gone or unreadable: no evidence against the value
        return False
    if key_names is None:
        return False
    student = _identities(returned)
    return not any(name in frame.f_locals and id(frame.f_locals[name]) in student for name in key_names)


def _identities(values: Iterable[Any], depth: int = 2, cap: int = 10_000) -> set[int]:
    """ids of ``values`` and of their items (lists, tuples, dict values) down to ``depth``, at most ``cap``."""
    seen: set[int] = set()
    layer = list(values)
    for _ in range(depth + 1):
        following = []
        for value in layer:
            if len(seen) >= cap:
                return seen
            seen.add(id(value))
            if type(value) in (list, tuple):
                following += list(value)
            elif type(value) is dict:
                following += list(value.values())
        layer = following
    return seen


def _last_frame(exc: BaseException) -> tuple[Any, int] | None:
    """The frame the exception was raised in and its instruction offset (None without a traceback)."""
    tb = exc.__traceback__
    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame, tb.tb_lasti


def _module_table_key_names(frame: Any, lasti: int) -> set[str] | None:
    """The names in the key of ``TABLE[key]`` if the failing instruction subscripts a module-level table.

    None when it does not, or when the expression calls anything (the call
    may have been into the student's code). The instruction's source span (Python 3.11
    positions) is parsed; the subscripted object's root name must be a global
    of the frame's module and not a local or argument (values a student
    returned live in locals). The caller looks up the key's names: a key
    computed from a returned value may be the student's wrong answer.
    """
    import ast
    import linecache

    positions = list(frame.f_code.co_positions())
    index = lasti // 2
    if index >= len(positions) or None in positions[index]:
        return None
    line, end_line, col, end_col = positions[index]
    lines = [linecache.getline(frame.f_code.co_filename, n) for n in range(line, end_line + 1)]
    if not lines or not lines[0]:
        return None
    lines[-1] = lines[-1][:end_col]
    lines[0] = lines[0][col:]
    try:
        node = ast.parse("".join(lines).strip(), mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(node, ast.Subscript):
        return None
    root = node.value
    while isinstance(root, (ast.Attribute, ast.Subscript)):
        root = root.value
    table = (isinstance(root, ast.Name) and root.id not in frame.f_locals and root.id in frame.f_globals
             and frame.f_code.co_name != "<module>")
    if not table or any(isinstance(n, ast.Call) for n in ast.walk(node)):
        return None  # a call in the key may be the student's own (SQUARES[len(student_object)])
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} - {root.id}


def _internal_error(exc: BaseException) -> str:
    """The traceback of an exception in test code, for staff, without pytest's and pluggy's own frames."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not any(part in f.filename for part in ("/_pytest/", "/pluggy/"))]
    return ("Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
            + "".join(traceback.format_exception_only(type(exc), exc)))


class BriefFailureReports:
    """Failed tests reported with their exception line only, for gradings (not for authors).

    Messages come from the exception itself (GradingPlugin._message); pytest's own
    failure rendering re-parses every source file on the traceback, a cost per
    failed test that nobody reads. Skips keep pytest's report (they are cheap).
    """

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport | None:
        excinfo = call.excinfo
        if excinfo is None or excinfo.errisinstance(pytest.skip.Exception):
            return None
        brief = "".join(traceback.format_exception_only(excinfo.type, excinfo.value)).strip()
        return pytest.TestReport(item.nodeid, item.location, dict.fromkeys(item.keywords, 1), "failed", brief,
                                 call.when, duration=call.duration, start=call.start, stop=call.stop,
                                 user_properties=item.user_properties)


def forbidden_package_dirs(course: Course) -> tuple[str, ...]:
    """Install folders of packages the sandbox must not load, found without importing them.

    Every sandbox start asks, and find_spec searches all of sys.path each time; the answer is
    cached per (packages, sys.path), and runner.warm_tests fills the cache in the warm parent of a
    batch, so forked gradings inherit it.
    """
    return _forbidden_dirs(tuple(course.forbidden_packages), tuple(sys.path))


@functools.lru_cache(maxsize=16)
def _forbidden_dirs(names: tuple[str, ...], search_path: tuple[str, ...]) -> tuple[str, ...]:
    """forbidden_package_dirs, for ``names`` as found on ``search_path`` (the key: sys.path when asked)."""
    import importlib.util

    dirs = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec and spec.submodule_search_locations:
            dirs += list(spec.submodule_search_locations)
    return tuple(dirs)

