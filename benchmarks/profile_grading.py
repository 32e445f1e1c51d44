"""Where does the time of one grading go?  A breakdown for the performance issue.

    python benchmarks/profile_grading.py [--submission DIR] [--out benchmarks/profile.json]

Measures, without changing the engine (timers are wrapped around its
functions at runtime):
- trusted start: `runner.prepare_trusted()` (torch, pytest, zygote start);
- one grading of the reference (all exercises, public + hidden) in-process
  under cProfile: pytest collection, every sandbox start (zygote request +
  isolation + preload + uid drop, until "ready"), each test's duration;
- the sandbox start split into its steps, replayed in forks of a numpy-only
  interpreter: isolation.enter (namespaces, masks), preloading the stdlib and
  course modules, drop_privileges (limits, chown, setuid).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT)]


def sandbox_steps(reps: int) -> dict:
    """Replay server.serve's start-up steps in forks of this (numpy-only) process; seconds per step."""
    import numpy  # noqa: F401

    from grader import course as course_mod
    from grader.sandbox import isolation
    from grader.sandbox import server
    from grader.trusted.plugin import GradingPlugin

    course = course_mod.load(ROOT)
    config = GradingPlugin(course, ROOT).sandbox_config(course.exercise("ex41"))
    steps: dict[str, list[float]] = {"fork": [], "enter": [], "preload_stdlib": [], "preload_course": [],
                                     "drop_privileges": [], "total": []}
    for _ in range(reps):
        workdir = tempfile.mkdtemp(prefix="bench-sbx-")
        spec = {"workdir": workdir, "course_paths": list(config.course_paths), "preload": list(config.preload),
                "forbidden": list(config.forbidden), "hidden_paths": list(config.hidden_paths), "memory_mb": config.memory_mb,
                "cpu_seconds": 60}
        r, w = os.pipe()
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            t1 = time.perf_counter()
            report = isolation.enter(spec, w)
            t2 = time.perf_counter()
            server.preload_standard_library()
            t3 = time.perf_counter()
            server.preload_course(spec, report)
            t4 = time.perf_counter()
            isolation.drop_privileges(spec, report)
            t5 = time.perf_counter()
            os.write(w, json.dumps([t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0]).encode())
            os._exit(0)
        os.close(w)
        data = b""
        while chunk := os.read(r, 4096):
            data += chunk
        os.close(r)
        os.waitpid(pid, 0)
        shutil.rmtree(workdir, ignore_errors=True)
        for key, value in zip(steps, json.loads(data)):
            steps[key].append(value)
    return {k: {"median_s": sorted(v)[len(v) // 2], "min_s": min(v), "max_s": max(v)} for k, v in steps.items()}


def profile_grading(submission: Path, top: int) -> dict:
    """Grade ``submission`` in-process under cProfile, with timers around the engine's steps."""
    t0 = time.perf_counter()
    from grader.trusted import runner

    runner.prepare_trusted()
    trusted_start = time.perf_counter() - t0

    import pytest

    from grader.trusted import remote as student_mod
    from grader.sandbox import zygote

    starts, spawns, marks = [], [], {}
    real_ensure, real_spawn, real_main = student_mod.StudentSession._ensure, zygote.Zygote.spawn, pytest.main

    def ensure(self):
        fresh = self.proc is None
        t = time.perf_counter()
        out = real_ensure(self)
        if fresh:
            starts.append(time.perf_counter() - t)
        return out

    def spawn(self, spec):
        t = time.perf_counter()
        out = real_spawn(self, spec)
        spawns.append(time.perf_counter() - t)
        return out

    class Marks:
        def pytest_sessionstart(self):
            marks["sessionstart"] = time.perf_counter()

        def pytest_collection_finish(self):
            marks["collected"] = time.perf_counter()

    def main(args, plugins=()):
        marks["main"] = time.perf_counter()
        code = real_main(args, plugins=[*plugins, Marks()])
        marks["end"] = time.perf_counter()
        return code

    student_mod.StudentSession._ensure, zygote.Zygote.spawn, pytest.main = ensure, spawn, main
    profiler = cProfile.Profile()
    t1 = time.perf_counter()
    try:
        profiler.enable()
        course = runner.course_mod.load(ROOT)
        result = runner.grade_in_process(course, runner.GradingRequest.for_course(course, submission, suite="all"))
        profiler.disable()
    finally:
        student_mod.StudentSession._ensure, zygote.Zygote.spawn, pytest.main = real_ensure, real_spawn, real_main
    total = time.perf_counter() - t1
    tests = [(t["id"], t.get("duration", 0.0)) for ex in result["exercises"] for p in ex["parts"] for t in p["tests"]]
    per_exercise = {ex["id"]: round(sum(t.get("duration", 0.0) for p in ex["parts"] for t in p["tests"]), 3)
                    for ex in result["exercises"]}
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(top)
    tottime = io.StringIO()
    pstats.Stats(profiler, stream=tottime).sort_stats("tottime").print_stats(top)
    return {
        "submission": str(submission), "score": [ex["score"] for ex in result["exercises"]],
        "trusted_start_s": trusted_start,
        "grading_total_s": total,
        "pytest_main_s": marks.get("end", 0) - marks.get("main", 0),
        "collection_s": marks.get("collected", 0) - marks.get("main", 0),
        "sandbox_starts": len(starts), "sandbox_start_s": starts, "zygote_spawn_s": spawns,
        "test_duration_sum_s": sum(d for _, d in tests), "tests": len(tests),
        "per_exercise_test_s": per_exercise,
        "slowest_tests": sorted(tests, key=lambda x: -x[1])[:8],
        "cprofile_cumulative": text.getvalue().splitlines()[:top + 12],
        "cprofile_tottime": tottime.getvalue().splitlines()[:top + 12],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--submission", type=Path, default=None, help="default: a copy of solutions/")
    ap.add_argument("--out", type=Path, default=HERE / "profile.json")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--sandbox-steps-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.sandbox_steps_only:
        print(json.dumps(sandbox_steps(args.reps)))
        return 0
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    # The step replay must run in a fresh numpy-only interpreter, like the zygote.
    env = dict(os.environ, OMP_NUM_THREADS="1")
    steps = json.loads(subprocess.run([sys.executable, __file__, "--sandbox-steps-only", "--reps", str(args.reps)],
                                      capture_output=True, text=True, env=env, check=True).stdout)
    submission = args.submission
    tmp = None
    if submission is None:
        tmp = Path(tempfile.mkdtemp(prefix="bench-ref-"))
        for path in (ROOT / "solutions").iterdir():
            if path.is_file() and path.suffix in (".py", ".npz"):
                shutil.copy(path, tmp / path.name)
        submission = tmp
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    out = {"load_average": load, "sandbox_steps": steps, "grading": profile_grading(submission, args.top)}
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    args.out.write_text(json.dumps(out, indent=1), encoding="utf-8")
    g = out["grading"]
    print(f"load average {load}")
    print("sandbox start steps (median s): " + ", ".join(f"{k} {v['median_s']:.4f}" for k, v in steps.items()))
    print(f"trusted start {g['trusted_start_s']:.2f} s; grading {g['grading_total_s']:.2f} s, of which pytest.main "
          f"{g['pytest_main_s']:.2f} s, collection {g['collection_s']:.2f} s, tests {g['test_duration_sum_s']:.2f} s "
          f"({g['tests']} tests); {g['sandbox_starts']} sandbox starts, median "
          f"{sorted(g['sandbox_start_s'])[len(g['sandbox_start_s']) // 2] if g['sandbox_start_s'] else 0:.3f} s")
    print(f"test time per exercise: {g['per_exercise_test_s']}")
    print("slowest tests: " + "; ".join(f"{i.split('::')[-1]} {d:.2f}" for i, d in g["slowest_tests"]))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
