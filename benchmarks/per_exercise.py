"""Per-exercise grading cost the way `grade batch` pays it: warm parent, one forked child per submission.

    python benchmarks/per_exercise.py [--reps 5] [--only ex41,qlearning] [--kinds reference,stub]
                                      [--out benchmarks/per_exercise.json]

The parent imports torch, pytest and every test module once (runner.prepare_trusted,
runner.warm_tests, as `grade batch` does); each grading is a fork that runs
`runner.grade_in_process` on public + hidden tests of one exercise (and of all
exercises at once: "ALL") for the reference (solutions/) or the stub
(exercises/). Wall seconds per grading with --jobs 1 are worker-seconds.
Per grading it also reports the sum of the tests' durations, the number of
sandbox starts and the child's own CPU seconds (the sandboxes are children of
the zygote, so their CPU is not in it). Compare numbers of one run only.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT)]


def _copy(kind: str, dest: Path) -> Path:
    """A submission folder with the reference's or the stub's files (the stub keeps the reference's weights)."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "solutions").iterdir():
        if path.is_file() and path.suffix in (".py", ".npz"):
            shutil.copy(path, dest / path.name)
    if kind == "stub":
        for path in (ROOT / "exercises").glob("*.py"):
            if (dest / path.name).exists():
                shutil.copy(path, dest / path.name)
    return dest


def _grade_once(course, sub: Path, ids: list[str], student: str) -> dict:
    """Fork, grade, return wall/CPU seconds and what the result says."""
    from grader.trusted import remote as student_mod
    from grader.trusted import runner

    r, w = os.pipe()
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        starts = [0]
        real = student_mod.StudentSession._ensure

        def ensure(self):
            if self.proc is None:
                starts[0] += 1
            return real(self)

        student_mod.StudentSession._ensure = ensure
        sandbox_cpu = [0.0]
        real_kill = student_mod.SandboxProcess.kill_processes

        def kill_processes(self):
            sandbox_cpu[0] += _group_cpu(self.pid)
            return real_kill(self)

        student_mod.SandboxProcess.kill_processes = kill_processes
        c0 = time.process_time()
        result = runner.grade_in_process(course, runner.GradingRequest.for_course(course, sub, ids, "all",
                                                                                  student_id=student))
        cpu = time.process_time() - c0
        tests = [t for ex in result["exercises"] for p in ex["parts"] for t in p["tests"]]
        out = {"sandbox_cpu_s": sandbox_cpu[0], "score": sum(ex["score"] for ex in result["exercises"]), "tests": len(tests),
               "test_s": sum(t.get("duration", 0.0) for t in tests), "child_cpu_s": cpu, "starts": starts[0],
               "slowest": sorted(((round(t.get("duration", 0.0), 3), t["id"].split("::")[-1]) for t in tests),
                                 reverse=True)[:3]}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    _, _, usage = os.wait4(pid, 0)
    out = json.loads(data)
    out["wall_s"] = time.perf_counter() - t0
    out["grading_cpu_s"] = usage.ru_utime + usage.ru_stime
    return out


def _group_cpu(pgid: int) -> float:
    """CPU seconds (own + reaped children) of the live processes in process group ``pgid`` (a sandbox)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += sum(int(f) for f in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--only", default="")
    ap.add_argument("--kinds", default="reference,stub")
    ap.add_argument("--no-all", action="store_true", help="skip grading all exercises at once")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from grader import course as course_mod
    from grader.trusted import runner

    course = course_mod.load(ROOT)
    ids = [i for i in args.only.split(",") if i] or [e.id for e in course.exercises]
    t0 = time.perf_counter()
    runner.prepare_trusted()
    runner.warm_tests(course, [e.id for e in course.exercises])
    warm = time.perf_counter() - t0
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    tmp = Path(tempfile.mkdtemp(prefix="bench-perex-"))
    rows: dict = {"warm_s": warm, "load_before": load, "runs": {}}
    try:
        targets = [[i] for i in ids] + ([] if args.no_all else [[e.id for e in course.exercises]])
        for kind in args.kinds.split(","):
            sub = _copy(kind, tmp / kind)
            for target in targets:
                name = target[0] if len(target) == 1 else "ALL"
                runs = [_grade_once(course, sub, target, f"s{k:03d}") for k in range(args.reps)]
                med = {key: sorted(r[key] for r in runs)[len(runs) // 2]
                       for key in ("wall_s", "child_cpu_s", "grading_cpu_s", "sandbox_cpu_s", "test_s", "starts", "score", "tests")}
                med["total_cpu_s"] = sorted(r["grading_cpu_s"] + r["sandbox_cpu_s"] for r in runs)[len(runs) // 2]
                rows["runs"][f"{kind}/{name}"] = {"median": med, "slowest": runs[-1]["slowest"]}
                print(f"{kind:9s} {name:15s} wall {med['wall_s']:.3f}  cpu {med['total_cpu_s']:.3f} "
                      f"(grading {med['grading_cpu_s']:.3f}, sandboxes {med['sandbox_cpu_s']:.3f})  "
                      f"tests {med['test_s']:.3f} ({med['tests']})  starts {med['starts']}  score {med['score']}  "
                      f"slowest {runs[-1]['slowest']}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open("/proc/loadavg") as fh:
        rows["load_after"] = fh.read().split()[:3]
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
