"""No secret in reach: sandboxes start from a built environment, never the grader's.

A process keeps the environment block it was exec'd with in its memory (just
below getauxval(AT_EXECFN)), so clearing os.environ later is not enough: the
sandbox template (zygote) and spawned sandboxes are exec'd with
isolation.minimal_env(). These tests plant canary values in the grader's
environment and course configuration and show that no sandbox can find them
(memory, /proc, files) and that none appears anywhere under a batch's OUT.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import MINI, ROOT
from grader.sandbox import isolation
from grader.sandbox import zygote

LINUX = sys.platform.startswith("linux")
ATTACKS = ROOT / "tests" / "attacks"


def test_minimal_env_is_built_not_inherited(monkeypatch):
    monkeypatch.setenv("GRADE_CANARY_TOKEN", "canary-in-env")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "canary-aws")
    env = isolation.minimal_env({"EXTRA": "1"})
    assert "canary-in-env" not in str(env) and "canary-aws" not in str(env)
    assert env["EXTRA"] == "1" and env["LANG"] == "C.UTF-8" and env["OMP_NUM_THREADS"] == "1"
    assert set(env) <= {"PATH", "LANG", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "EXTRA",
                        *isolation.ENV_PASSTHROUGH}


@pytest.mark.skipif(not LINUX, reason="reads /proc/<pid>/environ")
def test_fresh_zygote_is_execd_without_the_graders_environment(monkeypatch):
    canary = "canary-" + secrets.token_hex(8)
    monkeypatch.setenv("GRADE_CANARY_TOKEN", canary)
    template = zygote.Zygote()
    template.ensure_running()
    try:
        with open(f"/proc/{template._proc.pid}/environ", "rb") as fh:
            block = fh.read()
        with open(f"/proc/{template._proc.pid}/cmdline", "rb") as fh:
            argv = fh.read()
    finally:
        os.close(template._alive_w)  # the zygote ends when its grader's pipe closes
        template._proc.wait(timeout=10)
        shutil.rmtree(template._dir, ignore_errors=True)
    names = {item.split(b"=", 1)[0].decode() for item in block.split(b"\0") if item}
    assert canary.encode() not in block and canary.encode() not in argv
    assert names <= {"PATH", "LANG", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "GRADE_ZYGOTE_TOKEN", *isolation.ENV_PASSTHROUGH}, names


def _submissions(root: Path) -> Path:
    subs = root / "subs"
    (subs / "envprobe").mkdir(parents=True)
    shutil.copy(ATTACKS / "secrets_env_memory" / "alpha.py", subs / "envprobe" / "alpha.py")
    shutil.copy(MINI / "solutions" / "beta.py", subs / "envprobe" / "beta.py")
    (subs / "honest").mkdir()
    for name in ("alpha.py", "beta.py"):
        shutil.copy(MINI / "solutions" / name, subs / "honest" / name)
    return subs


@pytest.mark.skipif(not LINUX, reason="the memory probe reads the Linux stack layout")
@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_canaries_unreachable_from_sandboxes_and_absent_from_out(start, tmp_path):
    """A batch run with canaries in its environment and course: the probe finds nothing, OUT holds none."""
    canary = "canary-" + secrets.token_hex(8)
    seed = "seed-canary-" + secrets.token_hex(8)
    course = tmp_path / "course"
    shutil.copytree(MINI, course, ignore=shutil.ignore_patterns("__pycache__"))
    (course / "autograder_tests" / "SEED").write_text(seed + "\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), GRADE_CANARY_TOKEN=canary, GRADE_CANARY_PASSWORD=canary,
               HOME="/root-canary-home-" + canary)
    if start == "spawn":
        env["GRADER_START"] = "spawn"
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", "from grader.cli import main; main()", "batch", str(_submissions(tmp_path)),
                           "-o", str(out), "-j", "1"], cwd=course, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    import csv

    with open(out / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"envprobe", "honest"}, rows
    assert float(rows["honest"]["total"]) > 0
    assert rows["envprobe"]["total"] == rows["honest"]["total"], rows  # the probe found nothing
    hits = []
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            words = (canary, seed) if path.suffix == ".py" else (canary, seed, "LEAK")  # .py: the probe's own copy
            hits += [f"{path}: {word}" for word in words if word.encode() in data]
    assert not hits, hits
    assert canary not in done.stdout + done.stderr


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_no_sandbox_process_keeps_a_canary(tmp_path):
    """While a sandbox runs, its exec'd block (/proc/<pid>/environ) has only the minimal variables."""
    from grader.trusted.remote import SandboxConfig, StudentSession

    canary = "canary-" + secrets.token_hex(8)
    code = ("import os, sys, time; sys.path.insert(0, %r); os.environ['GRADE_CANARY_TOKEN'] = %r\n"
            "from grader.trusted.remote import SandboxConfig, StudentSession\n"
            "from pathlib import Path\n"
            "s = StudentSession(SandboxConfig(submission_dir=Path(%r), files=()))\n"
            "s.request({'op': 'ping'}, 60, 'ping')\n"
            "print(s.proc.pid, flush=True)\n"
            "sys.stdin.read()\n"
            "s.close()\n") % (str(ROOT), canary, str(tmp_path))
    for start in ("fork", "spawn"):
        env = dict(os.environ, GRADER_START=start)
        proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                env=env, text=True)
        try:
            monitor = int(proc.stdout.readline())
            deadline = time.monotonic() + 5
            blocks = {}
            while time.monotonic() < deadline and len(blocks) < 1:
                for entry in os.listdir("/proc"):
                    if not entry.isdigit():
                        continue
                    try:
                        with open(f"/proc/{entry}/stat", "rb") as fh:
                            stat = fh.read()
                        if int(stat[stat.rfind(b")") + 2:].split()[2]) != monitor:
                            continue
                        with open(f"/proc/{entry}/environ", "rb") as fh:
                            blocks[entry] = fh.read()
                    except (OSError, ValueError, IndexError):
                        continue
            assert blocks, f"no process of the sandbox's group {monitor} found ({start})"
            for pid, block in blocks.items():
                assert canary.encode() not in block, (start, pid)
                assert b"HOME=" not in block and b"PWD=" not in block, (start, pid, block[:300])
        finally:
            proc.stdin.close()
            proc.wait(timeout=30)
