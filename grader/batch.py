"""`grade batch`: grade every submission of a course, resumably, in parallel.

The parent imports torch, pytest and the grader once and starts the sandbox
template; each submission is graded in a child forked from it (cheap, and
every submission starts from the same clean state), at most `jobs` at once.
A child writes `OUT/STUDENT/grading.json` atomically (temp file + rename)
and exits; that file is the durable record. A rerun skips every student
whose record matches the submission's fingerprint and the test suite, so a
killed batch loses nothing and grades nobody twice. All reports are rendered
at the end from the records alone.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from grader import __version__, results, runner, spawned
from grader.course import Course

RECORD = "grading.json"


@dataclass
class BatchOptions:
    layout: str = "dir"
    jobs: int = 0                      # 0: number of cores
    only: tuple[str, ...] = ()
    lms_lang: str = "en"
    manual_csv: Path | None = None
    options: dict = field(default_factory=dict)
    hidden_visibility: str = "after_published"
    timeout: float = 1800.0            # per submission, last resort behind per-call limits
    assignment_title: str = ""
    assignment_id: str | None = None


def suite_digest(course: Course, ids: list[str]) -> str:
    """Changes whenever anything that decides a grade changes (tests, metadata, engine version)."""
    h = hashlib.sha256(f"{__version__}|{','.join(ids)}".encode())
    h.update((course.root / "course.toml").read_bytes())
    for ex_id in ids:
        for path in course.test_files(ex_id, False) + course.test_files(ex_id, True):
            h.update(path.name.encode() + path.read_bytes())
    for folder in (course.public_tests_dir / "support", course.hidden_tests_dir):
        for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
            h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def load_record(out: Path, student: str) -> dict | None:
    path = out / student / RECORD
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_record(out: Path, student: str, result: dict) -> None:
    folder = out / student
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{RECORD}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(result, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / RECORD)


def run(course: Course, source: Path, out: Path, opts: BatchOptions,
        progress: Callable[[int, int, dict], None] | None = None) -> dict:
    """Grade ``source`` into ``out``; return counts {'total','graded','errors','skipped'}."""
    from grader import layouts

    out = Path(out).resolve()
    source = Path(source).resolve()
    ids = list(opts.only) or [e.id for e in course.exercises]
    for ex_id in ids:
        course.exercise(ex_id)
    expected = {f for ex_id in ids for f in course.exercise(ex_id).files + course.exercise(ex_id).extra_files}
    out.mkdir(parents=True, exist_ok=True)
    subs = layouts.read_submissions(source, opts.layout, out / ".work", expected)
    digest = suite_digest(course, ids)
    todo, skipped = [], 0
    for sub in subs:
        record = load_record(out, sub.student)
        if record and record.get("batch", {}).get("key") == _key(sub, digest):
            skipped += 1
        else:
            todo.append(sub)
    mask = tuple(p for p in (str(out), str(source) if source.is_dir() else _zip_folder(source, course))
                 if p)
    counts = {"total": len(subs), "graded": 0, "errors": 0, "skipped": skipped}
    if todo and spawned.fork_available():
        runner.prepare_trusted()
        runner.warm_tests(course, ids)
        _grade_all(course, todo, ids, out, opts, digest, mask, counts, progress)
    elif todo:
        _grade_all_spawned(course, todo, ids, out, opts, digest, mask, counts, progress)
    finish(course, subs, ids, out, opts)
    _kill_strays()
    return counts


def _key(sub, digest: str) -> str:
    return hashlib.sha256(f"{sub.fingerprint}|{sub.error}|{digest}".encode()).hexdigest()


def _zip_folder(source: Path, course: Course) -> str:
    """Hide the folder of a submissions zip from sandboxes, unless it holds the course itself."""
    folder = source.parent
    if folder == course.root or folder in course.root.parents:
        return ""
    return str(folder)


def _grade_all(course: Course, todo: list, ids: list[str], out: Path, opts: BatchOptions, digest: str,
               mask: tuple[str, ...], counts: dict, progress: Callable | None) -> None:
    jobs = opts.jobs or os.cpu_count() or 1
    running: dict[int, tuple] = {}
    queue = list(todo)
    done = 0
    while queue or running:
        while queue and len(running) < jobs:
            sub = queue.pop(0)
            running[_fork_one(course, sub, ids, out, opts, digest, mask)] = (sub, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            _enforce_timeouts(running, opts.timeout)
            time.sleep(0.02)
            continue
        if pid not in running:
            continue
        sub, _ = running.pop(pid)
        _account(course, sub, ids, out, digest, counts, timed_out=os.WIFSIGNALED(status))
        done += 1
        if progress:
            progress(done, len(todo), counts)


def _account(course: Course, sub, ids: list[str], out: Path, digest: str, counts: dict, timed_out: bool) -> None:
    """Count a graded submission; write an error row if its grading left no valid record."""
    record = load_record(out, sub.student)
    if record is None or record.get("batch", {}).get("key") != _key(sub, digest):
        why = ("grading took longer than the time limit" if timed_out
               else "the grader failed on this submission (see batch.log)")
        result = results.error_result(course, ids, why, sub.student)
        result["batch"] = {"key": _key(sub, digest)}
        write_record(out, sub.student, result)
    record = load_record(out, sub.student) or {}
    counts["errors" if str(record.get("status", "")).startswith("error") else "graded"] += 1


def _fork_one(course: Course, sub, ids: list[str], out: Path, opts: BatchOptions, digest: str,
              mask: tuple[str, ...]) -> int:
    pid = os.fork()
    if pid:
        return pid
    os._exit(0 if _grade_one(course, sub, ids, out, opts, digest, mask) else 1)


def _grade_one(course: Course, sub, ids: list[str], out: Path, opts: BatchOptions, digest: str,
               mask: tuple[str, ...]) -> bool:
    """Grade one submission and write its record; False (and a batch.log entry) if the grader failed."""
    try:
        if sub.error:
            result = results.error_result(course, ids, sub.error, sub.student)
        else:
            result = runner._grade_here(sub.files_dir, ids, "all", course, opts.options, sub.student, mask)
        result["name"] = sub.name
        result["lms"] = sub.lms
        result["batch"] = {"key": _key(sub, digest), "fingerprint": sub.fingerprint}
        write_record(out, sub.student, result)
        return True
    except BaseException:  # noqa: BLE001 - logged for staff, the caller writes an error row
        with open(out / "batch.log", "a", encoding="utf-8") as log:
            log.write(f"--- {sub.student}\n{traceback.format_exc()}\n")
        return False


def _grade_all_spawned(course: Course, todo: list, ids: list[str], out: Path, opts: BatchOptions, digest: str,
                       mask: tuple[str, ...], counts: dict, progress: Callable | None) -> None:
    """Without fork: `jobs` spawned worker processes, each warmed once, grade the submissions in turn.

    Same grading code as the forked path; what differs is that one worker
    grades several submissions in the same process (like `grade` in-process)
    and the per-submission time limit is not enforced from outside (the
    per-call limits still are).
    """
    import concurrent.futures
    import multiprocessing

    jobs = opts.jobs or os.cpu_count() or 1
    context = multiprocessing.get_context("spawn")
    done = 0
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_warm_worker,
                                                initargs=(course, ids)) as pool:
        futures = {pool.submit(_grade_one, course, sub, ids, out, opts, digest, mask): sub for sub in todo}
        for future in concurrent.futures.as_completed(futures):
            try:
                future.result()
            except Exception:  # noqa: BLE001 - a worker died: _account writes the error row
                pass
            _account(course, futures[future], ids, out, digest, counts, timed_out=False)
            done += 1
            if progress:
                progress(done, len(todo), counts)


def _warm_worker(course: Course, ids: list[str]) -> None:
    runner.prepare_trusted()
    runner.warm_tests(course, ids)


def _enforce_timeouts(running: dict, limit: float) -> None:
    now = time.monotonic()
    for pid, (_, started) in list(running.items()):
        if now - started > limit:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def finish(course: Course, subs: list, ids: list[str], out: Path, opts: BatchOptions) -> list[dict]:
    """Render every report from the records (after merging manual points)."""
    from grader.reports import canvas, feedback, gradescope, gradescsv, manual, moodle, summary

    records = []
    for sub in subs:
        record = load_record(out, sub.student)
        if record is None:
            record = results.error_result(course, ids, "not graded (the batch was interrupted)", sub.student)
        records.append(record)
    if opts.manual_csv:
        records = manual.merge(records, Path(opts.manual_csv))
    for record, sub in zip(records, subs):
        folder = out / sub.student
        folder.mkdir(parents=True, exist_ok=True)
        feedback.write(record, folder)
        gradescope.write(record, folder / "results.json", hidden_visibility=opts.hidden_visibility)
    gradescsv.write(records, out / "grades.csv", ids)
    summary.write(records, out / "summary.html")
    title = opts.assignment_title or course.title
    if opts.layout == "moodle":
        moodle.write_worksheet(records, subs, out / "moodle_grading_worksheet.csv", lang=opts.lms_lang)
        moodle.write_feedback_zip(records, subs, out, out / "moodle_feedback_files.zip")
    if opts.layout == "canvas":
        canvas.write(records, subs, out / "canvas_gradebook.csv", title, opts.assignment_id)
    return records


def _kill_strays() -> None:
    """Kill sandbox processes this batch's zygote started that are still alive (Linux, as root).

    Only processes carrying this grader's zygote token are touched: other
    graders on the same machine keep their sandboxes.
    """
    from grader import isolation, zygote

    token = zygote.get().token
    if not token or not sys.platform.startswith("linux") or os.geteuid() != 0:
        return
    needle = f"GRADE_ZYGOTE_TOKEN={token}".encode()
    uids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if needle not in fh.read().split(b"\0"):
                    continue
            uid = os.stat(f"/proc/{entry}").st_uid
        except OSError:
            continue
        if uid >= isolation.UID_BASE:
            uids.add(uid)
    for uid in uids:
        isolation.kill_uid(uid)
