"""How grading scales: workers, shards, merge, start-up; and a projection to larger machines.

    python benchmarks/scaling.py --n 40 --out benchmarks/scaling.json

One run on the synthetic class of benchmarks/corpus.py measures:
1. `grade batch --jobs 1` and `--jobs 2`: the speed-up of a second worker;
2. two shards of one worker each, started at once, then `grade merge`, against
   one batch with two workers (same cores, same submissions);
3. the start-up of a shard (importing torch and the tests, starting the
   sandbox template): a batch of one submission minus one submission's cost;
4. `grade merge` of 300 records (the class's records copied to 300 ids).
From these it projects wall times for 16, 64 and 256 cores and 1,000 and
10,000 submissions (see `project`): shards of `--jobs K` on C cores, each
paying the start-up once, workers at the measured parallel efficiency,
then one merge scaled linearly in the number of records.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

import corpus  # noqa: E402
import procmem  # noqa: E402
from grader import course as course_mod # noqa: E402
from run import ENV, PY, log, machine  # noqa: E402


def batch(subs: Path, out: Path, *extra: str) -> subprocess.Popen:
    shutil.rmtree(out, ignore_errors=True)
    return subprocess.Popen([PY, str(ROOT / "grader/cli.py"), "batch", str(subs), "-o", str(out), *extra], cwd=ROOT,
                            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def timed(*procs: subprocess.Popen) -> float:
    start = time.monotonic()
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(f"grade failed ({p.returncode}): {err[-2000:]}")
    return time.monotonic() - start


def run_timed(subs: Path, out: Path, *extra: str) -> float:
    start = time.monotonic()
    timed(batch(subs, out, *extra))
    return time.monotonic() - start


def merge_time(records_from: Path, work: Path, count: int) -> float:
    """`grade merge` of ``count`` records, made by copying the class's records to new ids."""
    shard = work / "merge-shard"
    shutil.rmtree(shard, ignore_errors=True)
    shard.mkdir(parents=True)
    sources = sorted(p.parent for p in records_from.glob("*/grading.json"))
    students = []
    for i in range(count):
        sid = f"m{i:05d}"
        record = json.loads((sources[i % len(sources)] / "grading.json").read_text(encoding="utf-8"))
        record["student"] = sid
        (shard / sid).mkdir()
        (shard / sid / "grading.json").write_text(json.dumps(record), encoding="utf-8")
        students.append(sid)
    manifest = json.loads((records_from.parent / "shard-0" / "shard.json").read_text())
    manifest.update(shard="0/1", students=students, graded=students)
    (shard / "shard.json").write_text(json.dumps(manifest))
    start = time.monotonic()
    proc = subprocess.run([PY, str(ROOT / "grader/cli.py"), "merge", str(shard), "-o", str(work / "merged")], cwd=ROOT,
                          env=ENV, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return time.monotonic() - start


def project(per_sub_s: float, startup_s: float, efficiency: float, merge_300_s: float,
            cores: int, submissions: int, jobs_per_shard: int = 8) -> dict:
    """Projected wall time: shards of ``jobs_per_shard`` workers on ``cores`` cores."""
    shards = max(1, cores // jobs_per_shard)
    workers = shards * min(jobs_per_shard, cores)
    grading = math.ceil(submissions / workers) * per_sub_s / efficiency
    merge = merge_300_s * submissions / 300
    return {"cores": cores, "submissions": submissions, "shards": shards, "jobs_per_shard": min(jobs_per_shard, cores),
            "wall_s": round(startup_s + grading + merge, 1), "merge_s": round(merge, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--out", type=Path, default=HERE / "scaling.json")
    args = parser.parse_args(argv)
    course = course_mod.load(ROOT)
    with tempfile.TemporaryDirectory(prefix="nn-scale-") as tmp:
        work = Path(tmp)
        subs = work / "subs"
        corpus.generate(course, subs, args.n, seed=1)
        one = work / "one"
        corpus.generate(course, one, 1, seed=2)
        load = procmem.load_average()
        log(f"{args.n} submissions: --jobs 1")
        t1 = run_timed(subs, work / "j1", "--jobs", "1")
        log("--jobs 2")
        t2 = run_timed(subs, work / "j2", "--jobs", "2")
        log("2 shards x --jobs 1, then merge")
        shard_wall = timed(batch(subs, work / "shard-0", "--shard", "0/2", "--jobs", "1"),
                           batch(subs, work / "shard-1", "--shard", "1/2", "--jobs", "1"))
        start = time.monotonic()
        proc = subprocess.run([PY, str(ROOT / "grader/cli.py"), "merge", str(work / "shard-0"), str(work / "shard-1"), "-o",
                               str(work / "merged2")], cwd=ROOT, env=ENV, capture_output=True, text=True)
        merge_small = time.monotonic() - start
        assert proc.returncode == 0, proc.stderr
        log("start-up: a batch of one submission")
        t_one = run_timed(one, work / "single", "--jobs", "1")
        log("merge of 300 records")
        merge_300 = merge_time(work / "j2", work, 300)
        load_after = procmem.load_average()
    per_sub = t1 / args.n
    startup = max(0.0, t_one - per_sub)
    efficiency = min(1.0, (t1 / t2) / 2)
    result = {
        "machine": machine(), "n": args.n, "load_before": load, "load_after": load_after,
        "jobs1_s": round(t1, 1), "jobs2_s": round(t2, 1), "speedup_jobs2": round(t1 / t2, 2),
        "two_shards_x1_s": round(shard_wall, 1), "merge_of_two_shards_s": round(merge_small, 1),
        "shards_plus_merge_vs_jobs2": round((shard_wall + merge_small) / t2, 2),
        "startup_per_shard_s": round(startup, 1), "merge_300_records_s": round(merge_300, 1),
        "per_submission_worker_s": round(per_sub, 2), "parallel_efficiency": round(efficiency, 2),
        "projection": [project(per_sub, startup, efficiency, merge_300, c, s)
                       for c in (16, 64, 256) for s in (1000, 10000)],
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("machine", "projection")}, indent=1))
    for row in result["projection"]:
        print(f"{row['cores']:>4} cores, {row['submissions']:>6} submissions: {row['wall_s']:>8.0f} s "
              f"({row['shards']} shards x {row['jobs_per_shard']} jobs, merge {row['merge_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
