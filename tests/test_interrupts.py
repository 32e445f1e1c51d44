"""Ctrl-C or SIGTERM to `grade` ends every sandbox, prints one line, and shows no traceback.

The submission loops forever in a graded call, so a sandbox is busy when the
signal arrives. Afterwards no process of the run may remain: not the
grading child, the sandbox template, a monitor, nor the student process
(each found while it ran, by its parent chain and its process group).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import MINI, ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
GRADE = [sys.executable, "-c", "from grader.cli import main; main()"]
LOOP = ("import numpy as np\n\n\ndef scale(x, factor):\n    while True:\n        pass\n\n\n"
        "def total(x):\n    while True:\n        pass\n")


def _table() -> dict[int, tuple[int, int, int]]:
    """pid -> (ppid, pgrp, session)."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    stat = fh.read()
                fields = stat[stat.rfind(b")") + 2:].split()
                if fields[0] not in (b"Z", b"X"):
                    out[int(entry)] = (int(fields[1]), int(fields[2]), int(fields[3]))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _tree(top: int) -> tuple[set[int], set[int]]:
    """Descendants of ``top`` and the process groups they lead outside top's session."""
    table = _table()
    found, stack = set(), [top]
    while stack:
        parent = stack.pop()
        for pid, (ppid, _, _) in table.items():
            if ppid == parent and pid not in found:
                found.add(pid)
                stack.append(pid)
    session = table.get(top, (0, 0, 0))[2]
    groups = {table[p][1] for p in found if table[p][1] == p and table[p][2] != session}
    return found, groups


@pytest.mark.parametrize("command, start, how", [
    ("alpha", "fork", "ctrl-c"),
    ("alpha", "spawn", "sigterm"),
    ("batch", "fork", "sigterm"),
    ("batch", "spawn", "ctrl-c"),
])
def test_interrupt_ends_every_sandbox(command, start, how, tmp_path):
    sub = tmp_path / "subs" / "looper"
    sub.mkdir(parents=True)
    (sub / "alpha.py").write_text(LOOP)
    shutil.copy(MINI / "solutions" / "beta.py", sub / "beta.py")
    args = ["alpha", "--submission", str(sub)] if command == "alpha" else \
        ["batch", str(sub.parent), "-o", str(tmp_path / "out"), "-j", "1"]
    env = dict(os.environ, PYTHONPATH=str(ROOT), GRADER_START=start)
    proc = subprocess.Popen(GRADE + args, cwd=MINI, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # its own group: "Ctrl-C" signals exactly that group
    seen: set[int] = set()
    groups: set[int] = set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        found, leaders = _tree(proc.pid)
        seen |= found
        groups |= leaders
        if leaders:  # a sandbox (its own session) is running the endless loop
            time.sleep(0.5)
            found, leaders = _tree(proc.pid)
            seen |= found
            groups |= leaders
            break
        time.sleep(0.05)
    assert groups, "no sandbox started within 90 s"
    import glob
    import tempfile

    folders = os.path.join(tempfile.gettempdir(), f"grade-sbx-{proc.pid}-*")
    had_folders = bool(glob.glob(folders))
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    text = err.decode("utf-8", "replace")
    assert proc.returncode == (130 if how == "ctrl-c" else 143), (proc.returncode, text[-2000:])
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text[-3000:]
    lines = [line for line in text.splitlines() if line.strip()]
    assert len([line for line in lines if "Abgebrochen" in line or "Interrupted" in line]) == 1, text
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        table = _table()
        left = [p for p in seen if p in table] + [p for p, (_, g, _) in table.items() if g in groups]
        if not left:
            break
        time.sleep(0.05)
    assert not left, f"processes of the interrupted run survived: {left}"
    # `grade EXID` keeps sandbox folders in the temp dir, a batch in its own folder there: both removed
    assert had_folders, "the run's temp folder was not found while it ran"
    assert not glob.glob(folders), glob.glob(folders)
