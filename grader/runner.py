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
from pathlib import Path
from typing import Iterable

from grader import course as course_mod
from grader import results

SUITES = ("public", "all")


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
    from grader import plugin, spawned, zygote  # noqa: F401

    if spawned.fork_available():  # without fork there is no template to start
        zygote.get().ensure_running()


def warm_tests(course: course_mod.Course, ids: Iterable[str] | None = None) -> None:
    """Import every test module once, with pytest's assertion rewriting.

    Forked gradings inherit the imported modules, so each submission skips
    re-reading and rewriting them (most of a grading's fixed cost).
    """
    import pytest

    from grader.plugin import GradingPlugin

    ids = list(ids) if ids else [e.id for e in course.exercises]
    files = [f for i in ids for hidden in (False, True) for f in course.test_files(i, hidden)]
    if not files:
        return
    with tempfile.TemporaryDirectory() as tmp:
        argv = _pytest_args(course, Path(tmp), files) + ["--collect-only"]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            pytest.main(argv, plugins=[GradingPlugin(course, Path(tmp))])
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
            # at the end of every session (~0.5 s of `grade ex41`) for its report
            "-p", "no:hypothesispytest",
            "-W", "ignore::pytest.PytestAssertRewriteWarning", *[str(f) for f in files]]


def file_hashes(submission_dir: Path, names: Iterable[str]) -> dict[str, str]:
    out = {}
    for name in names:
        path = Path(submission_dir) / name
        if path.is_file():
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def grade(submission_dir: Path, exercises: Iterable[str] | None = None, suite: str = "public",
          course: course_mod.Course | None = None, options: dict | None = None, student: str | None = None,
          mask: tuple[str, ...] = (), fork: bool | None = None) -> dict:
    """Grade ``submission_dir`` on ``exercises`` (default: all) and return the result document."""
    course = course or course_mod.load()
    ids = list(exercises) if exercises else [e.id for e in course.exercises]
    for ex_id in ids:
        course.exercise(ex_id)  # KeyError for unknown ids, before any work
    if suite not in SUITES:
        raise ValueError(f"suite must be one of {SUITES}")
    args = (Path(submission_dir).resolve(), ids, suite, course, options or {}, student, tuple(mask))
    if fork is None:
        from grader import spawned

        fork = spawned.fork_available()
    if not fork:
        return _grade_here(*args)
    return _grade_forked(args)


def _grade_forked(args: tuple) -> dict:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            payload = {"result": _grade_here(*args)}
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
    """Drop test modules another course (warmed earlier in this process) left in sys.modules.

    Test modules are imported under their base names (test_ex41, support...),
    so a copy of a course graded in the same process would otherwise collide.
    """
    mine = tuple(str(d) + os.sep for d in (course.public_tests_dir, course.hidden_tests_dir))
    markers = (f"{os.sep}exercises{os.sep}tests{os.sep}", f"{os.sep}autograder_tests{os.sep}")
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if any(m in path for m in markers) and not path.startswith(mine):
            del sys.modules[name]


def _grade_here(submission_dir: Path, ids: list[str], suite: str, course: course_mod.Course, options: dict,
                student: str | None, mask: tuple[str, ...]) -> dict:
    import pytest

    from grader.plugin import GradingPlugin

    _forget_other_courses(course)
    test_files = []
    for ex_id in ids:
        test_files += course.test_files(ex_id, hidden=False)
        if suite == "all":
            test_files += course.test_files(ex_id, hidden=True)
    plugin = GradingPlugin(course, submission_dir, options=options, mask=mask, student=student)
    status = {}
    for ex_id in ids:
        ex = course.exercise(ex_id)
        missing = [f for f in ex.files if not (submission_dir / f).is_file()]
        if ex.files and len(missing) == len(ex.files):
            status[ex_id] = f"missing: {', '.join(missing)} not submitted"
    if test_files:
        with tempfile.TemporaryDirectory() as tmp:
            argv = _pytest_args(course, Path(tmp), test_files)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                code = pytest.main(argv, plugins=[plugin])
        if plugin.collection_errors or code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
            raise GradingError("the tests could not be loaded:\n" + "\n".join(plugin.collection_errors))
        if plugin.environment_error:
            raise GradingError(plugin.environment_error)
    records = list(plugin.records.values())
    bad = [r for r in records if r.config_error]
    if bad:
        raise GradingError("tests are not gradable:\n" + "\n".join(f"{r.id}: {r.config_error}" for r in bad))
    names = [f for ex_id in ids for f in course.exercise(ex_id).files + course.exercise(ex_id).extra_files]
    isolation = next((s.isolation for s in plugin.sessions.values() if s.isolation), {})
    return results.build(course, ids, records, suite, student=student, files=file_hashes(submission_dir, names),
                         isolation=isolation, exercise_status=status)
