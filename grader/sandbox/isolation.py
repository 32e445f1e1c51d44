"""Operating-system walls around the sandbox process (Linux first, others degrade).

Called in the sandbox child before any student code runs. Layers, each
recorded in the returned report so a run says which protections were on
(docs/security.md explains each and what it does not cover):

- the process group of the zygote's monitor (which started a new session),
  and seccomp forbids setsid/setpgid, so killing that group kills every
  process the student started, even without root;
- only the channel's file descriptor stays open; stdio goes to /dev/null;
- new mount and network namespaces (as root, or inside an unprivileged user
  namespace): the only network interface is a downed loopback;
- a minimal root file system (pivot_root onto a tmpfs): only the system
  libraries (/usr, /lib*, /bin), a few files of /etc, the interpreter, the
  virtualenv, the course's public modules and a private /tmp with the
  submission are visible. Hidden tests, solutions, other submissions, the
  grader's code and its output folder are absent, not merely unreadable.
  Folders in ``spec["hidden_paths"]`` that lie inside a visible tree (forbidden
  packages in the virtualenv) are covered with empty read-only tmpfs mounts;
- /tmp (holding the working directory) and /dev/shm are size-limited tmpfs
  mounts that vanish with the sandbox, so a disk filler fills only those;
- /proc is mounted with hidepid=2 (root) or absent (user namespace), so
  other processes' command lines, environments and memory are invisible;
- resource limits: address space, CPU seconds, file size, open files, core
  dumps, and processes (effective once the uid is unprivileged);
- a fresh unprivileged uid per sandbox when running as root (uid 100000+pid),
  so RLIMIT_NPROC counts per sandbox and leftovers can be killed by uid;
- PR_SET_NO_NEW_PRIVS and a seccomp filter (raw BPF, x86_64 and aarch64):
  no IP/packet sockets, no ptrace/process_vm_*, no mount/unshare/setns/
  namespace clones, no keyctl/bpf/perf_event_open/io_uring/module loading;
- an empty private working directory and a scrubbed environment.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import struct
import sys
import time
from typing import Any

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
UID_BASE = 100000

#: System trees bound read-only into the sandbox's root (when they exist).
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin")
#: Files and folders of /etc the interpreter and libc may want.
ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "passwd", "group",
               "nsswitch.conf", "host.conf", "hosts", "os-release", "mime.types")
DEVICES = ("null", "zero", "full", "random", "urandom")


def _libc() -> Any:
    return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def new_report() -> dict:
    """The isolation report before any layer is applied (everything off)."""
    return {"platform": sys.platform, "uid_drop": False, "network": "shared", "filesystem": "host",
            "hidden_masked": False, "proc": "host", "ipc": "shared", "seccomp": "off", "limits": {},
            "notes": []}


def real_root() -> bool:
    """Is this process root of the host, not merely uid 0 inside a user namespace?

    Only real root may chown to and switch to a fresh uid: inside a user
    namespace (an unprivileged sandbox, a rootless container) uid 0 maps to
    an ordinary user and other uids are unmapped (chown fails with EINVAL).
    The initial user namespace maps every uid to itself ("0 0 4294967295").
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    try:
        with open("/proc/self/uid_map") as fh:
            rows = [line.split() for line in fh if line.strip()]
    except OSError:
        return True  # no /proc to tell (or not Linux): euid 0 is all we know
    return rows == [["0", "0", "4294967295"]]


#: Variables a fresh interpreter may need that hold paths, never secrets.
ENV_PASSTHROUGH = ("PYTHONPATH", "LD_LIBRARY_PATH", "TMPDIR", "SYSTEMROOT", "SystemRoot", "WINDIR", "TEMP",
                   "TMP", "PATHEXT", "COMSPEC")


def minimal_env(extra: dict | None = None) -> dict:
    """The whole environment of a sandbox template or spawned sandbox: built, not inherited.

    Whatever a process is exec'd with stays in its memory (the block below
    AT_EXECFN), so secrets of the grader's environment (tokens, passwords)
    must never be handed to an exec that student code will run in.
    """
    env = {"PATH": "/usr/bin:/bin" if os.name == "posix" else os.environ.get("PATH", ""),
           "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for name in ENV_PASSTHROUGH:
        if os.environ.get(name):
            env[name] = os.environ[name]
    env.update(extra or {})
    return env


def enter(spec: dict, keep_fd: int) -> dict:
    """Wall in the current process per ``spec``; return what was achieved.

    May change ``spec["workdir"]`` to the working directory's path inside the
    sandbox's own root (the submission's files are copied there).
    """
    report = new_report()
    report["real_root"] = real_root()  # decided before any namespace makes us uid 0
    _close_fds(keep_fd)
    _quiet_stdio()
    if sys.platform.startswith("linux"):
        _namespaces(spec, report)
    else:
        report["notes"].append(f"{platform_notes(sys.platform)}")
    os.chdir(spec["workdir"])
    return report


def platform_notes(platform_name: str) -> str:
    """What is not walled off on an OS without Linux namespaces (shown to the student)."""
    if platform_name == "darwin":
        return ("macOS: no namespaces, seccomp or uid change; hidden files and the network are not walled "
                "off and memory is only limited by the time limit (macOS ignores RLIMIT_AS). The local "
                "check is advisory; the official grading runs on Linux.")
    if platform_name.startswith("win"):
        return ("Windows: no namespaces, seccomp, uid change or resource limits; only the time limit "
                "applies. The local check is advisory; the official grading runs on Linux.")
    return (f"{platform_name}: no namespaces or seccomp; hidden files and the network are not walled off. "
            "The local check is advisory; the official grading runs on Linux.")


def drop_privileges(spec: dict, report: dict) -> None:
    """Resource limits, a fresh uid (as root), no-new-privs and seccomp; call after preloading."""
    _limits(spec, report)
    root = report["real_root"] if "real_root" in report else real_root()
    if root and spec.get("drop_uid", True):
        uid = int(spec.get("uid") or UID_BASE + os.getpid())
        if report.get("filesystem") == "host":
            guard_secrets(spec, report)
            _reachable_workdir(spec, report)
        for dirpath, dirnames, filenames in os.walk(spec["workdir"]):
            os.chown(dirpath, uid, uid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        report["uid_drop"] = True
        report["uid"] = uid
        if report.get("guarded"):
            report["secrets_reachable"] = _reachable(report["guarded"])
            report["hidden_masked"] = not report["secrets_reachable"]
            if report["secrets_reachable"]:
                report["notes"].append("secret folders still readable by the sandbox: "
                                       + ", ".join(report["secrets_reachable"]))
    elif hasattr(os, "geteuid"):
        report["notes"].append("grader not run as root: student code runs as the grader's user "
                               "(inside a user namespace where available)")
    host_view = not str(report.get("filesystem", "host")).startswith("minimal root")
    if host_view and hasattr(os, "umask"):
        os.umask(0o077)  # files of this sandbox stay private to its uid (seccomp then forbids changing that)
    if sys.platform.startswith("linux") and spec.get("seccomp", True):
        # without a uid of its own the sandbox could signal every process of the grader's user
        scope = None if report["uid_drop"] else (os.getpid(), os.getpgid(0))
        report["seccomp"] = install_seccomp(host_view=host_view, signal_scope=scope)
        if not report["seccomp"].startswith("on"):
            report["notes"].append(f"seccomp filter {report['seccomp']}")
    os.environ.clear()
    os.environ.update({
        "PATH": "/usr/bin:/bin", "HOME": spec["workdir"], "TMPDIR": spec["workdir"],
        "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    })


def _reachable_workdir(spec: dict, report: dict) -> None:
    """Without a private /tmp: move the working directory where the sandbox's uid can reach it.

    The trusted side may create it below a folder others cannot traverse (a
    private temp dir); the fresh uid could then not even import the
    submission. The copy lives in /tmp (mode 0700, chowned to the sandbox's
    uid next), and the sweep after the sandbox removes it by uid.
    """
    import tempfile

    if _blocked_ancestor(os.path.dirname(os.path.abspath(spec["workdir"]))) is None:
        return
    target = tempfile.mkdtemp(prefix="grade-sbx-", dir="/tmp")
    _copy_tree(spec["workdir"], target, skip=".root")
    spec["workdir"] = target
    os.chdir(target)
    report["notes"].append("working directory copied to /tmp (its folder is closed to other users)")


#: Folders of a course root that hold secrets (hidden tests, references, data).
SECRET_DIRS = ("autograder_tests", "solutions", "data")


def secret_paths(spec: dict) -> list[str]:
    """Everything the sandbox must not read: the spec's hidden_paths and, for each course root above a
    course path (a folder with course.toml), its secret folders. Forbidden packages inside the
    interpreter's prefix are not secrets (the import hook refuses them) and are left alone."""
    prefixes = tuple(os.path.join(os.path.realpath(p), "") for p in {sys.prefix, sys.base_prefix})
    wanted = [*spec.get("hidden_paths", ()), *spec.get("secrets", ())]
    for course_path in spec.get("course_paths", ()):
        folder = os.path.realpath(course_path)
        while True:
            if os.path.isfile(os.path.join(folder, "course.toml")):
                wanted += [os.path.join(folder, name) for name in SECRET_DIRS]
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
    forbidden = set(spec.get("forbidden", ()))
    out: list[str] = []
    for path in wanted:
        real = os.path.realpath(path)
        if not os.path.exists(real) or real in out or os.path.join(real, "").startswith(prefixes):
            continue
        if os.path.basename(real) in forbidden or {"site-packages", "dist-packages"} & set(real.split(os.sep)):
            continue  # an installed package (torch), needed by others: the import hook refuses it
        out.append(real)
    return out


def guard_secrets(spec: dict, report: dict) -> None:
    """Without a private file system view: take every secret path out of reach of other users.

    Called as root (still trusted: no student code is loaded yet) just before
    the switch to the sandbox's fresh uid, which owns nothing and has no
    groups, so only the "other" permission bits apply to it: clearing them on
    the secret folder itself closes everything below it. Root keeps access.
    """
    import stat

    guarded = []
    for path in secret_paths(spec):
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
            if mode & 0o007:
                os.chmod(path, mode & ~0o007)
            guarded.append(path)
        except OSError as exc:
            report["notes"].append(f"could not close {path} to other users: {exc}")
    report["guarded"] = guarded
    report["filesystem"] = "host view; secret folders closed to the sandbox's uid (mode o-rwx)"


def _reachable(paths: list[str]) -> list[str]:
    """Which of ``paths`` this process can still open or list (run after the uid switch)."""
    found = []
    for path in paths:
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                os.close(os.open(path, os.O_RDONLY))
            found.append(path)
        except OSError:
            pass
    return found


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


# -- namespaces and the file system view ---------------------------------------------------------

def _namespaces(spec: dict, report: dict) -> None:
    libc = _libc()
    root = report.setdefault("real_root", real_root())
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | (0 if root else CLONE_NEWUSER)
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(flags) != 0:
        report["notes"].append(f"namespaces unavailable (errno {ctypes.get_errno()}): hidden files rely "
                               "on file permissions, the network is not cut, SysV IPC is refused by seccomp")
        return
    report["ipc"] = "namespace (own SysV IPC and POSIX message queues)"
    report["user_namespace"] = not root
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
    try:
        _minimal_root(libc, spec, report, as_root=root)
        return
    except OSError as exc:
        report["notes"].append(f"minimal root file system unavailable ({exc}); hiding folders instead")
    _expose(libc, spec, report)
    _mask(libc, spec.get("hidden_paths", []), "", report)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _source_flags(path: str) -> int:
    """Mount flags that must be kept on a read-only re-mount (locked in user namespaces)."""
    flags = 0
    try:
        f_flag = os.statvfs(path).f_flag
    except OSError:
        return flags
    for st, ms in ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC)):
        if f_flag & st:
            flags |= ms
    return flags


def _bind(libc: Any, source: str, target: str, readonly: bool = True) -> None:
    """Bind ``source`` (file or folder) at ``target`` inside the new root, read-only by default."""
    if os.path.isdir(source):
        os.makedirs(target, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        if not os.path.exists(target):
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
    _check(libc.mount(os.fsencode(source), os.fsencode(target), None, MS_BIND | MS_REC, None), f"bind {source}")
    if readonly:
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | _source_flags(source)
        _check(libc.mount(b"none", os.fsencode(target), None, flags, None), f"read-only {source}")


def _tmpfs(libc: Any, target: str, size_bytes: int, mode: int, readonly: bool = False) -> None:
    os.makedirs(target, mode=0o755, exist_ok=True)
    flags = MS_NOSUID | MS_NODEV | (MS_RDONLY if readonly else 0)
    data = f"size={max(size_bytes, 4096)},mode={mode:o}".encode()
    _check(libc.mount(b"tmpfs", os.fsencode(target), b"tmpfs", flags, data), f"tmpfs at {target}")


def visible_trees(spec: dict) -> list[str]:
    """Folders bound (read-only) into the sandbox's root, outermost first, no duplicates."""
    wanted = [*SYSTEM_DIRS, sys.base_prefix, sys.prefix, *spec.get("course_paths", ()), *spec.get("expose", ())]
    trees: list[str] = []
    for path in sorted({os.path.realpath(p) for p in wanted if p and os.path.isdir(p)}, key=len):
        if not any(path == t or path.startswith(t.rstrip("/") + "/") for t in trees):
            trees.append(path)
    return trees


def _minimal_root(libc: Any, spec: dict, report: dict, as_root: bool) -> None:
    """Build a tmpfs root with only what the sandbox needs, pivot into it, copy the submission."""
    host_workdir = spec["workdir"]
    new = os.path.join(host_workdir, ".root")
    os.makedirs(new, exist_ok=True)
    _tmpfs(libc, new, 1 << 20, 0o755)
    disk = int(spec.get("disk_mb", 256)) * 2**20
    _tmpfs(libc, new + "/tmp", disk, 0o1777)  # before the binds: a course may itself live under /tmp
    for top in SYSTEM_DIRS:  # merged-/usr systems: /bin -> usr/bin and so on
        if os.path.islink(top):
            os.symlink(os.readlink(top), new + top)
    for tree in visible_trees(spec):
        _bind(libc, tree, new + tree)
    for name in ETC_ENTRIES:
        src = os.path.join("/etc", name)
        if os.path.exists(src) and not os.path.islink(src):
            _bind(libc, src, new + src)
        elif os.path.islink(src):
            os.makedirs(new + "/etc", mode=0o755, exist_ok=True)
            os.symlink(os.readlink(src), new + src)
    _tmpfs(libc, new + "/dev", 1 << 16, 0o755)
    for name in DEVICES:
        if os.path.exists("/dev/" + name):
            _bind(libc, "/dev/" + name, f"{new}/dev/{name}", readonly=False)
    for i, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{i}", f"{new}/dev/{name}")
    os.symlink("/proc/self/fd", f"{new}/dev/fd")
    _tmpfs(libc, new + "/dev/shm", min(disk, 64 * 2**20), 0o1777)
    workdir = "/tmp/" + os.path.basename(host_workdir.rstrip("/"))
    _copy_tree(host_workdir, new + workdir, skip=".root")
    if as_root and libc.mount(b"proc", os.fsencode(new + "/proc"), b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                              b"hidepid=2") == 0:
        report["proc"] = "hidepid=2 (only the sandbox's own processes)"
    else:
        report["proc"] = "absent"
    masked = _mask(libc, spec.get("hidden_paths", []), new, report)
    os.chdir(new)
    _check(_pivot_root(libc), "pivot_root")
    _check(libc.umount2(b".", MNT_DETACH), "detach the old root")
    os.chdir("/")
    _check(libc.mount(b"none", b"/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None), "read-only root")
    spec["workdir"] = workdir
    report["filesystem"] = "minimal root (system libraries, interpreter, course modules, private /tmp)"
    report["visible"] = visible_trees(spec)
    report["hidden_masked"] = True
    report["masked"] = masked
    report["disk_bytes"] = disk


def _pivot_root(libc: Any) -> int:
    """pivot_root(".", "."): stack the old root under the new one (detached right after)."""
    numbers = {"x86_64": 155, "amd64": 155, "aarch64": 41, "arm64": 41}
    nr = numbers.get(platform.machine().lower())
    if nr is None:
        ctypes.set_errno(38)  # ENOSYS
        return -1
    return libc.syscall(nr, b".", b".")


def _copy_tree(src: str, dst: str, skip: str) -> None:
    """Copy the submission's files (small) into the sandbox's private /tmp."""
    os.makedirs(dst, mode=0o755, exist_ok=True)
    for entry in os.scandir(src):
        if entry.name == skip or entry.is_symlink():
            continue
        target = os.path.join(dst, entry.name)
        if entry.is_dir():
            _copy_tree(entry.path, target, skip="")
        elif entry.is_file():
            with open(entry.path, "rb") as fin, open(target, "wb") as fout:
                while chunk := fin.read(1 << 20):
                    fout.write(chunk)


def _mask(libc: Any, paths: Any, prefix: str, report: dict) -> list[str]:
    """Cover each existing folder of ``paths`` (as seen under ``prefix``) with an empty read-only tmpfs."""
    masked = []
    for path in paths:
        target = prefix + os.path.realpath(path)
        if not os.path.isdir(target):
            continue
        rc = libc.mount(b"tmpfs", os.fsencode(target), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
                        b"size=4k,mode=0555")
        if rc == 0:
            masked.append(path)
        else:
            report["notes"].append(f"could not hide {path} (errno {ctypes.get_errno()})")
    if not prefix:
        present = [p for p in paths if os.path.isdir(p)]
        report["hidden_masked"] = len(masked) == len(present)
        report["filesystem"] = "host view with secret folders hidden"
    report["masked"] = masked
    return masked


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
    """Fallback without a minimal root: make the interpreter readable to the unprivileged uid.

    Where Python lives under a private folder (e.g. /root, mode 0700), the
    sandbox's uid could not import lazily loaded modules. Inside the private
    mount namespace the private folder is covered with an empty tmpfs and only
    the needed trees are bound back, read-only.
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


# -- resource limits ----------------------------------------------------------------------------

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
    if sys.platform == "darwin":
        report["notes"].append("macOS ignores RLIMIT_AS: memory is not limited")


# -- seccomp ------------------------------------------------------------------------------------

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
#: Syscalls the sandbox never needs and an attacker would like (name -> (x86_64, aarch64)).
DENIED_SYSCALLS = {
    "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41), "chroot": (161, 51),
    "unshare": (272, 97), "setns": (308, 268), "keyctl": (250, 219), "add_key": (248, 217),
    "request_key": (249, 218), "bpf": (321, 280), "perf_event_open": (298, 241), "kexec_load": (246, 104),
    "kexec_file_load": (320, 294), "init_module": (175, 105), "finit_module": (313, 273),
    "delete_module": (176, 106), "userfaultfd": (323, 282), "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426), "io_uring_register": (427, 427), "open_by_handle_at": (304, 265),
    "name_to_handle_at": (303, 264), "quotactl": (179, 60), "swapon": (167, 224), "swapoff": (168, 225),
    "reboot": (169, 142), "settimeofday": (164, 170), "acct": (163, 89), "syslog": (103, 116),
    "open_tree": (428, 428), "move_mount": (429, 429), "fsopen": (430, 430), "fsconfig": (431, 431),
    "fsmount": (432, 432), "fspick": (433, 433), "mount_setattr": (442, 442), "lookup_dcookie": (212, 18),
    "vhangup": (153, 58), "iopl": (172, None), "ioperm": (173, None),
    "setsid": (112, 157), "setpgid": (109, 154),
    # SysV IPC and POSIX message queues: objects that outlive the process and could carry data from one
    # sandbox (or one test) to the next where no IPC namespace can be had; never needed by NumPy code.
    "shmget": (29, 194), "shmat": (30, 196), "shmctl": (31, 195), "shmdt": (67, 197),
    "semget": (64, 190), "semop": (65, 193), "semctl": (66, 191), "semtimedop": (220, 192),
    "msgget": (68, 186), "msgsnd": (69, 189), "msgrcv": (70, 188), "msgctl": (71, 187),
    "mq_open": (240, 180), "mq_unlink": (241, 181), "mq_timedsend": (242, 182), "mq_timedreceive": (243, 183),
    "mq_notify": (244, 184), "mq_getsetattr": (245, 185),
}
#: Denied too where the sandbox shares the host's file system and abstract socket namespace (no namespaces):
#: files it creates stay private to its uid (umask 077, no chmod or ACLs), and it cannot bind or connect
#: Unix sockets, so two sandboxes running at once cannot pass data (e.g. a hidden test's inputs).
HOST_VIEW_DENIED = {
    "chmod": (90, None), "fchmod": (91, 52), "fchmodat": (268, 53), "fchmodat2": (452, 452), "umask": (95, 166),
    "setxattr": (188, 5), "lsetxattr": (189, 6), "fsetxattr": (190, 7),
    "bind": (49, 200), "connect": (42, 203), "listen": (50, 201),
}
#: Signal syscalls scoped when the sandbox shares the grader's uid (no uid change): kill() may reach only its own
#: process group or itself, the others only itself, so kill(-1) or a guessed pid cannot end the grader, other
#: sandboxes or the user's session.
SIGNAL_GROUP_CALLS = {"kill": (62, 129)}
SIGNAL_SELF_CALLS = {"tkill": (200, 130), "tgkill": (234, 131), "rt_sigqueueinfo": (129, 138),
                     "rt_tgsigqueueinfo": (297, 240), "pidfd_open": (434, 434)}
SYS_SOCKET = {"x86_64": 41, "aarch64": 198}
SYS_CLONE = {"x86_64": 56, "aarch64": 220}
SYS_CLONE3 = 435
AF_UNIX = 1
NAMESPACE_FLAGS = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
EPERM, ENOSYS, EAFNOSUPPORT = 1, 38, 97
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
# classic BPF opcodes
LD_W_ABS = 0x20
JEQ_K = 0x15
JGE_K = 0x35
JSET_K = 0x45
RET_K = 0x06
JA = 0x05


def _machine() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def seccomp_program(arch: str, host_view: bool = False,
                    signal_scope: tuple[int, int] | None = None) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions for ``arch`` ("x86_64" or "aarch64").

    Layout: wrong architecture -> EPERM (blocks the i386 ABI on x86_64);
    x32 syscalls -> EPERM; each denied syscall -> EPERM; clone with a
    namespace flag -> EPERM; clone3 -> ENOSYS (libc falls back to clone,
    whose flags we can inspect); socket() of any family but AF_UNIX ->
    EAFNOSUPPORT; everything else allowed. ``signal_scope`` = (own pid,
    own process group): kill() only to 0, the own pid or the own group,
    tkill/tgkill/rt_*sigqueueinfo/pidfd_open only to the own pid.
    """
    col = 0 if arch == "x86_64" else 1
    table = {**DENIED_SYSCALLS, **(HOST_VIEW_DENIED if host_view else {})}
    denied = sorted({nrs[col] for nrs in table.values() if nrs[col] is not None})
    items: list[tuple] = [("ld", 4), ("jne", AUDIT_ARCH[arch], "eperm"), ("ld", 0)]
    if arch == "x86_64":
        items.append(("jge", 0x40000000, "eperm"))
    items += [("jeq", nr, "eperm") for nr in denied]
    if signal_scope is not None:
        own, group = (v & 0xFFFFFFFF for v in signal_scope)
        items += [("jeq", nrs[col], "sig_group") for nrs in SIGNAL_GROUP_CALLS.values()]
        items += [("jeq", nrs[col], "sig_self") for nrs in SIGNAL_SELF_CALLS.values()]
    items += [("jeq", SYS_CLONE3, "enosys"), ("jeq", SYS_CLONE[arch], "clone"),
              ("jeq", SYS_SOCKET[arch], "socket"), ("goto", "allow")]
    if signal_scope is not None:
        items += [("label", "sig_group"), ("ld", 16), ("jeq", 0, "allow"), ("jeq", own, "allow"),
                  ("jeq", (-group) & 0xFFFFFFFF, "allow"), ("goto", "eperm"),
                  ("label", "sig_self"), ("ld", 16), ("jeq", own, "allow"), ("goto", "eperm")]
    items += [
              # clone(flags, ...): the flags are the low word of args[0] (offset 16)
              ("label", "clone"), ("ld", 16), ("jset", NAMESPACE_FLAGS, "eperm"), ("goto", "allow"),
              # socket(family, ...): only AF_UNIX (socketpair, multiprocessing) is allowed
              ("label", "socket"), ("ld", 16), ("jeq", AF_UNIX, "allow"), ("goto", "eafnosupport"),
              ("label", "allow"), ("ret", RET_ALLOW),
              ("label", "eperm"), ("ret", RET_ERRNO | EPERM),
              ("label", "enosys"), ("ret", RET_ERRNO | ENOSYS),
              ("label", "eafnosupport"), ("ret", RET_ERRNO | EAFNOSUPPORT)]
    labels: dict[str, int] = {}
    count = 0
    for item in items:
        if item[0] == "label":
            labels[item[1]] = count
        else:
            count += 1
    prog: list[tuple[int, int, int, int]] = []
    for item in (i for i in items if i[0] != "label"):
        kind = item[0]
        offset = labels[item[-1]] - len(prog) - 1 if kind in ("jeq", "jne", "jge", "jset", "goto") else 0
        if not 0 <= offset <= 255:
            raise ValueError("seccomp jump out of range")
        if kind == "ld":
            prog.append((LD_W_ABS, 0, 0, item[1]))
        elif kind == "jne":
            prog.append((JEQ_K, 0, offset, item[1]))
        elif kind in ("jeq", "jge", "jset"):
            prog.append(({"jeq": JEQ_K, "jge": JGE_K, "jset": JSET_K}[kind], offset, 0, item[1]))
        elif kind == "goto":
            prog.append((JA, 0, 0, offset))
        else:
            prog.append((RET_K, 0, 0, item[1]))
    return prog


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_seccomp(host_view: bool = False, signal_scope: tuple[int, int] | None = None) -> str:
    """Set no-new-privs and install the filter in this process; return a status for the report.

    ``host_view``: the sandbox sees the host's file system (no namespaces), so HOST_VIEW_DENIED too.
    """
    arch = _machine()
    if arch not in AUDIT_ARCH:
        return f"off: no filter for the {arch} architecture"
    try:
        libc = _libc()
        prog = seccomp_program(arch, host_view, signal_scope)
        raw = b"".join(struct.pack("=HBBI", *ins) for ins in prog)
        buf = ctypes.create_string_buffer(raw, len(raw))
        fprog = _SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return f"off: PR_SET_NO_NEW_PRIVS failed (errno {ctypes.get_errno()})"
        if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
            return f"off: the kernel refused the filter (errno {ctypes.get_errno()})"
    except (OSError, AttributeError, ValueError) as exc:
        return f"off: {exc}"
    extra = "; host view: no chmod, umask, xattrs, bind, connect" if host_view else ""
    if signal_scope is not None:
        extra += "; signals only to its own process group"
    return (f"on ({arch}: no IP sockets, ptrace, mounts, namespaces, setsid, SysV IPC, mqueues, keyrings, bpf, "
            f"perf, io_uring{extra})")


# -- cleanup ------------------------------------------------------------------------------------

def _pids() -> list[str] | None:
    """The process ids /proc lists, or None when /proc cannot be read."""
    try:
        return [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return None


def _stat_fields(pid: str) -> list[bytes]:
    """/proc/PID/stat after "pid (comm) ": state, ppid, pgrp, ... (OSError when it cannot be read)."""
    with open(f"/proc/{pid}/stat", "rb") as fh:
        stat = fh.read()
    return stat[stat.rfind(b")") + 2:].split()


def _uids(pid: str) -> list[bytes] | None:
    """The real, effective, saved and file uids of PID (OSError when unreadable, None without a Uid line)."""
    with open(f"/proc/{pid}/status", "rb") as fh:
        return next((line.split()[1:] for line in fh.read().splitlines() if line.startswith(b"Uid:")), None)


def _processes_outside_group(uid: int, group: int) -> bool:
    """Does a process of ``uid`` exist outside process group ``group``? True if /proc cannot tell."""
    pids = _pids()
    if pids is None:
        return True
    for pid in pids:
        try:
            uids = _uids(pid)
            fields = _stat_fields(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended meanwhile
        except OSError:
            return True
        if uids is None:
            return True
        if str(uid).encode() not in uids:
            continue
        if len(fields) < 3 or int(fields[2]) != group:
            return True
    return False


def kill_uid(uid: int, killed_group: int | None = None) -> None:
    """Kill every process that runs as ``uid`` (leftovers of a sandbox), as root.

    ``killed_group``: a process group that was just sent SIGKILL. If every
    process of ``uid`` is in it, there is nothing left to do: they are dying,
    and a process with SIGKILL pending cannot complete a fork. This check
    reads /proc instead of forking the large grader process, which is much
    slower and happens several times per graded submission (benchmarks/README.md).

    A short-lived child takes the uid and signals everything it may signal,
    which is exactly the processes of that uid, double-forked daemons in
    their own session included.
    Two passes: kill(-1) signals under the kernel's task-list lock and a
    process with SIGKILL pending cannot complete a fork, so the first pass
    already catches a fork storm; the second is cheap insurance. The child
    becomes non-dumpable on setuid, so processes of that uid cannot read the
    grader's memory through it.
    """
    if not hasattr(os, "fork") or os.geteuid() != 0 or uid < UID_BASE:
        return
    if killed_group is not None and not _processes_outside_group(uid, killed_group):
        return
    pid = os.fork()
    if pid == 0:
        try:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            for _ in range(2):
                try:
                    os.kill(-1, 9)
                except ProcessLookupError:
                    break
                time.sleep(0.001)
        except BaseException:
            pass
        os._exit(0)
    os.waitpid(pid, 0)


# -- leftovers ----------------------------------------------------------------------------------

SYSVIPC_KINDS = {"shm": ("shmid", 0), "sem": ("semid", 2), "msg": ("msqid", 1)}  # id column, IPC_RMID cmd arg
IPC_RMID = 0


def _live_processes(uid: int | None, group: int | None) -> list[int]:
    """Pids (not zombies) that run as ``uid`` (when given) or belong to process group ``group``."""
    found = []
    for pid in _pids() or []:
        try:
            fields = _stat_fields(pid)
            if fields[0] in (b"Z", b"X"):
                continue
            mine = group is not None and int(fields[2]) == group
            if uid is not None and not mine:
                mine = str(uid).encode() in (_uids(pid) or [])
        except (OSError, IndexError, ValueError):
            continue
        if mine:
            found.append(int(pid))
    return found


def walled_in(report: dict) -> bool:
    """A sandbox's start report says it had a private /tmp and /dev/shm and its own IPC namespace."""
    return (str(report.get("filesystem", "")).startswith("minimal root")
            and str(report.get("ipc", "")).startswith("namespace"))


def _wait_for_exit(pid: int, seconds: float) -> None:
    """Wait until process ``pid`` (not necessarily our child) has ended, at most ``seconds``."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):   # gone already, or no pidfd (old kernel): the caller polls
        return
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.poll(int(seconds * 1000))
    finally:
        os.close(fd)


def _ipc_objects(uid: int) -> list[tuple[str, int]]:
    """SysV IPC objects (kind, id) of this IPC namespace owned or created by ``uid``."""
    found = []
    for kind, (id_column, _) in SYSVIPC_KINDS.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                header, *rows = [line.split() for line in fh if line.strip()]
        except (OSError, ValueError):
            continue
        cols = {name: i for i, name in enumerate(header)}
        for row in rows:
            try:
                owners = {int(row[cols["uid"]]), int(row[cols["cuid"]])}
                if uid in owners:
                    found.append((kind, int(row[cols[id_column]])))
            except (KeyError, IndexError, ValueError):
                continue
    return found


def _owned_files(uid: int, folders: list[str]) -> list[str]:
    """Entries directly inside ``folders`` (the temp dir, /dev/shm) owned by ``uid``."""
    found = []
    for folder in folders:
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    try:
                        if entry.stat(follow_symlinks=False).st_uid == uid:
                            found.append(entry.path)
                    except OSError:
                        continue
        except OSError:
            continue
    return found


def _remove_ipc(kind: str, ident: int) -> None:
    libc = _libc()
    if kind == "shm":
        libc.shmctl(ident, IPC_RMID, None)
    elif kind == "sem":
        libc.semctl(ident, 0, IPC_RMID)
    else:
        libc.msgctl(ident, IPC_RMID, None)


def sweep(uid: int | None, group: int | None, folders: list[str] | None = None, wait: float = 1.0,
          walled: bool = False) -> dict:
    """After a sandbox ended: find (and remove) whatever of it survives; return a record of it.

    With a sandbox uid (grader run as root) processes, SysV IPC objects and
    files in the temp dir and /dev/shm are attributed by uid; otherwise only
    the sandbox's process group can be checked (its IPC and files then live
    in namespaces and tmpfs mounts that died with it). ``walled``: the
    sandbox's own report said it ran on the minimal root (private /tmp and
    /dev/shm) in its own IPC namespace, so it had no shared temp folder or
    IPC table to leave anything in, and only processes are looked for.
    Found processes are killed, IPC objects and files removed; ``found``
    says what there was, ``remaining`` what could not be removed.
    """
    import shutil
    import tempfile

    if not sys.platform.startswith("linux"):
        return {"checked": False}
    if folders is None:
        folders = [] if walled else list(dict.fromkeys([tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"]))
    uid = uid if uid is not None and uid >= UID_BASE else None
    deadline = time.monotonic() + wait
    if group is not None:
        _wait_for_exit(group, wait)  # the group's leader (the sandbox's monitor) ends last
    while (procs := _live_processes(uid, group)) and time.monotonic() < deadline:
        time.sleep(0.005)  # killed processes take a moment to leave
    found = {"processes": len(procs), "ipc": 0, "files": 0}
    if procs and uid is not None:
        kill_uid(uid)
    elif procs and group is not None:
        try:
            os.killpg(group, 9)
        except OSError:
            pass
    if uid is not None:
        objects, files = ([] if walled else _ipc_objects(uid)), _owned_files(uid, folders)
        found.update(ipc=len(objects), files=len(files))
        for kind, ident in objects:
            _remove_ipc(kind, ident)
        for path in files:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    pass
    remaining = {"processes": len(_live_processes(uid, group)) if procs else 0,
                 "ipc": len(_ipc_objects(uid)) if uid is not None and found["ipc"] else 0,
                 "files": len(_owned_files(uid, folders)) if uid is not None and found["files"] else 0}
    return {"checked": True, "by": "uid" if uid is not None else "process group", "found": found,
            "remaining": remaining, "clean": not any(found.values())}


# -- interrupts ---------------------------------------------------------------------------------

def _process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, process group) of every visible process."""
    table = {}
    for pid in _pids() or []:
        try:
            fields = _stat_fields(pid)
            table[int(pid)] = (int(fields[1]), int(fields[2]))
        except (OSError, IndexError, ValueError):
            continue
    return table


def kill_descendants(top: int | None = None) -> int:
    """SIGKILL every process below ``top`` (default: this one) and the process groups they lead.

    Sandboxes lead their own groups (their monitor called setsid; seccomp
    keeps student processes in it), so killing the groups of all descendants
    also reaches student processes that were re-parented after a double fork.
    Two passes catch a process forked while the first ran. Returns how many
    processes were signalled.
    """
    import signal

    top = os.getpid() if top is None else top
    own_group = os.getpgid(0)
    signalled: set[int] = set()
    for _ in range(2):
        table = _process_table()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        stack, found = list(children.get(top, [])), []
        while stack:
            pid = stack.pop()
            found.append(pid)
            stack.extend(children.get(pid, []))
        for pid in found:
            group = table[pid][1]
            try:
                if group == pid and group != own_group:
                    os.killpg(group, signal.SIGKILL)
                os.kill(pid, signal.SIGKILL)
                signalled.add(pid)
            except OSError:
                continue
        if not found:
            break
    return len(signalled)


#: Environment variable naming the `grade` run whose sandbox folders are grade-sbx-<run>-*.
RUN_TAG_ENV = "GRADE_RUN_TAG"


def workdir_prefix() -> str:
    """Prefix of a sandbox's working directory: tagged with the run, so an interrupt can find its folders."""
    tag = os.environ.get(RUN_TAG_ENV, "")
    return f"grade-sbx-{tag}-" if tag.isdigit() else "grade-sbx-"


def _remove_run_folders(tag: str) -> None:
    """Remove the working directories of this run's sandboxes (they were killed mid-grading)."""
    import glob
    import shutil
    import tempfile

    for folder in glob.glob(os.path.join(tempfile.gettempdir(), f"grade-sbx-{tag}-*")):
        shutil.rmtree(folder, ignore_errors=True)


def install_interrupt_handlers(message: str) -> None:
    """Ctrl-C or SIGTERM: end every sandbox and helper process, print ``message``, exit (no traceback).

    Forked children (gradings, batch workers) inherit the handler; they end
    quietly, since the top process cleans up after everyone.
    """
    import signal

    if not hasattr(signal, "SIGTERM") or not sys.platform.startswith("linux"):
        return
    top = os.getpid()
    os.environ[RUN_TAG_ENV] = str(top)  # names this run's sandbox folders (forked and spawned workers inherit it)
    try:
        err = os.dup(2)  # the terminal, even while pytest captures fd 2 (in-process gradings)
        os.set_inheritable(err, False)
    except OSError:
        err = 2

    def handler(signum: int, frame: Any) -> None:
        if os.getpid() != top:
            os._exit(128 + signum)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        kill_descendants(top)
        _remove_run_folders(str(top))
        try:
            os.write(err, ("\n" + message + "\n").encode("utf-8", "replace"))
        finally:
            os._exit(128 + signum)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
