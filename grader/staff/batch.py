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
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from grader import __version__
from grader.trusted import results
from grader.trusted import runner
from grader.sandbox import spawn
from grader.course import Course

RECORD = "grading.json"


@dataclass
class BatchOptions:
    layout: str = "dir"
    jobs: int = 0                      # 0: number of cores
    only: tuple[str, ...] = ()
    lms_lang: str = "en"
    manual_csv: Path | None = None
    test_options: dict = field(default_factory=dict)   # the tests' `grade_options` (--option KEY=VALUE)
    hidden_visibility: str = "after_published"
    timeout: float = 1800.0            # per submission, last resort behind per-call limits
    assignment_title: str = ""
    assignment_id: str | None = None
    shard: str = ""                    # "I/N": grade only shard I of N, no class reports (grade merge)


def suite_digest(course: Course, ids: list[str]) -> str:
    """Changes whenever anything that decides a grade changes: the engine version, course.toml, and
    every file of exercises/ and autograder_tests/ but the students' own (tests, support code, the
    course framework such as autodiff/ or gridworld.py, data the tests read from there)."""
    h = hashlib.sha256(f"{__version__}|{','.join(ids)}".encode())
    h.update((course.root / "course.toml").read_bytes())
    students = {Path(f).as_posix() for ex in course.exercises for f in ex.files + ex.extra_files}
    for folder in (course.exercises_dir, course.hidden_tests_dir):
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            rel = path.relative_to(folder).as_posix()
            if folder == course.exercises_dir and (rel in students or rel.split("/")[0] in ("notebooks", "tasks")):
                continue
            h.update(f"{folder.name}/{rel}".encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def load_record(out: Path, student_id: str) -> dict | None:
    """The student's grading.json, or None when there is none (or it is unreadable)."""
    path = out / student_id / RECORD
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def write_record(out: Path, student_id: str, result: dict) -> None:
    """Write grading.json atomically (0600, like every file of OUT). Any text can be written: lone
    surrogates (from printed output or file names) are stored escaped, ``\\udc80``, instead of failing."""
    from grader.staff.reports.files import write_bytes_atomic

    data = json.dumps(result, ensure_ascii=False).encode("utf-8", "backslashreplace")
    write_bytes_atomic(out / student_id / RECORD, data)


def _log(out: Path, text: str) -> None:
    """Append to OUT/batch.log (staff only); never fails on odd text."""
    with open(out / "batch.log", "a", encoding="utf-8", errors="backslashreplace") as log:
        log.write(text if text.endswith("\n") else text + "\n")


def run(course: Course, source: Path, out: Path, opts: BatchOptions,
        progress: Callable[[int, int, dict], None] | None = None) -> dict:
    """Grade ``source`` into ``out``; return counts {'total','graded','errors','skipped'}."""
    return BatchJob(course, Path(source).resolve(), Path(out).resolve(), opts, progress).run()


class BatchJob:
    """One `grade batch` run: the course, the submissions, where the records go, and the counts.

    One method per step: :meth:`run` reads the submissions, skips those whose
    record is current, grades the rest (forked children, or spawned workers
    where fork is missing) and renders the reports (:class:`ReportWriter`).
    A job is picklable without its progress callback, so spawned workers get
    the same object and grade with the same code.
    """

    def __init__(self, course: Course, source: Path, out: Path, opts: BatchOptions,
                 progress: Callable[[int, int, dict], None] | None = None) -> None:
        self.course, self.source, self.out, self.opts = course, source, out, opts
        self.progress = progress
        self.exercise_ids = course.exercise_ids(opts.only)
        self.digest = suite_digest(course, self.exercise_ids)
        # The sandbox sees neither the batch's output nor the other submissions.
        self.hidden_paths = tuple(p for p in (str(out), str(source) if source.is_dir() else _zip_folder(source, course))
                                  if p)
        self.counts = {"total": 0, "graded": 0, "errors": 0, "skipped": 0}
        self.tmp_root: Path | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "progress": None}

    def run(self) -> dict:
        if self.opts.manual_csv:  # a malformed file is found now, not after hours of grading
            from grader.staff.reports import manual

            manual.check_file(Path(self.opts.manual_csv))
        self.out.mkdir(parents=True, mode=0o700, exist_ok=True)
        everyone = self.read_submissions()
        subs = _my_shard(everyone, self.opts.shard) if self.opts.shard else everyone
        todo = self.pending(subs)
        self.counts.update(total=len(subs), skipped=len(subs) - len(todo))
        self.tmp_root = _private_tmp_root()
        try:
            if todo and spawn.fork_available():
                runner.prepare_trusted()
                runner.warm_tests(self.course, self.exercise_ids)
                self.grade_forked(todo)
            elif todo:
                self.grade_spawned(todo)
            if self.opts.shard:
                from grader.staff import merge

                merge.write_manifest(self.out, self.opts.shard, [s.student_id for s in everyone],
                                     [s.student_id for s in subs], self.exercise_ids, self.digest, self.opts.layout)
            else:
                write_reports(self.course, subs, self.exercise_ids, self.out, self.opts)
            _kill_strays()
        finally:
            shutil.rmtree(self.tmp_root, ignore_errors=True)
        return self.counts

    def read_submissions(self) -> list:
        """Every student's Submission; intake reasons are in the course's language (students read them)."""
        from grader import i18n
        from grader.staff import layouts

        i18n.set_language(self.course.language)
        expected = set(self.course.submission_files(self.exercise_ids))
        return layouts.read_submissions(self.source, self.opts.layout, self.out / ".work", expected)

    def pending(self, subs: list) -> list:
        """The submissions without a current record (a rerun grades nobody twice)."""
        return [sub for sub in subs
                if ((load_record(self.out, sub.student_id) or {}).get("batch") or {}).get("key") != self.key(sub)]

    def key(self, sub) -> str:
        """What a record must carry to count as current: submission, intake error and tests."""
        return _key(sub, self.digest)

    def request(self, sub) -> runner.GradingRequest:
        return runner.GradingRequest.for_course(self.course, sub.files_dir, self.exercise_ids, "all",
                                                test_options=self.opts.test_options, student_id=sub.student_id,
                                                hidden_paths=self.hidden_paths)

    # -- grading -------------------------------------------------------------------------

    def grade_forked(self, todo: list) -> None:
        """At most `jobs` forked children of this warm process at once, each grading one submission."""
        jobs = self.opts.jobs or os.cpu_count() or 1
        running: dict[int, tuple] = {}
        queue = list(todo)
        done = 0
        while queue or running:
            while queue and len(running) < jobs:
                sub = queue.pop(0)
                private = _private_tmp(self.tmp_root)
                running[self.fork_one(sub, private)] = (sub, time.monotonic(), private)
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                _enforce_timeouts(running, self.opts.timeout)
                time.sleep(0.02)
                continue
            if pid not in running:
                continue
            sub, _, private = running.pop(pid)
            shutil.rmtree(private, ignore_errors=True)
            self.account(sub, timed_out=os.WIFSIGNALED(status))
            done += 1
            if self.progress:
                self.progress(done, len(todo), self.counts)

    def fork_one(self, sub, private: Path) -> int:
        """Grade ``sub`` in a forked child whose temporary files all live in ``private``."""
        pid = os.fork()
        if pid:
            return pid
        code = 1
        try:                                  # the child must never return into the parent's loop
            _use_tmp(private)
            code = 0 if self.grade_one(sub) else 1
        finally:
            os._exit(code)

    def grade_one(self, sub) -> bool:
        """Grade one submission and write its record; False (and a batch.log entry) if the grader failed."""
        try:
            if sub.error:
                result = results.error_result(self.course, self.exercise_ids, sub.error, sub.student_id)
            else:
                result = runner.grade_in_process(self.course, self.request(sub))
            result["name"] = sub.name
            result["lms"] = sub.lms
            result["batch"] = {"key": self.key(sub), "fingerprint": sub.fingerprint}
            write_record(self.out, sub.student_id, result)
            _log_internal_errors(self.out, sub.student_id, result)
            return True
        except BaseException:  # noqa: BLE001 - logged for staff, the caller writes an error row
            _log(self.out, f"--- {sub.student_id}\n{traceback.format_exc()}")
            return False

    def account(self, sub, timed_out: bool) -> None:
        """Count a graded submission; write an error row if its grading left no valid record."""
        try:
            record = load_record(self.out, sub.student_id)
            if record is None or (record.get("batch") or {}).get("key") != self.key(sub):
                why = ("grading took longer than the time limit" if timed_out
                       else "the grader failed on this submission (see batch.log)")
                result = results.error_result(self.course, self.exercise_ids, why, sub.student_id)
                result["batch"] = {"key": self.key(sub)}
                write_record(self.out, sub.student_id, result)
            record = load_record(self.out, sub.student_id) or {}
        except Exception:  # noqa: BLE001 - the reports still give this student an error row
            _log(self.out, f"--- {sub.student_id}: recording the result failed\n{traceback.format_exc()}")
            record = {"status": results.Outcome(results.Status.ERROR, "recording the result failed").text()}
        self.counts["errors" if results.is_error(record) else "graded"] += 1

    def grade_spawned(self, todo: list) -> None:
        """Without fork: `jobs` spawned worker processes, each warmed once, grade the submissions in turn.

        Same grading code as the forked path; what differs is that one worker
        grades several submissions in the same process (like `grade` in-process)
        and the per-submission time limit is not enforced from outside (the
        per-call limits still are).
        """
        import concurrent.futures
        import multiprocessing

        jobs = self.opts.jobs or os.cpu_count() or 1
        context = multiprocessing.get_context("spawn")
        done = 0
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_warm_worker,
                                                    initargs=(self.course, self.exercise_ids, self.tmp_root)) as pool:
            # The workers start (on submit) with Ctrl-C ignored, a disposition exec keeps: the terminal's
            # SIGINT reaches the whole process group, and only this parent handles it (it stops the workers).
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
            try:
                futures = {pool.submit(self.grade_one, sub): sub for sub in todo}
            finally:
                if previous is not None:
                    signal.signal(signal.SIGINT, previous)
            for future in concurrent.futures.as_completed(futures):
                try:
                    future.result()
                except Exception:  # noqa: BLE001 - a worker died: account() writes the error row
                    pass
                self.account(futures[future], timed_out=False)
                done += 1
                if self.progress:
                    self.progress(done, len(todo), self.counts)


def _my_shard(subs: list, spec: str) -> list:
    """The submissions shard ``spec`` ("I/N") grades (grader/staff/shard.py: balanced by size)."""
    from grader.staff import shard

    target = shard.parse(spec)
    sizes = {s.student_id: _size(s.files_dir) for s in subs}
    mine = shard.mine(sizes, target)
    return [s for s in subs if s.student_id in mine]


def _size(folder: Path) -> int:
    try:
        return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
    except OSError:
        return 0


def _private_tmp_root() -> Path:
    """A folder of this batch in the temp dir; every grading puts its temporary files below it.

    A grading killed at the time limit cannot clean up after itself (its
    ``grade-sbx-*`` copies of the student's files, pytest's folder): the
    batch removes the grading's folder when the grading has ended, and the
    whole root at the end. Mode 0711: a sandbox's uid may pass through to its
    own working directory, but not list the others. Named like the run's
    sandbox folders, so Ctrl-C or SIGTERM (which end the batch without its
    ``finally``) remove it too (sandbox/isolation.install_interrupt_handlers).
    """
    from grader.sandbox import isolation

    root = Path(tempfile.mkdtemp(prefix=isolation.workdir_prefix() + "batch-"))
    root.chmod(0o711)
    return root


def _private_tmp(tmp_root: Path) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="g-", dir=tmp_root))
    folder.chmod(0o711)
    return folder


def _use_tmp(folder: Path) -> None:
    """Make ``folder`` this process's temp dir (tempfile and child processes)."""
    tempfile.tempdir = str(folder)
    os.environ["TMPDIR"] = str(folder)


def _key(sub, digest: str) -> str:
    return hashlib.sha256(f"{sub.fingerprint}|{sub.error}|{digest}".encode("utf-8", "surrogatepass")).hexdigest()


def _zip_folder(source: Path, course: Course) -> str:
    """Hide the folder of a submissions zip from sandboxes, unless it holds the course itself."""
    folder = source.parent
    if folder == course.root or folder in course.root.parents:
        return ""
    return str(folder)


def _log_internal_errors(out: Path, student: str, result: dict) -> None:
    """Tests whose own code failed ("not your fault" for the student): their tracebacks to batch.log."""
    errors = [t for t in (result.get("staff") or {}).get("tests", []) if t.get("internal_error")]
    if errors:
        with open(out / "batch.log", "a", encoding="utf-8", errors="backslashreplace") as log:
            for test in errors:
                log.write(f"--- {student}: {test['id']} raised in the test code (internal_error)\n"
                          f"{test['internal_error']}\n")


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _warm_worker(course: Course, ids: list[str], tmp_root: Path | None = None) -> None:
    if tmp_root is not None:            # removed with the batch's root when the batch ends
        _use_tmp(_private_tmp(Path(tmp_root)))
    runner.prepare_trusted()
    runner.warm_tests(course, ids)


def _enforce_timeouts(running: dict, limit: float) -> None:
    now = time.monotonic()
    for pid, (_, started, *_rest) in list(running.items()):
        if now - started > limit:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def write_reports(course: Course, subs: list, ids: list[str], out: Path, opts: BatchOptions) -> list[dict]:
    """Render every report from the records in ``out`` (after merging manual points); the records shown."""
    return ReportWriter(course, ids, out, opts).write(subs)


class ReportWriter:
    """Every report of a batch, rendered from the records alone (also after `grade merge`).

    No single student can stop this: a record that cannot be rendered is
    replaced, for the reports, by that student's error row (the reason goes
    to batch.log), and every report is written for everyone else. All text
    from records passes the sanitiser (feedback/text.clean_data) first.
    """

    def __init__(self, course: Course, ids: list[str], out: Path, opts: BatchOptions) -> None:
        self.course, self.ids, self.out, self.opts = course, ids, out, opts

    def write(self, subs: list) -> list[dict]:
        from grader.staff.reports import manual

        records = [self.record_for(sub) for sub in subs]
        if self.opts.manual_csv:
            records = manual.merge(records, Path(self.opts.manual_csv))
        for i, sub in enumerate(subs):
            records[i] = self.checked(sub, records[i])
            records[i] = self.student_reports(sub, records[i])
        self.class_reports(subs, records)
        return records

    def record_for(self, sub) -> dict:
        """The student's record, cleaned for the reports (an error row if there is none)."""
        from grader.feedback.text import clean_data

        record = load_record(self.out, sub.student_id)
        if record is None:
            record = results.error_result(self.course, self.ids, "not graded (the batch was interrupted)",
                                          sub.student_id)
        record = clean_data(record)
        record["student"] = sub.student_id            # what the reports pair records and submissions by
        return record

    def replacement(self, sub, record: dict, what: str) -> dict:
        """The error row that stands in for a record the reports could not handle (logged for staff)."""
        from grader.feedback.text import clean_data

        _log(self.out, f"--- {sub.student_id}: {what}\n{traceback.format_exc()}")
        why = f"the reports could not be written for this submission ({what}; see batch.log)"
        result = results.error_result(self.course, self.ids, why, sub.student_id)
        result.update(name=clean_data(sub.name), lms=clean_data(sub.lms), batch=record.get("batch"))
        return result

    def checked(self, sub, record: dict) -> dict:
        """``record`` if every class-wide report can show it, else its error row."""
        from grader.staff.reports import gradescsv, moodle, summary

        try:
            gradescsv.rows([record], self.ids)
            summary.build_view([record])
            if self.opts.layout == "moodle":
                moodle.worksheet_rows([record], [sub])
                moodle.feedback_entry_name(sub)
            return record
        except Exception:  # noqa: BLE001 - a malformed record costs only its own row
            return self.replacement(sub, record, "the record does not fit the class reports")

    def student_reports(self, sub, record: dict) -> dict:
        """Write OUT/STUDENT/feedback.html, feedback.md and results.json; returns the record they show."""
        from grader.staff.reports import feedback, gradescope

        folder = self.out / sub.student_id
        for attempt in range(2):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                feedback.write(record, folder)
                gradescope.write(record, folder / "results.json", hidden_visibility=self.opts.hidden_visibility)
                return record
            except Exception:  # noqa: BLE001 - the student's own reports only
                if attempt:
                    _log(self.out, f"--- {sub.student_id}: even the error row could not be rendered\n"
                                   f"{traceback.format_exc()}")
                    return record
                record = self.replacement(sub, record, "rendering feedback.html/results.json failed")
        return record

    def class_reports(self, subs: list, records: list[dict]) -> None:
        """grades.csv, summary.html and the LMS files: each written even if another one fails."""
        from grader.staff.reports import canvas, gradescsv, moodle, summary, tables

        title = self.opts.assignment_title or self.course.title
        writers: list[tuple[str, Callable[[], object]]] = [
            ("grades.csv", lambda: gradescsv.write(records, self.out / "grades.csv", self.ids)),
            ("parts.csv and mistakes.csv", lambda: tables.write(records, self.out)),
            ("summary.html", lambda: summary.write(records, self.out / "summary.html", self.opts.test_options)),
        ]
        if self.opts.layout == "moodle":
            writers += [
                ("moodle_grading_worksheet.csv", lambda: moodle.write_worksheet(
                    records, subs, self.out / "moodle_grading_worksheet.csv", lang=self.opts.lms_lang)),
                ("moodle_feedback_files.zip", lambda: moodle.write_feedback_zip(
                    records, subs, self.out, self.out / "moodle_feedback_files.zip")),
            ]
        if self.opts.layout == "canvas":
            writers.append(("canvas_gradebook.csv", lambda: canvas.write(
                records, subs, self.out / "canvas_gradebook.csv", title, self.opts.assignment_id)))
        if self.opts.layout == "ilias":
            from grader.staff.reports import ilias

            writers.append(("ilias_status.csv and ilias_multi_feedback.zip", lambda: ilias.write(
                records, subs, self.out, title, self.opts.assignment_id or "0")))
        for name, write in writers:
            try:
                left_out = write()
            except Exception as exc:  # noqa: BLE001 - the other reports are still written
                _log(self.out, f"--- {name} could not be written\n{traceback.format_exc()}")
                print(f"warning: {name} could not be written: {exc} (see batch.log)", file=sys.stderr)
                continue
            if name == "canvas_gradebook.csv" and left_out:
                _log(self.out, f"--- {name}: left out (no numeric Canvas user id, e.g. anonymous grading; "
                               f"enter these grades in SpeedGrader): {', '.join(left_out)}")
            elif name.startswith("ilias_") and left_out:
                _log(self.out, f"--- {name}: left out (folder name without an ILIAS user id; enter these by "
                               f"hand): {', '.join(sorted(set(left_out)))}")


def _kill_strays() -> None:
    """Kill sandbox processes this batch's zygote started that are still alive (Linux, as root).

    Only processes carrying this grader's zygote token are touched: other
    graders on the same machine keep their sandboxes.
    """
    from grader.sandbox import isolation
    from grader.sandbox import zygote

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
