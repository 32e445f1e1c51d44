"""`grade merge SHARD_OUT... -o OUT`: one class's reports from the records of several shards.

A sharded batch (`grade batch --shard I/N`) writes, besides its students'
records, ``shard.json``: the shard, every student the whole source holds,
the ones this shard graded, the exercise ids and the test-suite digest.
Merging checks that the shards belong together (same N, same tests), that
no student was graded twice and that none is missing, copies the records
into OUT and renders every report with the same code an unsharded batch
uses (batch.write_reports), so the result is the same as grading in one go.
"""
from __future__ import annotations

import json
from pathlib import Path

from grader.staff import batch
from grader.course import Course
from grader.trusted.results import is_error

SHARD_FILE = "shard.json"


class MergeError(Exception):
    """The shard outputs do not add up to one complete batch; the message says why."""


def write_manifest(out: Path, shard: str, everyone: list[str], mine: list[str], ids: list[str], digest: str,
                   layout: str) -> None:
    """Record what this shard was responsible for (read back by :func:`merge`)."""
    data = {"shard": shard, "students": sorted(everyone), "graded": sorted(mine), "exercises": list(ids),
            "suite": digest, "layout": layout}
    from grader.staff.reports.files import write_text_atomic

    write_text_atomic(Path(out) / SHARD_FILE, json.dumps(data, ensure_ascii=False, indent=1))


def _manifest(folder: Path) -> dict:
    try:
        data = json.loads((folder / SHARD_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MergeError(f"{folder} is not the output of a sharded batch (no {SHARD_FILE})") from None
    except (OSError, ValueError) as exc:
        raise MergeError(f"{folder / SHARD_FILE} cannot be read: {exc}") from None
    if not isinstance(data, dict) or not all(k in data for k in ("shard", "students", "graded", "exercises")):
        raise MergeError(f"{folder / SHARD_FILE} is not a shard manifest")
    return data


def check(manifests: dict[Path, dict], allow_missing: bool = False) -> tuple[dict[str, Path], list[str]]:
    """``({student: shard folder}, everyone)``; MergeError for mismatched, duplicate or missing work."""
    first = next(iter(manifests.values()))
    count = int(str(first["shard"]).split("/")[1])
    for folder, m in manifests.items():
        if m.get("exercises") != first.get("exercises") or m.get("suite") != first.get("suite"):
            raise MergeError(f"{folder} was graded with other exercises or tests than {next(iter(manifests))}")
        if int(str(m["shard"]).split("/")[1]) != count:
            raise MergeError(f"{folder} is shard {m['shard']}, the others are of {count}")
    indices = sorted(int(str(m["shard"]).split("/")[0]) for m in manifests.values())
    if len(set(indices)) != len(indices):
        raise MergeError(f"a shard is given twice: {indices}")
    owner: dict[str, Path] = {}
    for folder, m in manifests.items():
        for student in m["graded"]:
            if student in owner:
                raise MergeError(f"student {student!r} was graded by two shards: {owner[student]} and {folder}")
            owner[student] = folder
    everyone = sorted(set().union(*(set(m["students"]) for m in manifests.values())))
    missing = [s for s in everyone if s not in owner]
    if missing and not allow_missing:
        shards = ", ".join(str(i) for i in range(count) if i not in indices)
        raise MergeError(f"{len(missing)} student(s) not graded by any given shard: {', '.join(missing[:20])}"
                         + (" ..." if len(missing) > 20 else "")
                         + (f" (shards not given: {shards})" if shards else "")
                         + "; rerun those shards or pass --allow-missing")
    return owner, everyone


def merge(course: Course, folders: list[Path], out: Path, opts: batch.BatchOptions,
          allow_missing: bool = False) -> dict:
    """Copy every shard's records into ``out`` and render all reports; returns counts."""
    from grader.staff.layouts import Submission

    if not folders:
        raise MergeError("no shard folders given")
    resolved = [Path(f).resolve() for f in folders]
    if len(set(resolved)) != len(resolved):
        raise MergeError("a shard folder is given twice")
    manifests = {f: _manifest(f) for f in resolved}
    owner, everyone = check(manifests, allow_missing)
    ids = list(next(iter(manifests.values()))["exercises"])
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    subs, errors = [], 0
    for student in everyone:
        record = batch.load_record(owner[student], student) if student in owner else None
        if record is not None:
            batch.write_record(out, student, record)
            errors += is_error(record)
        subs.append(Submission(student_id=student, name=(record or {}).get("name"), lms=(record or {}).get("lms") or {}))
    opts.layout = opts.layout if opts.layout != "dir" else next(iter(manifests.values())).get("layout", "dir")
    batch.write_reports(course, subs, ids, out, opts)
    return {"total": len(everyone), "merged": len(owner), "missing": len(everyone) - len(owner), "errors": errors}
