"""Benchmark `grade batch` against the naive baseline and the compute floor, in one run.

    python benchmarks/run.py --n 300 --jobs 2 --out benchmarks/results.json

1. Generates N synthetic submissions (benchmarks/corpus.py).
2. ours:  `grade batch SUBS -o OUT --jobs J`: wall time, per-submission cost,
          peak memory of the whole process tree (sum of RSS and of PSS).
3. naive: one fresh `python -m pytest` per submission with the student's files
          imported directly (benchmarks/naive_plugin.py), same public + hidden
          tests, pytest-timeout for the same limits, J processes at once.
4. floor: the tests' own compute with everything imported: the sum of the
          call-phase durations of the naive run, divided by J.
5. `grade EX` (public tests, reference files in a copy of the course) against a
   bare `python -c "import numpy, torch"`.
Ratios come from this one run; the load average is recorded because the
machine may be shared. `--naive-sample F` runs the naive baseline on every
(1/F)-th submission only and scales it up (it is by far the slowest part).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

import corpus  # noqa: E402
import procmem  # noqa: E402
from grader import course as course_mod # noqa: E402

PY = sys.executable
ENV = dict(os.environ, OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
ENV.pop("GRADE_COURSE_ROOT", None)



def _portable(command: str) -> str:
    """A recorded command without this machine's checkout path (results.json is committed)."""
    return command.replace(str(ROOT) + "/", "").replace(str(ROOT), ".")

def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def wait_for_content(course, minutes: float) -> list[str]:
    """Poll (every 120 s, at most ``minutes``) until every solution file exists; return what is still missing."""
    deadline = time.monotonic() + minutes * 60
    while True:
        missing = corpus.build_pools(course).missing
        if not missing or time.monotonic() >= deadline:
            return missing
        log(f"waiting for exercise content: {missing}")
        time.sleep(min(120, max(1, deadline - time.monotonic())))


# -- ours ------------------------------------------------------------------------

def run_ours(subs: Path, out: Path, jobs: int, only: list[str]) -> dict:
    if out.exists():
        shutil.rmtree(out)
    cmd = [PY, str(ROOT / "grader/cli.py"), "batch", str(subs), "-o", str(out), "--jobs", str(jobs)]
    if only:
        cmd += ["--only", ",".join(only)]
    load = procmem.load_average()
    start = time.monotonic()
    wall_start = time.time()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with procmem.Sampler(proc.pid) as sampler:
        stdout, stderr = proc.communicate()
    wall = time.monotonic() - start
    records = {}
    for path in sorted(out.glob("*/grading.json")):
        records[path.parent.name] = (json.loads(path.read_text(encoding="utf-8")), path.stat().st_mtime - wall_start)
    n = len(records)
    finish = sorted(t for _, t in records.values())
    tests = [t for rec, _ in records.values() for ex in rec.get("exercises", []) for p in ex["parts"] for t in p["tests"]]
    return {
        "command": _portable(" ".join(cmd[1:])), "exit_code": proc.returncode, "stderr_tail": stderr[-1500:],
        "stdout_tail": stdout[-500:],
        "wall_s": wall, "graded": n, "load_before": load, "load_after": procmem.load_average(),
        "per_submission_s": wall / max(n, 1),
        "worker_s_per_submission": wall * jobs / max(n, 1),
        "first_record_after_s": finish[0] if finish else None,
        "steady_state_s_per_submission": ((finish[-1] - finish[0]) / (n - 1)) if n > 1 else None,
        "after_last_record_s": (wall - finish[-1]) if finish else None,   # reports, cleanup, exit
        "test_time_sum_s": sum(t.get("duration", 0.0) for t in tests),
        "tests": len(tests),
        "errors": sum(1 for rec, _ in records.values() if str(rec.get("status", "")).startswith("error")),
        "peak_memory": sampler.peak,
        "_passed": {s: _passed_ours(rec) for s, (rec, _) in records.items()},
    }


def _passed_ours(record: dict) -> int:
    return sum(1 for ex in record.get("exercises", []) for p in ex["parts"] for t in p["tests"]
               if t.get("status") == "passed")


# -- naive -----------------------------------------------------------------------

def naive_command(course, ids: list[str], ini: Path) -> list[str]:
    files = [str(f) for i in ids for hidden in (False, True) for f in course.test_files(i, hidden)]
    return [PY, "-m", "pytest", "-c", str(ini), "--rootdir", str(course.root), "-p", "no:cacheprovider", "-q",
            "-p", "no:randomly", "-p", "naive_plugin", *files]


def run_naive(course, subs: list[Path], ids: list[str], work: Path, jobs: int) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    ini = work / "pytest.ini"
    ini.write_text("[pytest]\n", encoding="utf-8")
    cmd = naive_command(course, ids, ini)
    env = dict(ENV, PYTHONPATH=os.pathsep.join([str(HERE), str(ROOT)]), NAIVE_COURSE=str(course.root))
    queue = list(subs)
    running: dict[subprocess.Popen, tuple[Path, float]] = {}
    walls: dict[str, float] = {}
    load = procmem.load_average()
    start = time.monotonic()
    with procmem.Sampler(os.getpid(), exclude_root=True) as sampler:
        while queue or running:
            while queue and len(running) < jobs:
                sub = queue.pop(0)
                report = work / f"{sub.name}.jsonl"
                report.unlink(missing_ok=True)
                p = subprocess.Popen(cmd, cwd=work, env=dict(env, NAIVE_SUBMISSION=str(sub), NAIVE_REPORT=str(report)),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                running[p] = (sub, time.monotonic())
            for p in [p for p in running if p.poll() is not None]:
                sub, t0 = running.pop(p)
                walls[sub.name] = time.monotonic() - t0
            time.sleep(0.02)
    wall = time.monotonic() - start
    per = {name: _read_naive(work / f"{name}.jsonl") for name in walls}
    call_sum = sum(v["call_s"] for v in per.values())
    return {
        "command": _portable(" ".join(cmd[1:])) + "  (one process per submission)", "wall_s": wall, "submissions": len(walls),
        "load_before": load, "load_after": procmem.load_average(),
        "per_submission_s": wall / max(len(walls), 1),
        "process_wall_mean_s": statistics.mean(walls.values()) if walls else None,
        "collection_mean_s": statistics.mean(v["collected_s"] for v in per.values() if v["collected_s"] is not None)
        if any(v["collected_s"] is not None for v in per.values()) else None,
        "killed_by_student_code": sum(1 for v in per.values() if not v["finished"]),
        "call_phase_sum_s": call_sum,
        "peak_memory": sampler.peak,
        "_passed": {k: v["passed"] for k, v in per.items()},
    }


def _read_naive(path: Path) -> dict:
    out = {"call_s": 0.0, "passed": 0, "finished": False, "collected_s": None}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e["event"] == "phase" and e["when"] == "call":
            out["call_s"] += e["duration"]
            out["passed"] += e["outcome"] == "passed"
        elif e["event"] == "collected":
            out["collected_s"] = e["t"]
        elif e["event"] == "finished":
            out["finished"] = True
    return out


# -- grade EX vs bare import -------------------------------------------------------

def course_copy(course, work: Path, exercise: str) -> Path:
    """A copy of the course whose exercises/ holds the reference files of ``exercise``.

    It lives next to the course (benchmarks/.scratch-PID), not in ``work``: the sandbox
    gets a private /tmp, so course modules of a copy under /tmp could not be preloaded.
    """
    dest = HERE / f".scratch-{os.getpid()}" / "course"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copy(course.root / "course.toml", dest / "course.toml")
    shutil.copytree(course.exercises_dir, dest / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
    if (course.root / "data").is_dir():
        shutil.copytree(course.root / "data", dest / "data")
    ex = course.exercise(exercise)
    for name in ex.files + ex.extra_files:
        if (course.solutions_dir / name).is_file():
            shutil.copy(course.solutions_dir / name, dest / "exercises" / name)
    return dest


def run_cli_vs_import(course, work: Path, exercise: str, reps: int) -> dict:
    folder = course_copy(course, work, exercise)
    grade_cmd = [PY, str(ROOT / "grader/cli.py"), exercise]
    bare_cmd = [PY, "-c", "import numpy, torch"]
    grade_t, bare_t, codes = [], [], []
    load = procmem.load_average()
    for _ in range(reps):
        for cmd, times in ((bare_cmd, bare_t), (grade_cmd, grade_t)):
            t0 = time.monotonic()
            proc = subprocess.run(cmd, cwd=folder, env=ENV, capture_output=True, text=True)
            times.append(time.monotonic() - t0)
            if cmd is grade_cmd:
                codes.append(proc.returncode)
    shutil.rmtree(folder.parent, ignore_errors=True)
    g, b = statistics.median(grade_t), statistics.median(bare_t)
    return {"exercise": exercise, "grade_cmd": f"grade {exercise} (reference files, public tests)",
            "bare_cmd": 'python -c "import numpy, torch"', "grade_s": grade_t, "bare_import_s": bare_t,
            "grade_median_s": g, "bare_median_s": b, "ratio": g / b if b else None, "grade_exit_codes": codes,
            "load_before": load, "load_after": procmem.load_average()}


# -- main ------------------------------------------------------------------------

def machine() -> dict:
    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "torch": version("torch"), "numpy": version("numpy"), "pytest": version("pytest"),
            "mem_total_mb": _mem_total_mb(), "euid": os.geteuid() if hasattr(os, "geteuid") else None}


def _mem_total_mb() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            return int(fh.readline().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300, help="number of submissions")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a new temp folder)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--exercises", default="", help="comma-separated ids (default: all)")
    ap.add_argument("--naive-sample", type=float, default=1.0,
                    help="share of submissions the naive baseline runs on (scaled up to N)")
    ap.add_argument("--cli-exercise", default="ex41", help="exercise for `grade EX` vs bare import")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of `grade EX` and the bare import")
    ap.add_argument("--wait-minutes", type=float, default=0.0, help="poll this long for missing solutions")
    ap.add_argument("--skip", default="", help="comma-separated phases to skip: naive,cli")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    course = course_mod.load(ROOT)
    ids = [i for i in args.exercises.split(",") if i] or [e.id for e in course.exercises]
    work = args.work or Path(tempfile.mkdtemp(prefix="nn-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    result: dict = {"created": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": machine(), "n": args.n,
                    "jobs": args.jobs, "exercises": ids, "load_start": procmem.load_average()}
    result["missing_content"] = wait_for_content(course, args.wait_minutes)
    log(f"generating {args.n} submissions in {work / 'subs'}")
    manifest = corpus.generate(course, work / "subs", args.n, seed=args.seed, exercises=ids)
    result["corpus"] = {k: manifest[k] for k in ("kinds", "pool_sizes", "missing", "left_out")}
    result["missing_content"] = sorted(set(result["missing_content"]) | set(manifest["missing"]))
    subs = sorted(p for p in (work / "subs").iterdir() if p.is_dir())

    log(f"ours: grade batch --jobs {args.jobs}")
    ours = run_ours(work / "subs", work / "out", args.jobs, args.exercises and ids)
    log(f"ours: {ours['wall_s']:.1f} s for {ours['graded']} submissions (exit {ours['exit_code']})")
    result["ours"] = ours

    if "naive" not in skip:
        step = max(1, round(1 / max(min(args.naive_sample, 1.0), 1e-6)))
        sample = subs[::step]
        log(f"naive: {len(sample)} submissions, one pytest process each, {args.jobs} at once")
        naive = run_naive(course, sample, ids, work / "naive", args.jobs)
        scale = len(subs) / max(len(sample), 1)
        naive["scaled_wall_s"] = naive["wall_s"] * scale
        result["naive"] = naive
        floor = naive["call_phase_sum_s"] * scale / args.jobs
        result["floor"] = {"wall_s": floor, "per_submission_s": floor / max(len(subs), 1),
                           "how": "sum of call-phase durations of the naive run (everything imported), "
                                  "scaled to N, divided by jobs"}
        same = [s for s in naive["_passed"] if ours["_passed"].get(s) == naive["_passed"][s]]
        result["agreement"] = {"compared": len(naive["_passed"]), "same_passed_test_count": len(same),
                               "note": "naive loses every later test when student code calls os._exit"}
        result["ratios"] = {"naive_over_ours": naive["scaled_wall_s"] / ours["wall_s"],
                            "ours_over_floor": ours["wall_s"] / floor if floor else None}
        log(f"naive: {naive['wall_s']:.1f} s for {len(sample)} (scaled to N: {naive['scaled_wall_s']:.1f} s); "
            f"floor {floor:.1f} s")
    if "cli" not in skip:
        log(f"grade {args.cli_exercise} vs python -c 'import numpy, torch', {args.reps} times each")
        result["cli"] = run_cli_vs_import(course, work, args.cli_exercise, args.reps)
    result["load_end"] = procmem.load_average()
    result["targets"] = _targets(result, args)
    for phase in ("ours", "naive"):
        if phase in result:
            result[phase].pop("_passed", None)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    _print_summary(result)
    log(f"wrote {args.out}; scratch in {work}")
    return 0


def _targets(result: dict, args: argparse.Namespace) -> dict:
    ours = result["ours"]
    # Startup (first record) plus the steady-state rate for the remaining 299 submissions.
    steady = ours["steady_state_s_per_submission"] or ours["per_submission_s"]
    per_300 = (ours["first_record_after_s"] or 0.0) + steady * 299
    t = {"batch_300_under_60s": {"measured_s": ours["wall_s"], f"extrapolated_300_jobs{args.jobs}_s": per_300,
                                 "met": per_300 < 60},
         "peak_memory_under_2GB": {"pss_gb": ours["peak_memory"]["pss_sum_bytes"] / 2**30,
                                   "rss_sum_gb": ours["peak_memory"]["rss_sum_bytes"] / 2**30,
                                   "met": ours["peak_memory"]["pss_sum_bytes"] < 2**31}}
    r = result.get("ratios", {})
    if r:
        t["naive_at_least_8x"] = {"ratio": r["naive_over_ours"], "met": r["naive_over_ours"] >= 8}
        t["at_most_2x_floor"] = {"ratio": r["ours_over_floor"], "met": bool(r["ours_over_floor"]) and r["ours_over_floor"] <= 2}
    if "cli" in result:
        t["grade_ex_at_most_2x_import"] = {"ratio": result["cli"]["ratio"], "met": (result["cli"]["ratio"] or 99) <= 2}
    return t


def _print_summary(r: dict) -> None:
    o = r["ours"]
    gb = 2**30
    print(f"machine: {r['machine']['cores']} cores, python {r['machine']['python']}, torch {r['machine']['torch']}; "
          f"load average start {r['load_start']}, end {r['load_end']}")
    print(f"corpus: {r['n']} submissions, {r['corpus']['kinds']}; missing content: {r['missing_content'] or 'none'}")
    print(f"ours:   {o['wall_s']:7.1f} s  ({o['per_submission_s']:.2f} s/submission, {o['worker_s_per_submission']:.2f} "
          f"worker-s/submission, first record after {o['first_record_after_s'] or 0:.1f} s), peak memory "
          f"PSS {o['peak_memory']['pss_sum_bytes'] / gb:.2f} GB / RSS-sum {o['peak_memory']['rss_sum_bytes'] / gb:.2f} GB")
    if "naive" in r:
        n = r["naive"]
        print(f"naive:  {n['scaled_wall_s']:7.1f} s  (measured {n['wall_s']:.1f} s on {n['submissions']}; "
              f"{n['per_submission_s']:.2f} s/submission), peak memory PSS {n['peak_memory']['pss_sum_bytes'] / gb:.2f} GB")
        print(f"floor:  {r['floor']['wall_s']:7.1f} s")
        print(f"ratios: naive/ours = {r['ratios']['naive_over_ours']:.2f}x, ours/floor = {r['ratios']['ours_over_floor']:.2f}x")
    if "cli" in r:
        c = r["cli"]
        print(f"grade {c['exercise']}: {c['grade_median_s']:.2f} s vs bare import {c['bare_median_s']:.2f} s "
              f"= {c['ratio']:.2f}x (exit codes {c['grade_exit_codes']})")
    for name, t in r["targets"].items():
        print(f"target {name}: {'met' if t['met'] else 'NOT met'}  {json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in t.items() if k != 'met'})}")


if __name__ == "__main__":
    raise SystemExit(main())
