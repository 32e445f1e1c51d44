"""The benchmark scripts run end to end on three tiny submissions and write their JSON.

No timing asserts (the machine is shared); only that every phase ran, graded
what it was given and reported the numbers the README quotes.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_benchmark_runs_end_to_end_and_writes_its_keys(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--n", "3", "--jobs", "2", "--exercises", "ex39",
         "--cli-exercise", "ex39", "--reps", "1", "--out", str(out), "--work", str(tmp_path / "work")],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    for key in ("machine", "corpus", "ours", "naive", "floor", "ratios", "cli", "targets", "load_start", "load_end"):
        assert key in result, key
    assert result["machine"]["cores"] >= 1 and result["machine"]["torch"]
    assert sum(result["corpus"]["kinds"].values()) == 3
    ours, naive = result["ours"], result["naive"]
    assert ours["exit_code"] == 0 and ours["graded"] == 3 and ours["tests"] > 0, ours["stderr_tail"]
    assert ours["peak_memory"]["samples"] > 0 and ours["peak_memory"]["pss_sum_bytes"] > 0
    assert naive["submissions"] == 3 and naive["call_phase_sum_s"] > 0
    assert naive["peak_memory"]["rss_sum_bytes"] > 0
    assert result["agreement"]["compared"] == 3
    assert result["ratios"]["naive_over_ours"] > 0 and result["ratios"]["ours_over_floor"] > 0
    assert result["cli"]["grade_exit_codes"] == [0] and result["cli"]["ratio"] > 0
    assert set(result["targets"]) >= {"batch_300_under_60s", "peak_memory_under_2GB", "naive_at_least_8x",
                                      "at_most_2x_floor", "grade_ex_at_most_2x_import"}
    assert "ours:" in proc.stdout and "ratios:" in proc.stdout


def test_corpus_mixes_kinds_and_injects_into_the_named_function(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import corpus
        from grader import course as course_mod

        source = 'def f(x):\n    """Doc."""\n    return x\n\n\ndef g():\n    return 1\n'
        injected = corpus.inject(source, "g", "while True: pass")
        assert injected.splitlines()[6] == "    while True: pass" and "def f(x):\n    \"\"\"Doc" in injected
        compile(injected, "<injected>", "exec")
        manifest = corpus.generate(course_mod.load(ROOT), tmp_path / "subs", 40, seed=1, exercises=["ex38", "ex39"])
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    kinds = manifest["kinds"]
    assert kinds["correct"] > kinds["wrong"] > 0 and kinds.get("timeout", 0) >= 1
    assert kinds.get("crash_import", 0) + kinds.get("crash_exit", 0) > 0
    assert len(list((tmp_path / "subs").iterdir())) == 40
    assert all((tmp_path / "subs" / s / "ex39_rnn_gradients.py").is_file() for s in manifest["students"])


def test_per_exercise_grades_reference_and_stub_as_batch_does(tmp_path: Path) -> None:
    out = tmp_path / "per_exercise.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "per_exercise.py"), "--reps", "1", "--only", "ex39", "--no-all",
         "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = json.loads(out.read_text())["runs"]
    assert set(runs) == {"reference/ex39", "stub/ex39"}
    reference, stub = runs["reference/ex39"]["median"], runs["stub/ex39"]["median"]
    assert reference["score"] == 3.0 and stub["score"] == 0.0      # the points of course.toml, and none
    for row in (reference, stub):
        assert row["starts"] == 1 and row["tests"] > 0             # one sandbox, public then hidden tests ran
        assert row["wall_s"] > 0 and row["grading_cpu_s"] > 0 and row["sandbox_cpu_s"] >= 0


def test_course_cost_ratios_pair_rounds_and_skip_missing_steady_state() -> None:
    """course_cost.summarise: per-round ratios this / baseline and the ratio of the medians."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("course_cost", ROOT / "benchmarks" / "course_cost.py")
    course_cost = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course_cost)
    rounds = [{"round": k, "tree": tree, "worker_s": w, "cpu_s": c, "steady_worker_s": None, "steady_cpu_s": s}
              for k, tree, w, c, s in [(0, "baseline", 4.0, 2.0, 1.0), (0, "this", 6.0, 2.6, 1.3),
                                       (1, "baseline", 5.0, 2.5, 1.2), (1, "this", 5.0, 3.0, 1.5)]]
    ratios = course_cost.summarise(rounds)
    assert ratios["cpu_s"]["per_round"] == [1.3, 1.2]
    assert ratios["cpu_s"]["ratio_of_medians"] == round(2.8 / 2.25, 3)
    assert ratios["worker_s"]["per_round"] == [1.5, 1.0]
    assert "steady_worker_s" not in ratios          # no steady state measured: no made-up ratio
    assert ratios["steady_cpu_s"]["per_round"] == [1.3, 1.25]
