"""Sharded batches merged equal one unsharded batch: grades.csv byte for byte, records but for timestamps."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import MINI
from test_batch import make_dir_layout, run_grade

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
VOLATILE = ("created", "duration", "uid")  # when, how long, which sandbox uid


def _normalise(value):
    """A record without wall-clock facts (timestamps, durations), for comparing two gradings."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _records(out: Path) -> dict[str, dict]:
    return {p.parent.name: _normalise(json.loads(p.read_text(encoding="utf-8"))) for p in out.glob("*/grading.json")}


@pytest.fixture(scope="module")
def unsharded(tmp_path_factory):
    root = tmp_path_factory.mktemp("plain")
    subs = make_dir_layout(root)
    for i in range(6, 10):  # a few more, so that three shards each get several
        shutil.copytree(subs / "s001", subs / f"s{i:03d}")
    out = root / "out"
    proc = run_grade(["batch", str(subs), "-o", str(out), "--jobs", "2"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return subs, out


@pytest.mark.parametrize("count", [1, 2, 3])
def test_merged_shards_equal_the_unsharded_batch(unsharded, tmp_path, count):
    subs, plain = unsharded
    shard_dirs = []
    for index in range(count):
        out = tmp_path / f"shard-{index}"
        proc = run_grade(["batch", str(subs), "-o", str(out), "--shard", f"{index}/{count}", "--jobs", "1"])
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert not (out / "grades.csv").exists() and not (out / "summary.html").exists()
        manifest = json.loads((out / "shard.json").read_text())
        assert manifest["shard"] == f"{index}/{count}"
        shard_dirs.append(out)
    graded = [json.loads((d / "shard.json").read_text())["graded"] for d in shard_dirs]
    assert sorted(s for g in graded for s in g) == sorted(json.loads((shard_dirs[0] / "shard.json").read_text())
                                                          ["students"])
    if count > 1:
        assert all(graded), "every shard got work"
    final = tmp_path / "final"
    proc = run_grade(["merge", *map(str, shard_dirs), "-o", str(final)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (final / "grades.csv").read_bytes() == (plain / "grades.csv").read_bytes()
    assert (final / "parts.csv").read_bytes() == (plain / "parts.csv").read_bytes()
    assert _records(final) == _records(plain)
    for student in _records(plain):
        assert (final / student / "feedback.html").is_file()


def test_merge_refuses_duplicates_and_names_missing_students(unsharded, tmp_path):
    subs, _ = unsharded
    outs = []
    for index in (0, 1):
        out = tmp_path / f"shard-{index}"
        assert run_grade(["batch", str(subs), "-o", str(out), "--shard", f"{index}/3", "--jobs", "1"]).returncode == 0
        outs.append(out)
    proc = run_grade(["merge", str(outs[0]), str(outs[1]), "-o", str(tmp_path / "final")])
    assert proc.returncode != 0
    missing = set(json.loads((outs[0] / "shard.json").read_text())["students"]) \
        - {s for o in outs for s in json.loads((o / "shard.json").read_text())["graded"]}
    assert missing and all(s in proc.stderr for s in missing) and "shards not given: 2" in proc.stderr
    proc = run_grade(["merge", str(outs[0]), str(outs[0]), "-o", str(tmp_path / "final")])
    assert proc.returncode != 0 and "twice" in proc.stderr
    copy = tmp_path / "copy-of-0"
    shutil.copytree(outs[0], copy)
    proc = run_grade(["merge", str(outs[0]), str(copy), str(outs[1]), "-o", str(tmp_path / "final")])
    assert proc.returncode != 0 and "twice" in proc.stderr
    proc = run_grade(["merge", str(outs[0]), str(outs[1]), "-o", str(tmp_path / "final"), "--allow-missing"])
    assert proc.returncode == 0, proc.stderr
    assert all(s in (tmp_path / "final" / "grades.csv").read_text() for s in missing)


def test_bad_shard_spec_is_a_usage_error(tmp_path):
    proc = run_grade(["batch", str(tmp_path), "-o", str(tmp_path / "o"), "--shard", "3/3"])
    assert proc.returncode == 2 and "0 <= I < N" in proc.stderr
