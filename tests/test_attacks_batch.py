"""One batch with every attack submission and 20 honest ones (issue: hardening, done-when).

The batch must finish, grade each honest submission exactly as it is graded
alone, give every attack the verdict of its corpus entry, and leave no
sandbox process or sandbox folder behind.
"""
from __future__ import annotations

import csv
import glob
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from conftest import MINI, ROOT
from grader.trusted import runner
from test_attacks_corpus import CORPUS, _prepare

GRADE = [sys.executable, "-c", "from grader.cli import main; main()"]


def _sandbox_processes() -> list[int]:
    """Live processes of sandbox uids (zombies are already dead: only their exit status is left)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid < 100000:
                    continue
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    state = fh.read().rsplit(b")", 1)[1].split()[0]
                if state != b"Z":
                    pids.append(int(entry))
            except (OSError, IndexError):
                pass
    return pids


def test_attacks_and_honest_submissions_in_one_batch(mini, tmp_path):
    subs, out, decoy = tmp_path / "subs", tmp_path / "out", tmp_path / "decoy-output"
    decoy.mkdir()
    verdicts = {}
    for attack in sorted(p.name for p in CORPUS.iterdir() if (p / "verdict.json").is_file()):
        verdicts[f"attack-{attack}"] = _prepare(attack, subs / f"attack-{attack}", decoy)
    honest = {}
    for i in range(20):
        folder = subs / f"honest-{i:02d}"
        folder.mkdir(parents=True)
        source = MINI / ("solutions" if i % 3 else "exercises")          # references and stubs
        for name in ("alpha.py", "beta.py") if i % 4 else ("alpha.py",):
            shutil.copy(source / name, folder / name)
        honest[folder.name] = runner.grade(folder, ["alpha", "beta"], suite="all", course=mini)["score"]
    before = set(_sandbox_processes())
    sbx_before = set(glob.glob("/tmp/grade-sbx-*"))

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(GRADE + ["batch", str(subs), "-o", str(out), "--jobs", "2"], cwd=MINI, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert set(rows) == set(verdicts) | set(honest)
    for student, score in honest.items():
        assert float(rows[student]["total"]) == score, student
        assert rows[student]["status"] == "graded"
    for student, verdict in verdicts.items():
        record = (out / student / "grading.json").read_text()
        assert record, student
        expected_alpha = sum(v for k, v in verdict["parts"].items() if k.startswith("alpha."))
        if "alpha.b" in verdict["parts"] and "alpha.a" in verdict["parts"]:
            assert float(rows[student]["alpha"]) == expected_alpha, (student, rows[student])
    deadline = time.monotonic() + 5  # a killed process group may take a moment to disappear
    while not set(_sandbox_processes()) <= before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert set(_sandbox_processes()) <= before, "sandbox processes outlived the batch"
    assert set(glob.glob("/tmp/grade-sbx-*")) <= sbx_before, "sandbox folders left behind"
    assert not any(decoy.iterdir()), "an attack wrote into a folder outside its sandbox"
