"""Per-submission cost of two course trees, measured in interleaved rounds.

    python benchmarks/course_cost.py --baseline ../old-checkout [--n 30] [--jobs 2] [--rounds 4]
                                     [--seed 7] [--out benchmarks/sheet2_cost.json]

Answers "does this course cost more per submission than that one?" on a
machine whose speed changes from minute to minute (a shared VM: other guests
take CPU time away, seen as *steal* in /proc/stat). Each tree generates its
own synthetic class with its own `benchmarks/corpus.py` (same N, same seed),
then the two trees' `grade batch` runs alternate, round after round. Per run
it records:

- wall seconds and worker-seconds per submission (wall x jobs / N), what a
  course team waits for;
- CPU seconds per submission: the time this machine's CPUs were busy
  (user, nice, system, irq, softirq in /proc/stat) during the run, which
  takes in the batch, its workers, the zygote and every sandbox however they
  were reaped. Time stolen by other guests is not in it, so this figure moves
  far less with the neighbours' load than the wall time does. Run nothing
  else meanwhile: it counts the whole machine;
- the same two per submission in the steady state, from the first
  submission's record to the last one's (the batch's start-up, torch and
  the test modules imported once, is left out: it is paid once per batch,
  not per submission, and weighs less the larger the class);
- the steal and idle share of the run (/proc/stat), to show how disturbed it was.

It prints the per-round ratios and the ratio of the medians, for both
measures, and writes everything to --out. The baseline tree is any checkout
of this project (e.g. `git worktree add ../base <commit>`); its CLI is
`grader/cli.py` or, in older trees, `cli.py`.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ENV = dict(os.environ, OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
ENV.pop("GRADE_COURSE_ROOT", None)

GENERATE = """
import json, sys
from pathlib import Path
tree, out, n, seed = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sys.path[:0] = [str(tree / "benchmarks"), str(tree)]
import corpus
from grader import course
manifest = corpus.generate(course.load(tree), out, n, seed=seed)
print(json.dumps(manifest["kinds"]))
"""


def _cpu_times() -> list[int]:
    """The first line of /proc/stat: jiffies spent in user, nice, system, idle, iowait, irq, softirq, steal."""
    with open("/proc/stat") as fh:
        return [int(x) for x in fh.readline().split()[1:9]]


def _busy_s(jiffies: list[int]) -> float:
    """CPU seconds spent busy (user, nice, system, irq, softirq) in a /proc/stat difference."""
    return sum(jiffies[i] for i in (0, 1, 2, 5, 6)) / os.sysconf("SC_CLK_TCK")


def _follow_records(proc: subprocess.Popen, out: Path) -> list[tuple[int, float, list[int]]]:
    """(records written, time, /proc/stat) whenever the number of grading.json files grew, until the batch ends."""
    marks: list[tuple[int, float, list[int]]] = []
    while proc.poll() is None:
        count = len(list(out.glob("*/grading.json"))) if out.exists() else 0
        if count and (not marks or count > marks[-1][0]):
            marks.append((count, time.monotonic(), _cpu_times()))
        time.sleep(0.05)
    return marks


def _commit(tree: Path) -> str:
    """The checked-out commit of a tree (recorded instead of its path, which is this machine's)."""
    done = subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def _cli(tree: Path) -> Path:
    """The tree's `grade` program as a script (moved into the package in later trees)."""
    return tree / "grader" / "cli.py" if (tree / "grader" / "cli.py").exists() else tree / "cli.py"


def generate(tree: Path, subs: Path, n: int, seed: int) -> dict:
    """The tree's synthetic class of ``n`` submissions in ``subs``; returns the kinds of (student, exercise) pairs."""
    env = dict(ENV, PYTHONPATH=str(tree))
    done = subprocess.run([sys.executable, "-c", GENERATE, str(tree), str(subs), str(n), str(seed)],
                          env=env, cwd=tree, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_batch(tree: Path, subs: Path, out: Path, jobs: int) -> dict:
    """One `grade batch` of the tree: wall seconds, busy CPU seconds of the machine, steal and idle shares."""
    if out.exists():
        shutil.rmtree(out)
    env = dict(ENV, PYTHONPATH=str(tree))
    cmd = [sys.executable, str(_cli(tree)), "batch", str(subs), "-o", str(out), "--jobs", str(jobs)]
    before = _cpu_times()
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    marks = _follow_records(proc, out)
    proc.wait()
    wall = time.monotonic() - start
    after = _cpu_times()
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    delta = [b - a for a, b in zip(before, after)]
    total = sum(delta) or 1
    graded = len(list(out.glob("*/grading.json")))
    steady = {}
    if len(marks) >= 2 and marks[-1][0] > marks[0][0]:
        (n0, t0, c0), (n1, t1, c1) = marks[0], marks[-1]
        steady = {"steady_wall_s_per_submission": (t1 - t0) / (n1 - n0),
                  "steady_cpu_s_per_submission": _busy_s([b - a for a, b in zip(c0, c1)]) / (n1 - n0)}
    return {"exit_code": proc.returncode, "wall_s": wall, "cpu_s": _busy_s(delta), **steady,
            "graded": graded, "steal_share": delta[7] / total, "idle_share": (delta[3] + delta[4]) / total,
            "stderr_tail": stderr[-400:] if proc.returncode else ""}


def _per_submission(run: dict, jobs: int) -> dict:
    n = max(run["graded"], 1)
    steady_wall = run.get("steady_wall_s_per_submission")
    return {"worker_s": run["wall_s"] * jobs / n, "cpu_s": run["cpu_s"] / n,
            "steady_worker_s": steady_wall * jobs if steady_wall else None,
            "steady_cpu_s": run.get("steady_cpu_s_per_submission")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", type=Path, required=True, help="checkout of the tree to compare against")
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    trees = {"baseline": args.baseline.resolve(), "this": ROOT}
    work = Path(tempfile.mkdtemp(prefix="nn-cost-"))
    result: dict = {"command": f"python benchmarks/course_cost.py --baseline BASELINE --n {args.n} --jobs {args.jobs} "
                               f"--rounds {args.rounds} --seed {args.seed}",
                    "baseline_commit": _commit(trees["baseline"]), "this_commit": _commit(ROOT),
                    "n": args.n, "jobs": args.jobs, "seed": args.seed, "corpus": {}, "rounds": []}
    try:
        for name, tree in trees.items():
            result["corpus"][name] = generate(tree, work / name / "subs", args.n, args.seed)
        for k in range(args.rounds):
            order = list(trees) if k % 2 == 0 else list(trees)[::-1]   # neither tree always goes first
            for name in order:
                run = run_batch(trees[name], work / name / "subs", work / name / "out", args.jobs)
                run.update(_per_submission(run, args.jobs), round=k, tree=name)
                result["rounds"].append(run)
                print(f"round {k} {name:8s} wall {run['wall_s']:6.1f} s  worker-s/sub {run['worker_s']:5.2f}  "
                      f"CPU-s/sub {run['cpu_s']:5.2f}  steady: worker-s {run['steady_worker_s'] or 0:5.2f} "
                      f"CPU-s {run['steady_cpu_s'] or 0:5.2f}  steal {run['steal_share']:.0%}  "
                      f"exit {run['exit_code']}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["ratios"] = summarise(result["rounds"])
    for key, value in result["ratios"].items():
        print(f"{key}: {value}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


def summarise(rounds: list[dict]) -> dict:
    """Ratios this / baseline: per round and of the medians, for worker-seconds and CPU seconds (whole and steady)."""
    out = {}
    for measure in ("worker_s", "cpu_s", "steady_worker_s", "steady_cpu_s"):
        per_round = []
        for k in sorted({r["round"] for r in rounds}):
            pair = {r["tree"]: r[measure] for r in rounds if r["round"] == k}
            if len(pair) == 2 and pair["baseline"] and pair["this"]:
                per_round.append(round(pair["this"] / pair["baseline"], 3))
        values = {t: [r[measure] for r in rounds if r["tree"] == t and r[measure]] for t in ("baseline", "this")}
        if not all(values.values()):
            continue
        medians = {t: statistics.median(v) for t, v in values.items()}
        out[measure] = {"per_round": per_round, "median_baseline": round(medians["baseline"], 3),
                        "median_this": round(medians["this"], 3),
                        "ratio_of_medians": round(medians["this"] / medians["baseline"], 3)}
    return out


if __name__ == "__main__":
    raise SystemExit(main())
