"""Grade one submission: run the exercise tests under the plugin, build the result.

The same function serves `grade ex41` on a laptop (public tests) and every
submission of `grade batch` or the Gradescope autograder (public + hidden):
only the suite differs.

Each grading runs pytest in a forked child of the (warm) trusted process
where fork exists, so every submission starts from the same clean state and
nothing a test run leaves behind can leak into the next; the child sends the
result document back as JSON. Without fork it runs in-process.
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import json
import os
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from grader import course as course_mod
from grader.trusted import results
from grader.trusted.results import SUITES, Outcome, Status, Suite


class GradingError(Exception):
    """The grader itself failed (not the submission): tests broken, environment missing."""


def prepare_trusted() -> None:
    """Import the expensive trusted-side modules once, fork-safely.

    torch's intra-op thread pool can hang a forked child if the parent used
    it, so threads are set to 1 before any torch computation.
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import hypothesis  # noqa: F401 - course tests may use it; import once, not per grading
    import pytest  # noqa: F401
    import torch

    torch.set_num_threads(1)
    from grader.trusted import plugin
    from grader.sandbox import spawn
    from grader.sandbox import zygote # noqa: F401

    if spawn.fork_available():  # without fork there is no template to start
        zygote.get().ensure_running()


def warm_tests(course: course_mod.Course, ids: Iterable[str] | None = None) -> None:
    """Import every test module once, with pytest's assertion rewriting.

    Forked gradings inherit the imported modules, so each submission skips
    re-reading and rewriting them (most of a grading's fixed cost).
    """
    import pytest

    from grader.trusted import remote, testmodules
    from grader.trusted.plugin import BriefFailureReports, GradingPlugin, forbidden_package_dirs

    files = course.suite_test_files(course.exercise_ids(ids or ()), hidden=True)
    if not files:
        return
    _forget_other_courses(course)
    with tempfile.TemporaryDirectory() as tmp:
        argv = _pytest_args(course, Path(tmp), files) + ["--collect-only"]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            pytest.main(argv, plugins=[GradingPlugin(course, Path(tmp)), BriefFailureReports()])
    forbidden_package_dirs(course)  # cached: every sandbox of every forked grading needs it
    remote.warm_drivers(module for name, module in list(sys.modules.items())
                        if name.split(".")[0] in testmodules.PACKAGES)   # cached too, for every test's drivers
    freeze_heap()


def freeze_heap() -> None:
    """Move everything imported so far out of the garbage collector's reach.

    A forked grading shares the parent's memory copy-on-write; a full GC pass
    in the child writes to every object's header and so copies every page
    (hundreds of MB with torch). Frozen objects are never visited.
    """
    gc.collect()
    gc.freeze()


def _pytest_args(course: course_mod.Course, tmp: Path, files: list[Path]) -> list[str]:
    ini = tmp / "pytest.ini"
    ini.write_text("[pytest]\n", encoding="utf-8")
    # --confcutdir: conftest.py files above the course (e.g. a project's own test suite) are not the course's
    return ["-c", str(ini), "--rootdir", str(course.root), "--confcutdir", str(course.root),
            "-p", "no:cacheprovider", "-q",
            "-p", "no:randomly", "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:logging",
            # hypothesis itself works without its pytest plugin, which imports all of hypothesis
            # at the end of every session for its report (a large part of `grade ex41`)
            "-p", "no:hypothesispytest",
            # report and debugging plugins a grading never uses: each costs set-up per session and
            # hook calls per test (benchmarks/per_exercise.py measures them)
            *[arg for name in ("doctest", "junitxml", "pastebin", "stepwise", "setuponly", "setupplan",
                               "faulthandler", "debugging", "timeout", "nn_grader", "platformdirs")
              for arg in ("-p", f"no:{name}")],
            "-W", "ignore::pytest.PytestAssertRewriteWarning", *[str(f) for f in files]]


def file_hashes(submission_dir: Path, names: Iterable[str]) -> dict[str, str]:
    out = {}
    for name in names:
        path = Path(submission_dir) / name
        if path.is_file():
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@dataclass(frozen=True)
class GradingRequest:
    """Everything one grading needs besides the course: what to grade, with which tests, as whom.

    ``hidden_paths`` are folders the sandbox must not see (the batch's output
    and the other submissions); ``student_id`` seeds the per-student hidden
    inputs; ``test_options`` reach the tests as the ``grade_options`` fixture.
    """

    submission_dir: Path
    exercise_ids: tuple[str, ...]
    suite: Suite = "public"
    test_options: Mapping[str, str] = field(default_factory=dict)
    student_id: str | None = None
    hidden_paths: tuple[str, ...] = ()

    @classmethod
    def for_course(cls, course: course_mod.Course, submission_dir: Path, exercise_ids: Iterable[str] | None = None,
                   suite: Suite = "public", **fields: Any) -> GradingRequest:
        """A checked request: unknown exercise ids and suites fail here, before any work."""
        ids = tuple(course.exercise_ids(exercise_ids or ()))  # KeyError for unknown ids
        if suite not in SUITES:
            raise ValueError(f"suite must be one of {SUITES}")
        fields["test_options"] = dict(fields.get("test_options") or {})
        fields["hidden_paths"] = tuple(fields.get("hidden_paths") or ())
        return cls(Path(submission_dir).resolve(), ids, suite, **fields)


def grade(submission_dir: Path, exercises: Iterable[str] | None = None, suite: Suite = "public",
          course: course_mod.Course | None = None, fork: bool | None = None, **request_fields: Any) -> dict:
    """Grade ``submission_dir`` on ``exercises`` (default: all) and return the result document.

    The short form of :func:`grade_request` for scripts and tests;
    ``request_fields`` are those of :class:`GradingRequest`.
    """
    course = course or course_mod.load()
    return grade_request(course, GradingRequest.for_course(course, submission_dir, exercises, suite,
                                                           **request_fields), fork=fork)


def grade_request(course: course_mod.Course, request: GradingRequest, fork: bool | None = None) -> dict:
    """Grade ``request`` in a forked child where fork exists (clean state per grading), else here."""
    if fork is None:
        from grader.sandbox import spawn

        fork = spawn.fork_available()
    return grade_in_fork(course, request) if fork else grade_in_process(course, request)


def grade_in_fork(course: course_mod.Course, request: GradingRequest) -> dict:
    """:func:`grade_in_process` in a forked child; the document comes back as JSON through a pipe."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            payload = {"result": grade_in_process(course, request)}
        except BaseException:  # noqa: BLE001 - reported to the parent
            payload = {"grader_error": traceback.format_exc()}
        with os.fdopen(write_fd, "wb") as fh:
            fh.write(json.dumps(payload).encode())
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        raise GradingError(f"the grading process ended without a result (wait status {status})")
    payload = json.loads(data)
    if "grader_error" in payload:
        raise GradingError(payload["grader_error"])
    return payload["result"]


def _forget_other_courses(course: course_mod.Course) -> None:
    """Make this course's test packages the importable ones (another course warmed here is stashed).

    Test modules are imported under package names every course shares
    (exercises.tests.test_ex41, ...); see grader/trusted/testmodules.py.
    """
    from grader.trusted import testmodules

    testmodules.use_course(course.root)


def grade_in_process(course: course_mod.Course, request: GradingRequest) -> dict:
    """Run the request's tests under the grading plugin in this process; the result document."""
    import pytest

    from grader.trusted.plugin import BriefFailureReports, GradingPlugin

    _forget_other_courses(course)
    submission_dir, ids, suite = request.submission_dir, list(request.exercise_ids), request.suite
    test_files = course.suite_test_files(ids, hidden=suite == "all")
    plugin = GradingPlugin(course, submission_dir, test_options=request.test_options,
                          hidden_paths=request.hidden_paths, student_id=request.student_id)
    status = {}
    for ex_id in ids:
        ex = course.exercise(ex_id)
        missing = [f for f in ex.files if not (submission_dir / f).is_file()]
        if ex.files and len(missing) == len(ex.files):
            status[ex_id] = Outcome(Status.MISSING, f"{', '.join(missing)} not submitted")
    if test_files:
        with tempfile.TemporaryDirectory() as tmp:
            argv = _pytest_args(course, Path(tmp), test_files)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                code = pytest.main(argv, plugins=[plugin, BriefFailureReports()])
        if plugin.collection_errors or code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
            raise GradingError("the tests could not be loaded:\n" + "\n".join(plugin.collection_errors))
        if plugin.environment_error:
            raise GradingError(plugin.environment_error)
    records = list(plugin.records.values())
    bad = [r for r in records if r.config_error]
    if bad:
        raise GradingError("tests are not gradable:\n" + "\n".join(f"{r.id}: {r.config_error}" for r in bad))
    names = course.submission_files(ids)
    isolation = next((s.isolation for s in plugin.sessions.values() if s.isolation), {})
    return results.build(course, ids, records, suite, student_id=request.student_id,
                         files=file_hashes(submission_dir, names),
                         isolation=isolation, exercise_status=status)
