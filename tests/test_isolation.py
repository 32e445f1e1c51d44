"""Unit tests of the sandbox's isolation layers (grader/sandbox/isolation.py).

Real-kernel tests run in forked children (they change uid, namespaces or
install seccomp, which cannot be undone) and report back over a pipe. The
seccomp program is also checked instruction by instruction with a tiny
classic-BPF interpreter, for both supported architectures.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from typing import Callable

import pytest

from grader.sandbox import isolation

LINUX = sys.platform.startswith("linux")
ROOT = LINUX and os.geteuid() == 0
NOBODY = 65534


def in_child(fn: Callable[[], dict], timeout: float = 20.0) -> dict:
    """Run ``fn`` in a forked child; return the dict it returns (or its error)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            out = fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            out = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(write_fd, json.dumps(out).encode())
        os._exit(0)
    os.close(write_fd)
    deadline = time.monotonic() + timeout
    chunks = []
    os.set_blocking(read_fd, False)
    while time.monotonic() < deadline:
        try:
            chunk = os.read(read_fd, 65536)
        except BlockingIOError:
            time.sleep(0.01)
            continue
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks) or b'{"error": "child sent nothing"}')


# -- seccomp, checked by interpretation ---------------------------------------------------------

def run_bpf(prog: list[tuple[int, int, int, int]], nr: int, arch: int, args: tuple[int, ...] = ()) -> int:
    """Evaluate a classic-BPF seccomp program on one syscall (only the opcodes we emit)."""
    data = {0: nr, 4: arch}
    for i, value in enumerate(args):
        data[16 + 8 * i] = value & 0xFFFFFFFF
    acc, pc = 0, 0
    for _ in range(10_000):
        code, jt, jf, k = prog[pc]
        pc += 1
        if code == isolation.LD_W_ABS:
            acc = data.get(k, 0)
        elif code == isolation.JEQ_K:
            pc += jt if acc == k else jf
        elif code == isolation.JGE_K:
            pc += jt if acc >= k else jf
        elif code == isolation.JSET_K:
            pc += jt if acc & k else jf
        elif code == isolation.JA:
            pc += k
        elif code == isolation.RET_K:
            return k
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")
    raise AssertionError("program did not return")


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_seccomp_program_decisions(arch):
    prog = isolation.seccomp_program(arch)
    col = 0 if arch == "x86_64" else 1
    audit = isolation.AUDIT_ARCH[arch]
    allow, eperm = isolation.RET_ALLOW, isolation.RET_ERRNO | errno.EPERM
    sock, clone = isolation.SYS_SOCKET[arch], isolation.SYS_CLONE[arch]
    assert len(prog) < 256
    for name, nrs in isolation.DENIED_SYSCALLS.items():
        if nrs[col] is not None:
            assert run_bpf(prog, nrs[col], audit) == eperm, name
    assert run_bpf(prog, sock, audit, (socket.AF_INET,)) == isolation.RET_ERRNO | errno.EAFNOSUPPORT
    assert run_bpf(prog, sock, audit, (socket.AF_INET6,)) == isolation.RET_ERRNO | errno.EAFNOSUPPORT
    assert run_bpf(prog, sock, audit, (17,)) == isolation.RET_ERRNO | errno.EAFNOSUPPORT  # AF_PACKET
    assert run_bpf(prog, sock, audit, (socket.AF_UNIX,)) == allow
    assert run_bpf(prog, clone, audit, (0x01200011,)) == allow  # what fork() passes
    assert run_bpf(prog, clone, audit, (0x01200011 | isolation.CLONE_NEWUSER,)) == eperm
    assert run_bpf(prog, isolation.SYS_CLONE3, audit) == isolation.RET_ERRNO | errno.ENOSYS
    assert run_bpf(prog, 0, audit) == allow and run_bpf(prog, 63, audit) == allow  # read / uname...
    assert run_bpf(prog, 0, 0x40000003) == eperm  # the i386 ABI (int 0x80) is refused
    if arch == "x86_64":
        assert run_bpf(prog, 0x40000000 + 101, audit) == eperm  # x32 ABI


@pytest.mark.skipif(not LINUX, reason="seccomp is Linux only")
def test_seccomp_in_a_real_process():
    def fork_and_wait() -> None:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)

    def child() -> dict:
        out = {"status": isolation.install_seccomp()}
        for name, fn in (("inet", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM)),
                         ("unix", socket.socketpair), ("setsid", os.setsid), ("fork", fork_and_wait)):
            try:
                fn()
                out[name] = "ok"
            except OSError as exc:
                out[name] = exc.errno
        return out

    out = in_child(child)
    if not out.get("status", "").startswith("on"):
        pytest.skip(f"seccomp not available here: {out}")
    assert out["inet"] == errno.EAFNOSUPPORT
    assert out["unix"] == "ok" and out["fork"] == "ok"
    assert out["setsid"] == errno.EPERM


# -- uid separation and cleanup -----------------------------------------------------------------

@pytest.mark.skipif(not ROOT, reason="needs root")
@pytest.mark.parametrize("with_group", [False, True], ids=["sweep", "group-check-first"])
def test_kill_uid_catches_a_double_forked_setsid_daemon(with_group):
    """With ``killed_group`` the sweep first checks /proc: a daemon outside that group must still die."""
    uid = isolation.UID_BASE + 900000 + os.getpid() % 50000 + with_group

    def child() -> dict:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.closerange(3, 4096)  # do not hold the result pipe open
                while True:
                    time.sleep(1)
            os._exit(0)
        os.wait()
        return {"started": True}

    assert in_child(child) == {"started": True}
    pids = _pids_of(uid)
    assert pids, "the daemon should be running before the kill"
    if with_group:
        own_group = os.getpgid(pids[0])
        assert not isolation._processes_outside_group(uid, own_group)
        assert isolation._processes_outside_group(uid, os.getpgid(0))
        isolation.kill_uid(uid, killed_group=os.getpgid(0))
    else:
        isolation.kill_uid(uid)
    deadline = time.monotonic() + 3
    while _pids_of(uid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _pids_of(uid)


def _pids_of(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as fh:
                    text = fh.read()
            except OSError:
                continue
            line = next((l for l in text.splitlines() if l.startswith("Uid:")), "")
            state = next((l for l in text.splitlines() if l.startswith("State:")), "")
            if line.split()[1:2] == [str(uid)] and "Z" not in state:
                pids.append(int(entry))
    return pids


@pytest.mark.skipif(not ROOT, reason="needs root")
def test_sandbox_uid_cannot_inspect_the_grader():
    """Another uid cannot read the trusted process's environment, memory or cwd (ptrace access)."""
    parent = os.getpid()

    def child() -> dict:
        uid = isolation.UID_BASE + 950000 + os.getpid() % 40000
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        out = {}
        for what in ("environ", "mem", "cwd"):
            try:
                if what == "cwd":
                    os.listdir(f"/proc/{parent}/cwd")
                else:
                    open(f"/proc/{parent}/{what}", "rb").read(16)
                out[what] = "readable"
            except OSError as exc:
                out[what] = exc.errno
        try:
            os.kill(parent, 0)
            out["signal"] = "allowed"
        except OSError as exc:
            out["signal"] = exc.errno
        return out

    out = in_child(child)
    assert out == {"environ": errno.EACCES, "mem": errno.EACCES, "cwd": errno.EACCES, "signal": errno.EPERM}


# -- the user-namespace path (grader not root) --------------------------------------------------

@pytest.mark.skipif(not ROOT, reason="needs root to become an unprivileged user for the test")
def test_unprivileged_user_namespace_path(monkeypatch):
    """As an ordinary user: network and mount namespaces, minimal root, no /proc.

    The interpreter of this machine lives under /root (mode 0700), which an
    ordinary user cannot read at all, so the child pretends the interpreter
    is the system one under /usr (which is what a non-root install needs).
    """
    work = tempfile.mkdtemp(prefix="grade-sbx-test-", dir="/tmp")
    try:
        with open(os.path.join(work, "alpha.py"), "w") as fh:
            fh.write("x = 1\n")
        os.chown(work, NOBODY, NOBODY)
        os.chown(os.path.join(work, "alpha.py"), NOBODY, NOBODY)

        def child() -> dict:
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            isolation._libc().prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: as a process started by that user
            monkeypatch.setattr(sys, "base_prefix", "/usr")
            monkeypatch.setattr(sys, "prefix", "/usr")
            spec = {"workdir": work, "hidden_paths": [], "disk_mb": 8}
            report = isolation.new_report()
            isolation._namespaces(spec, report)
            out = {"report": report, "workdir": spec["workdir"]}
            out["files"] = sorted(os.listdir(spec["workdir"])) if os.path.isdir(spec["workdir"]) else None
            out["sees_work_main"] = os.path.exists("/work") or os.path.exists("/root")
            out["proc"] = os.path.exists("/proc/1")
            s = socket.socket()
            s.settimeout(1)
            try:
                s.connect(("127.0.0.1", 22))
                out["net"] = "connected"
            except OSError as exc:
                out["net"] = exc.errno
            return out

        out = in_child(child)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if "error" in out or out["report"]["network"] == "shared":
        pytest.skip(f"user namespaces unavailable here: {out}")
    report = out["report"]
    assert report["filesystem"].startswith("minimal root"), report
    assert out["files"] == ["alpha.py"]
    assert not out["sees_work_main"]
    assert not out["proc"] and report["proc"] == "absent"
    assert out["net"] in (errno.ENETUNREACH, errno.ECONNREFUSED) and out["net"] == errno.ENETUNREACH


# -- reports on other operating systems (mocked) ------------------------------------------------

@pytest.mark.parametrize("platform_name, words", [("darwin", ["macOS", "RLIMIT_AS", "advisory"]),
                                                   ("win32", ["Windows", "time limit", "advisory"])])
def test_report_names_missing_protections_off_linux(monkeypatch, tmp_path, platform_name, words):
    monkeypatch.setattr(sys, "platform", platform_name)
    monkeypatch.setattr(isolation, "_close_fds", lambda fd: None)
    monkeypatch.setattr(isolation, "_quiet_stdio", lambda: None)
    monkeypatch.setattr(isolation, "_namespaces", lambda spec, report: pytest.fail("no namespaces off Linux"))
    cwd = os.getcwd()
    try:
        report = isolation.enter({"workdir": str(tmp_path)}, keep_fd=99)
    finally:
        os.chdir(cwd)
    assert report["network"] == "shared" and report["filesystem"] == "host" and report["seccomp"] == "off"
    assert not report["hidden_masked"] and not report["uid_drop"]
    note = " ".join(report["notes"])
    for word in words:
        assert word in note


def test_limits_without_resource_module_are_reported(monkeypatch):
    monkeypatch.setattr(isolation, "resource", None)
    report = isolation.new_report()
    isolation._limits({}, report)
    assert report["limits"] == {} and "no resource limits" in report["notes"][0]


def test_seccomp_unknown_architecture_is_reported(monkeypatch):
    monkeypatch.setattr(isolation.platform, "machine", lambda: "riscv64")
    assert isolation.install_seccomp() == "off: no filter for the riscv64 architecture"


def test_visible_trees_are_outermost_only():
    spec = {"course_paths": [sys.prefix, os.path.join(sys.prefix, "lib")], "expose": ["/nonexistent"]}
    trees = isolation.visible_trees(spec)
    assert os.path.realpath(sys.prefix) in trees
    assert os.path.realpath(os.path.join(sys.prefix, "lib")) not in trees
    assert "/nonexistent" not in trees
    assert len(trees) == len(set(trees))
