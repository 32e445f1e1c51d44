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
  Folders in ``spec["mask"]`` that lie inside a visible tree (forbidden
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
            "hidden_masked": False, "proc": "host", "seccomp": "off", "limits": {}, "notes": []}


def enter(spec: dict, keep_fd: int) -> dict:
    """Wall in the current process per ``spec``; return what was achieved.

    May change ``spec["workdir"]`` to the working directory's path inside the
    sandbox's own root (the submission's files are copied there).
    """
    report = new_report()
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
    if hasattr(os, "geteuid") and os.geteuid() == 0 and spec.get("drop_uid", True):
        uid = int(spec.get("uid") or UID_BASE + os.getpid())
        for dirpath, dirnames, filenames in os.walk(spec["workdir"]):
            os.chown(dirpath, uid, uid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        report["uid_drop"] = True
        report["uid"] = uid
    elif hasattr(os, "geteuid") and os.geteuid() != 0:
        report["notes"].append("grader not run as root: student code runs as the grader's user "
                               "(inside a user namespace where available)")
    if sys.platform.startswith("linux") and spec.get("seccomp", True):
        report["seccomp"] = install_seccomp()
        if not report["seccomp"].startswith("on"):
            report["notes"].append(f"seccomp filter {report['seccomp']}")
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


# -- namespaces and the file system view ---------------------------------------------------------

def _namespaces(spec: dict, report: dict) -> None:
    libc = _libc()
    root = os.geteuid() == 0
    flags = CLONE_NEWNS | CLONE_NEWNET | (0 if root else CLONE_NEWUSER)
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(flags) != 0:
        report["notes"].append(f"namespaces unavailable (errno {ctypes.get_errno()}): hidden files rely "
                               "on file permissions, the network is not cut")
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
    try:
        _minimal_root(libc, spec, report, as_root=root)
        return
    except OSError as exc:
        report["notes"].append(f"minimal root file system unavailable ({exc}); hiding folders instead")
    _expose(libc, spec, report)
    _mask(libc, spec.get("mask", []), "", report)


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
    masked = _mask(libc, spec.get("mask", []), new, report)
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
}
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


def seccomp_program(arch: str) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions for ``arch`` ("x86_64" or "aarch64").

    Layout: wrong architecture -> EPERM (blocks the i386 ABI on x86_64);
    x32 syscalls -> EPERM; each denied syscall -> EPERM; clone with a
    namespace flag -> EPERM; clone3 -> ENOSYS (libc falls back to clone,
    whose flags we can inspect); socket() of any family but AF_UNIX ->
    EAFNOSUPPORT; everything else allowed.
    """
    col = 0 if arch == "x86_64" else 1
    denied = sorted({nrs[col] for nrs in DENIED_SYSCALLS.values() if nrs[col] is not None})
    items: list[tuple] = [("ld", 4), ("jne", AUDIT_ARCH[arch], "eperm"), ("ld", 0)]
    if arch == "x86_64":
        items.append(("jge", 0x40000000, "eperm"))
    items += [("jeq", nr, "eperm") for nr in denied]
    items += [("jeq", SYS_CLONE3, "enosys"), ("jeq", SYS_CLONE[arch], "clone"),
              ("jeq", SYS_SOCKET[arch], "socket"), ("goto", "allow"),
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


def install_seccomp() -> str:
    """Set no-new-privs and install the filter in this process; return a status for the report."""
    arch = _machine()
    if arch not in AUDIT_ARCH:
        return f"off: no filter for the {arch} architecture"
    try:
        libc = _libc()
        prog = seccomp_program(arch)
        raw = b"".join(struct.pack("=HBBI", *ins) for ins in prog)
        buf = ctypes.create_string_buffer(raw, len(raw))
        fprog = _SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return f"off: PR_SET_NO_NEW_PRIVS failed (errno {ctypes.get_errno()})"
        if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
            return f"off: the kernel refused the filter (errno {ctypes.get_errno()})"
    except (OSError, AttributeError, ValueError) as exc:
        return f"off: {exc}"
    return f"on ({arch}: no IP sockets, ptrace, mounts, namespaces, setsid, keyrings, bpf, perf, io_uring)"


# -- cleanup ------------------------------------------------------------------------------------

def _processes_outside_group(uid: int, group: int) -> bool:
    """Does a process of ``uid`` exist outside process group ``group``? True if /proc cannot tell."""
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return True
    for pid in entries:
        try:
            with open(f"/proc/{pid}/status", "rb") as fh:
                status = fh.read()
            with open(f"/proc/{pid}/stat", "rb") as fh:
                stat = fh.read()
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended meanwhile
        except OSError:
            return True
        uids = next((line.split()[1:] for line in status.splitlines() if line.startswith(b"Uid:")), None)
        if uids is None:
            return True
        if str(uid).encode() not in uids:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()   # after "pid (comm) ": state ppid pgrp ...
        if len(fields) < 3 or int(fields[2]) != group:
            return True
    return False


def kill_uid(uid: int, killed_group: int | None = None) -> None:
    """Kill every process that runs as ``uid`` (leftovers of a sandbox), as root.

    ``killed_group``: a process group that was just sent SIGKILL. If every
    process of ``uid`` is in it, there is nothing left to do: they are dying,
    and a process with SIGKILL pending cannot complete a fork. This check
    reads /proc (a few ms) instead of forking the large grader process
    (~30 ms), which matters five times per graded submission.

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
