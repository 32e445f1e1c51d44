"""Without fork (GRADER_START=spawn, as on Windows): the same grades and messages as the forked path."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MINI, ROOT, grade_sources, part_scores
from grader.trusted import runner
from grader.sandbox import spawn
from test_batch import make_dir_layout, rows

#: Submissions of the mini course that exercise every way a call can end.
ALPHA_VARIANTS = {
    "reference": (MINI / "solutions" / "alpha.py").read_text(),
    "crash": "import os\n\ndef scale(x, factor):\n    os._exit(3)\n\ndef total(x):\n    return float(x.sum())\n",
    "endless": "def scale(x, factor):\n    while True:\n        pass\n\ndef total(x):\n    return float(x.sum())\n",
    "raises": "def scale(x, factor):\n    raise ValueError('nope')\n\ndef total(x):\n    return 1.0\n",
}


def _outcome(result: dict) -> dict:
    """Scores and student-facing messages: what must not depend on how processes start."""
    return {t["id"]: (t["status"], t["message"]) for ex in result["exercises"] for p in ex["parts"]
            for t in p["tests"]} | {"scores": part_scores(result)}


@pytest.mark.parametrize("variant", sorted(ALPHA_VARIANTS))
def test_spawned_sandboxes_grade_like_forked_ones(mini, tmp_path, monkeypatch, variant):
    sources = {"alpha.py": ALPHA_VARIANTS[variant]}
    forked = grade_sources(mini, tmp_path / "fork", sources, ["alpha"])
    monkeypatch.setenv("GRADER_START", "spawn")
    assert not spawn.fork_available()
    spawned_result = grade_sources(mini, tmp_path / "spawn", sources, ["alpha"])
    assert _outcome(spawned_result) == _outcome(forked)


def test_spawned_crash_names_the_exit_status(mini, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_START", "spawn")
    result = grade_sources(mini, tmp_path / "s", {"alpha.py": ALPHA_VARIANTS["crash"]}, ["alpha"])
    messages = " ".join(t["message"] for ex in result["exercises"] for p in ex["parts"] for t in p["tests"])
    assert "endete mit dem Status 3" in messages


def test_describe_returncode_matches_the_monitors_words():
    from grader.sandbox.zygote import describe_status

    assert spawn.describe_returncode(-9) == describe_status(9)
    assert spawn.describe_returncode(3) == describe_status(3 << 8)
    assert "SIGSEGV" in spawn.describe_returncode(-11)


def test_batch_without_fork_gives_the_same_grades(tmp_path):
    subs = make_dir_layout(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    grade = [sys.executable, "-c", "from grader.cli import main; main()", "batch"]
    results = {}
    for mode in ("fork", "spawn"):
        run_env = dict(env, GRADER_START=mode)
        out = tmp_path / f"out-{mode}"
        proc = subprocess.run(grade + [str(subs), "-o", str(out), "--jobs", "2"], cwd=MINI, env=run_env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        results[mode] = {s: {k: v for k, v in r.items() if k != "graded_at"}
                         for s, r in rows(out / "grades.csv").items()}
        records = {p.parent.name: json.loads(p.read_text())["exercises"] for p in out.glob("*/grading.json")}
        results[mode + "-records"] = {s: [(e["id"], e["score"]) for e in ex] for s, ex in records.items()}
    assert results["spawn"] == results["fork"]
    assert results["spawn-records"] == results["fork-records"]
    assert len(results["fork"]) == 5


def test_no_template_process_is_started_without_fork():
    code = ("from grader.trusted import runner; from grader.sandbox import zygote; runner.prepare_trusted(); "
            "print('started' if zygote.get()._proc is not None else 'none')")
    env = dict(os.environ, PYTHONPATH=str(ROOT), GRADER_START="spawn")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.stdout.strip() == "none", proc.stderr[-2000:]
    proc = subprocess.run([sys.executable, "-c", code], env=dict(env, GRADER_START="fork"), capture_output=True,
                          text=True, timeout=300)
    assert proc.stdout.strip() == "started", proc.stderr[-2000:]
