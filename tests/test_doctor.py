"""`grade doctor` and the check before hidden tests: what this host's sandbox walls are, read from a real sandbox.

Three hosts are produced on one machine: this one (namespaces), root without
CAP_SYS_ADMIN (`capsh`, as in Docker: no namespaces, but a uid change), and
a user namespace whose limit of nested namespaces is 0 (as on a host with
`user.max_user_namespaces=0` or a container that forbids unshare: neither
namespaces nor a uid change). In the last, `grade batch` refuses to run
hidden tests unless staff pass --allow-unisolated-hidden-tests.
"""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MINI, ROOT
from grader.trusted import doctor

LINUX = sys.platform.startswith("linux")
GRADE = [sys.executable, "-c", "from grader.cli import main; main()"]
ROOT_ONLY = pytest.mark.skipif(not LINUX or os.geteuid() != 0, reason="needs root to build the other hosts")


def _run(args: list[str], wrap: str = "", cwd: Path = MINI, extra: dict | None = None) -> subprocess.CompletedProcess:
    """Run `grade ARGS` here, under capsh (wrap="capsh") or without nested namespaces (wrap="no-userns")."""
    import shlex

    env = dict(os.environ, PYTHONPATH=str(ROOT), **(extra or {}))
    cmd = " ".join(shlex.quote(c) for c in GRADE + args)
    if wrap == "capsh":
        full = ["capsh", "--drop=cap_sys_admin", "--", "-c", cmd]
    elif wrap == "no-userns":
        full = ["unshare", "-U", "-r", "sh", "-c", f"echo 0 > /proc/sys/user/max_user_namespaces && exec {cmd}"]
    else:
        full = GRADE + args
    return subprocess.run(full, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_render_is_german_and_says_what_it_means():
    walled = {"filesystem": "minimal root (...)", "network": "namespace (no interfaces up)", "ipc": "namespace",
              "seccomp": "on (x86_64: ...)", "proc": "absent", "uid_drop": True, "real_root": True,
              "leftovers": {"checked": True, "clean": True}, "notes": []}
    text = doctor.render(walled)
    assert "Schutzwände" in text and "abgeschottet" in text and "Ihr Code" in text
    assert " du " not in text and " dein" not in text
    open_host = {"filesystem": "host", "network": "shared", "ipc": "shared", "seccomp": "on (...)", "proc": "host",
                 "uid_drop": False, "leftovers": {"checked": True, "clean": True}, "notes": []}
    assert "nicht ausgeführt" in doctor.render(open_host)
    assert doctor.hidden_tests_walled(walled)[0] and not doctor.hidden_tests_walled(open_host)[0]
    guarded = dict(open_host, uid_drop=True, guarded=["/x/autograder_tests"], secrets_reachable=[])
    assert doctor.hidden_tests_walled(guarded)[0]
    assert not doctor.hidden_tests_walled(dict(guarded, secrets_reachable=["/x/autograder_tests"]))[0]


@pytest.mark.skipif(not LINUX, reason="Linux walls")
def test_doctor_here_reports_the_real_sandbox():
    done = _run(["doctor"])
    assert done.returncode == 0, done.stderr
    assert "Schutzwände der Sandbox" in done.stdout and "Dateisystem (Mount-Namespace): ja" in done.stdout
    assert "IPC (IPC-Namespace):           ja" in done.stdout, done.stdout
    as_json = _run(["doctor", "--json"])
    import json

    report = json.loads(as_json.stdout)
    assert report["leftovers"]["clean"] and report["ipc"].startswith("namespace"), report


@ROOT_ONLY
@pytest.mark.skipif(shutil.which("capsh") is None, reason="needs capsh")
def test_doctor_under_capsh_closes_secret_folders():
    done = _run(["doctor", "--json"], wrap="capsh")
    assert done.returncode == 0, done.stderr
    import json

    report = json.loads(done.stdout)
    assert report["network"] == "shared" and report["uid_drop"] is True, report
    assert str(MINI / "autograder_tests") in report["guarded"] and report["secrets_reachable"] == [], report
    assert doctor.hidden_tests_walled(report)[0]
    text = _run(["doctor"], wrap="capsh").stdout
    assert "Eigene Benutzerkennung:        ja" in text and "Verdeckte Tests dürfen hier laufen" in text, text


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-U", "-r", "true"], capture_output=True).returncode == 0


@ROOT_ONLY
def test_no_walls_refuses_hidden_tests_unless_allowed(tmp_path):
    if not _unshare_works():
        pytest.skip("unshare -U is refused here, so the no-namespace host cannot be built")
    text = _run(["doctor"], wrap="no-userns").stdout
    assert "Dateisystem (Mount-Namespace): nein" in text and "Eigene Benutzerkennung:        nein" in text, text
    assert "nicht ausgeführt" in text
    subs = tmp_path / "subs"
    (subs / "s1").mkdir(parents=True)
    for name in ("alpha.py", "beta.py"):
        shutil.copy(MINI / "solutions" / name, subs / "s1" / name)
    refused = _run(["batch", str(subs), "-o", str(tmp_path / "out"), "-j", "1"], wrap="no-userns")
    assert refused.returncode != 0 and "--allow-unisolated-hidden-tests" in refused.stderr, refused.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()
    allowed = _run(["batch", str(subs), "-o", str(tmp_path / "out"), "-j", "1", "--allow-unisolated-hidden-tests"],
                   wrap="no-userns")
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    with open(tmp_path / "out" / "grades.csv", newline="", encoding="utf-8") as fh:
        assert float(next(csv.DictReader(fh))["total"]) > 0
