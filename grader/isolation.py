"""Operating-system walls around the sandbox process (Linux first, others degrade).

Called in the sandbox child before any student code runs. Layers, each
recorded in the returned report so a run says which protections were on:

- own session/process group, so the grader can kill everything it started;
- only the channel's file descriptor stays open; stdio goes to /dev/null;
- new mount and network namespaces (root, or an unprivileged user namespace):
  hidden tests, solutions, secret data and forbidden packages are covered by
  empty read-only tmpfs mounts, so they are absent from view, and the only
  network interface is a downed loopback;
- resource limits: address space, CPU seconds, file size, open files, core
  dumps, and processes (effective once the uid is unprivileged);
- a fresh unprivileged uid per sandbox when running as root (uid 100000+pid),
  so RLIMIT_NPROC counts per sandbox and a leftover process can be found and
  killed by uid;
- an empty private working directory and a scrubbed environment.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from typing import Any

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
UID_BASE = 100000


def _libc() -> Any:
    return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def enter(spec: dict, keep_fd: int) -> dict:
    """Wall in the current process per ``spec``; return what was achieved."""
    report: dict = {"platform": sys.platform, "uid_drop": False, "network": "shared",
                    "hidden_masked": False, "limits": {}, "notes": []}
    if hasattr(os, "setsid"):
        os.setsid()
    _close_fds(keep_fd)
    _quiet_stdio()
    workdir = spec["workdir"]
    if sys.platform.startswith("linux"):
        _namespaces(spec, report)
    else:
        report["notes"].append("no namespaces on this OS: hidden files and network are not walled off")
    os.chdir(workdir)
    return report


def drop_privileges(spec: dict, report: dict) -> None:
    """Resource limits, then (as root) a fresh uid; call after preloading modules."""
    _limits(spec, report)
    if hasattr(os, "geteuid") and os.geteuid() == 0 and spec.get("drop_uid", True):
        uid = UID_BASE + os.getpid()
        for dirpath, dirnames, filenames in os.walk(spec["workdir"]):
            os.chown(dirpath, uid, uid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), uid, uid)
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        report["uid_drop"] = True
        report["uid"] = uid
    elif hasattr(os, "geteuid") and os.geteuid() != 0:
        report["notes"].append("grader not run as root: student code runs as the same user")
    os.environ.clear()
    os.environ.update({
        "PATH": "/usr/bin:/bin", "HOME": spec["workdir"], "TMPDIR": spec["workdir"],
        "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    })


def _close_fds(keep_fd: int) -> None:
    try:
        maxfd = os.sysconf("SC_OPEN_MAX")
    except (AttributeError, ValueError, OSError):
        maxfd = 1024
    os.closerange(3, keep_fd)
    os.closerange(keep_fd + 1, min(maxfd, 65536))


def _quiet_stdio() -> None:
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _namespaces(spec: dict, report: dict) -> None:
    libc = _libc()
    root = os.geteuid() == 0
    flags = CLONE_NEWNS | CLONE_NEWNET | (0 if root else CLONE_NEWUSER)
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(flags) != 0:
        report["notes"].append(f"namespaces unavailable (errno {ctypes.get_errno()}): "
                               "hidden files rely on file permissions, network is not cut")
        return
    if not root:
        try:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"0 {uid} 1")
            _write("/proc/self/gid_map", f"0 {gid} 1")
        except OSError as exc:
            report["notes"].append(f"user namespace mapping failed: {exc}")
            return
    report["network"] = "namespace (no interfaces up)"
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        report["notes"].append(f"could not make mounts private (errno {ctypes.get_errno()})")
        return
    _expose(libc, spec, report)
    masked = []
    for path in spec.get("mask", []):
        if not os.path.isdir(path):
            continue
        rc = libc.mount(b"tmpfs", os.fsencode(path), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
                        b"size=4k,mode=0555")
        if rc == 0:
            masked.append(path)
        else:
            report["notes"].append(f"could not hide {path} (errno {ctypes.get_errno()})")
    report["hidden_masked"] = len(masked) == len([p for p in spec.get("mask", []) if os.path.isdir(p)])
    report["masked"] = masked


def _blocked_ancestor(path: str) -> str | None:
    """The topmost ancestor of ``path`` that other users cannot traverse, if any."""
    import stat

    parts = os.path.abspath(path).split(os.sep)
    for i in range(2, len(parts) + 1):
        folder = os.sep.join(parts[:i]) or os.sep
        try:
            mode = os.stat(folder).st_mode
        except OSError:
            return None
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            return folder
    return None


def _expose(libc: Any, spec: dict, report: dict) -> None:
    """Make the interpreter and course code readable to the unprivileged uid.

    Where Python lives under a private folder (e.g. /root, mode 0700), the
    sandbox's uid could not import lazily loaded modules. Inside the private
    mount namespace the private folder is covered with an empty tmpfs and only
    the needed trees are bound back, read-only: the student sees the
    interpreter, not the rest of that folder.
    """
    needed = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, *spec.get("course_paths", ()),
                                            *spec.get("expose", ())) if p and os.path.isdir(p)}
    covers: dict[str, list[str]] = {}
    for path in sorted(needed):
        top = _blocked_ancestor(path)
        if top is not None:
            covers.setdefault(top, []).append(path)
    stage = os.path.join(spec["workdir"], ".stage")
    for top, paths in covers.items():
        staged = []
        for i, path in enumerate(paths):
            target = f"{stage}{i}"
            os.makedirs(target, exist_ok=True)
            if libc.mount(os.fsencode(path), os.fsencode(target), None, MS_BIND | MS_REC, None) != 0:
                report["notes"].append(f"could not expose {path} (errno {ctypes.get_errno()})")
                continue
            staged.append((path, target))
        if libc.mount(b"tmpfs", os.fsencode(top), b"tmpfs", MS_NOSUID | MS_NODEV, b"size=64k,mode=0755") != 0:
            report["notes"].append(f"could not cover {top} (errno {ctypes.get_errno()})")
            continue
        for path, target in staged:
            os.makedirs(path, mode=0o755, exist_ok=True)
            libc.mount(os.fsencode(target), os.fsencode(path), None, MS_MOVE, None)
            libc.mount(b"none", os.fsencode(path), None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, None)
            os.rmdir(target)
        libc.mount(b"none", os.fsencode(top), None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None)
        report.setdefault("covered", []).append(top)


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def _limits(spec: dict, report: dict) -> None:
    if resource is None:
        report["notes"].append("no resource limits on this OS (memory and CPU are only watched by time)")
        return
    mem = int(spec.get("memory_mb", 2048)) * 2**20
    wanted = {
        "RLIMIT_AS": mem,
        "RLIMIT_CPU": int(spec.get("cpu_seconds", 600)),
        "RLIMIT_FSIZE": int(spec.get("file_bytes", 64 * 2**20)),
        "RLIMIT_NOFILE": int(spec.get("open_files", 64)),
        "RLIMIT_CORE": 0,
        "RLIMIT_NPROC": int(spec.get("processes", 32)),
    }
    for name, value in wanted.items():
        res = getattr(resource, name, None)
        if res is None:
            continue
        try:
            resource.setrlimit(res, (value, value))
            report["limits"][name] = value
        except (ValueError, OSError) as exc:
            report["notes"].append(f"{name} not set: {exc}")


def kill_uid(uid: int) -> None:
    """Kill every process that runs as ``uid`` (leftovers of a sandbox), as root.

    A short-lived child takes the uid and signals everything it may signal,
    which is exactly the processes of that uid.
    """
    if not hasattr(os, "fork") or os.geteuid() != 0:
        return
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, 9)
        except BaseException:
            pass
        os._exit(0)
    os.waitpid(pid, 0)
