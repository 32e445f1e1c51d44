"""Nothing shared between sandboxes, nothing outlives one: IPC namespaces, seccomp, the leftover sweep.

Each sandbox gets its own IPC namespace (SysV IPC and POSIX message queues);
where no namespace can be had, seccomp refuses those calls, and in the host
view (no namespaces) also chmod/umask/xattrs and Unix-socket bind/connect,
so files and sockets cannot carry data between sandboxes. After every
sandbox the trusted side looks for processes, SysV IPC objects and files of
its uid and records the result as report["leftovers"].
"""
from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MINI, ROOT, part_scores
from grader.sandbox import isolation
from grader.trusted import runner
from test_isolation import in_child, run_bpf

LINUX = sys.platform.startswith("linux")
ATTACKS = ROOT / "tests" / "attacks"
IPC_CALLS = ("shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semctl", "semtimedop", "msgget", "msgsnd",
             "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify",
             "mq_getsetattr")


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_seccomp_denies_sysv_ipc_and_mqueues(arch):
    col = 0 if arch == "x86_64" else 1
    audit, eperm = isolation.AUDIT_ARCH[arch], isolation.RET_ERRNO | errno.EPERM
    for host_view in (False, True):
        prog = isolation.seccomp_program(arch, host_view=host_view)
        assert len(prog) < 256
        for name in IPC_CALLS:
            assert run_bpf(prog, isolation.DENIED_SYSCALLS[name][col], audit) == eperm, (name, host_view)
        for name, nrs in isolation.HOST_VIEW_DENIED.items():
            if nrs[col] is None:
                continue
            expected = eperm if host_view else isolation.RET_ALLOW
            assert run_bpf(prog, nrs[col], audit) == expected, (name, host_view)


@pytest.mark.skipif(not LINUX, reason="seccomp is Linux only")
def test_host_view_filter_in_a_real_process(tmp_path):
    """shmget, chmod and bind fail with EPERM; ordinary files and socketpairs still work."""
    def child() -> dict:
        import ctypes
        import socket

        os.umask(0o077)
        status = isolation.install_seccomp(host_view=True)
        libc = ctypes.CDLL(None, use_errno=True)
        out = {"status": status, "shmget": libc.shmget(0, 4096, 0o1000 | 0o666), "errno": ctypes.get_errno()}
        path = tmp_path / "f"
        path.write_text("x")
        out["mode"] = oct(path.stat().st_mode & 0o777)
        try:
            os.chmod(path, 0o666)
            out["chmod"] = "allowed"
        except PermissionError:
            out["chmod"] = "denied"
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.bind(b"\0grade-test-ipc")
            out["bind"] = "allowed"
        except PermissionError:
            out["bind"] = "denied"
        a, b = socket.socketpair()
        a.sendall(b"ok")
        out["pair"] = b.recv(2).decode()
        return out

    out = in_child(child)
    if not str(out.get("status", "")).startswith("on"):
        pytest.skip(f"seccomp not available here: {out}")
    assert out["shmget"] == -1 and out["errno"] == errno.EPERM, out
    assert out["mode"] == "0o600" and out["chmod"] == "denied" and out["bind"] == "denied", out
    assert out["pair"] == "ok", out


def _sysvipc() -> dict[str, list[str]]:
    rows = {}
    for kind in ("shm", "sem", "msg"):
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                rows[kind] = sorted(line.split()[0] for line in fh.readlines()[1:] if line.strip())
        except OSError:
            rows[kind] = []
    return rows


def _attack_submission(name: str, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for src in (ATTACKS / name).iterdir():
        if src.suffix == ".py":
            shutil.copy(src, folder / src.name)
    for ref in ("alpha.py", "beta.py"):
        if not (folder / ref).exists():
            shutil.copy(MINI / "solutions" / ref, folder / ref)
    return folder


@pytest.mark.skipif(not LINUX, reason="SysV IPC bookkeeping is read from /proc/sysvipc")
@pytest.mark.parametrize("attack", ["ipc_sysv_shm_leave", "ipc_stash_across_sandboxes"])
def test_ipc_attacks_leave_nothing_and_find_nothing(attack, mini, tmp_path):
    before = _sysvipc()
    result = runner.grade(_attack_submission(attack, tmp_path / "sub"), ["alpha", "beta"], suite="all", course=mini)
    assert "LEAK" not in str(result)
    assert part_scores(result) == {"alpha.a": 1.0, "alpha.b": 2.0, "alpha.essay": 0.0, "beta.count": 1.0}, \
        part_scores(result)
    assert _sysvipc() == before
    report = result["isolation"]
    assert report["ipc"].startswith("namespace") or "SysV IPC" in report["seccomp"], report
    assert report["leftovers"]["checked"] and report["leftovers"]["remaining"] == {"processes": 0, "ipc": 0,
                                                                                   "files": 0}, report
    for path in ("/tmp/grade-stash", "/var/tmp/grade-stash", "/dev/shm/grade-stash"):
        assert not os.path.exists(path), path


@pytest.mark.skipif(not LINUX or os.geteuid() != 0, reason="needs root to act as a sandbox uid")
def test_sweep_finds_and_removes_what_a_sandbox_uid_left():
    """Processes, SysV segments and temp files of a sandbox uid are found, counted and removed."""
    import tempfile

    uid = isolation.UID_BASE + 4242
    tmp_path = Path(tempfile.mkdtemp(prefix="grade-sweep-test-", dir="/tmp"))
    os.chmod(tmp_path, 0o777)
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # a "sandbox" that leaves a segment, a file and a sleeping daemon
        try:
            import ctypes

            os.setsid()
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            libc = ctypes.CDLL(None, use_errno=True)
            libc.shmget(0, 1 << 20, 0o1000 | 0o600)
            with open(tmp_path / "left-behind", "w") as fh:
                fh.write("x")
            os.write(ready_w, b"1")
            os.execv("/bin/sleep", ["sleep", "60"])
        finally:
            os._exit(1)
    os.close(ready_w)
    assert os.read(ready_r, 1) == b"1", "the stand-in sandbox could not set up its leftovers"
    record = isolation.sweep(uid, None, folders=[str(tmp_path)], wait=0.0)
    assert record["found"] == {"processes": 1, "ipc": 1, "files": 1}, record
    assert record["remaining"] == {"processes": 0, "ipc": 0, "files": 0}, record
    assert not record["clean"]
    os.waitpid(pid, 0)
    assert isolation.sweep(uid, None, folders=[str(tmp_path)], wait=0.0)["clean"]
    shutil.rmtree(tmp_path)


@pytest.mark.skipif(not LINUX or os.geteuid() != 0 or shutil.which("capsh") is None,
                    reason="needs root and capsh to drop CAP_SYS_ADMIN")
def test_ipc_attacks_without_namespaces():
    """As in Docker (no CAP_SYS_ADMIN, so no namespaces): seccomp and the sweep keep sandboxes apart."""
    code = ("import sys; sys.path[:0] = ['tests', '.']; import conftest, runpy; "
            "sys.exit(__import__('pytest').main(['-q', '-p', 'no:cacheprovider', 'tests/test_ipc.py', "
            "'-k', 'leave_nothing']))")
    done = subprocess.run(["capsh", "--drop=cap_sys_admin", "--", "-c", f'{sys.executable} -c "{code}"'],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_signals_are_scoped_without_a_uid_of_its_own(arch):
    """Non-root: kill() reaches only the sandbox's own group or itself; kill(-1) and other pids get EPERM."""
    col = 0 if arch == "x86_64" else 1
    audit, eperm, allow = isolation.AUDIT_ARCH[arch], isolation.RET_ERRNO | errno.EPERM, isolation.RET_ALLOW
    kill, tgkill = isolation.SIGNAL_GROUP_CALLS["kill"][col], isolation.SIGNAL_SELF_CALLS["tgkill"][col]
    scoped = isolation.seccomp_program(arch, signal_scope=(4321, 4300))
    assert len(scoped) < 256
    for pid in (0, 4321, -4300):
        assert run_bpf(scoped, kill, audit, (pid, 9)) == allow, pid
    for pid in (-1, 1, 4300, 4322, -4321, 99999):
        assert run_bpf(scoped, kill, audit, (pid, 9)) == eperm, pid
    assert run_bpf(scoped, tgkill, audit, (4321, 4321, 6)) == allow
    assert run_bpf(scoped, tgkill, audit, (4300, 4300, 9)) == eperm
    unscoped = isolation.seccomp_program(arch)  # with a uid of its own, the kernel's checks suffice
    assert run_bpf(unscoped, kill, audit, (-1, 9)) == allow
