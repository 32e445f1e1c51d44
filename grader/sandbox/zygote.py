"""A warm, clean template that forks sandbox processes on request.

The zygote is a fresh interpreter that has imported NumPy and the sandbox
code and nothing else: no torch, no pytest, no tests, no expected values.
Forking a sandbox from it costs milliseconds instead of an interpreter start.

Each request (one connection on a private Unix socket) carries the sandbox
spec and the sandbox's end of a socketpair. The zygote forks a *monitor*,
which starts a new session, forks the student process and waits for it; when
the student process ends, the monitor writes how (exit status or signal) to
the channel. So the grader can tell "your code called os._exit(3)" from "your
code crashed with a segmentation fault", and killing the monitor's process
group kills the sandbox.

Where fork is unavailable (Windows) the grader starts each sandbox as a
fresh interpreter instead (grader/sandbox/spawn.py); results are the same, only
slower.
"""
from __future__ import annotations

import json
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from multiprocessing.connection import Connection
from pathlib import Path

from grader.sandbox import isolation

#: Signals with their own explanation (catalogue keys "status.<name>" in grader/i18n).
SIGNAL_HINTS = ("SIGSEGV", "SIGKILL", "SIGXCPU", "SIGXFSZ", "SIGABRT", "SIGBUS")


def describe_status(status: int, lang: str | None = None) -> str:
    """Human words (in the course's language) for a wait() status of the student process."""
    from grader.i18n import t

    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        hint = t(f"status.{name}", lang) if name in SIGNAL_HINTS else t("status.signal", lang, name=name)
        return f"{hint} [{name}]"
    return t("status.exit", lang, code=os.WEXITSTATUS(status))


def main(address: str, alive_fd: int) -> None:
    """Zygote loop: serve spawn requests until the grader goes away."""
    import numpy  # noqa: F401 - the point of the template
    from grader.sandbox import server as sandbox_server  # loaded once, inherited by every fork

    sandbox_server.preload_standard_library()  # inherited: sandboxes start faster (benchmarks/README.md)
    for lang in sandbox_server.i18n.available():  # serve() loads them before its walls go up: once here
        sandbox_server.i18n.catalogue(lang)

    # Ctrl-C reaches the whole foreground group; the grader decides what happens (and ends us).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    monitors: set[int] = set()  # live sandboxes (each monitor leads its sandbox's process group)
    signal.signal(signal.SIGTERM, lambda signum, frame: _end(monitors))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(64)
    while True:
        ready, _, _ = select.select([listener, alive_fd], [], [], 1.0)
        _reap(monitors)
        if alive_fd in ready:
            _end(monitors)  # the grader is gone (even if it was SIGKILLed): so are its sandboxes
        if listener not in ready:
            continue
        conn, _ = listener.accept()
        with conn:
            try:
                data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 1)
                spec = json.loads(data)
            except (OSError, ValueError):
                continue
            if len(fds) != 1:
                continue
            _warm_course(spec)
            pid = os.fork()
            if pid == 0:
                listener.close()
                conn.close()
                os.close(alive_fd)
                _monitor(fds[0], spec)
            monitors.add(pid)
            os.close(fds[0])
            conn.sendall(json.dumps({"pid": pid}).encode())


def _reap(monitors: set[int]) -> None:
    """Collect ended monitors, so the set holds only live sandboxes (and no zombies pile up)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        monitors.discard(pid)


def _end(monitors: set[int]) -> None:
    """Kill every live sandbox (its monitor's whole process group), then exit."""
    _reap(monitors)
    for pid in monitors:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    os._exit(0)


_WARMED: set[str] = set()


def _warm_course(spec: dict) -> None:
    """Import a course's sandbox modules once, here, so every sandbox inherits them.

    They are public course code (the framework students build on), imported
    with forbidden packages blocked, so the template still holds no torch
    and no test data. A second course with modules of the same names gets
    its own imported in each sandbox (see server.preload_course).
    """
    from grader.sandbox import server

    key = json.dumps([spec.get("course_paths"), spec.get("preload"), spec.get("forbidden")])
    if key in _WARMED or not spec.get("preload"):
        return
    _WARMED.add(key)
    names = list(spec.get("preload", ()))
    if any(n in sys.modules for n in names):
        return  # another course's modules of the same names are loaded: leave them to the sandboxes
    server.preload_course(spec, {"notes": []})


def _monitor(fd: int, spec: dict) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # student code sees the usual Python default
    os.setsid()
    child = os.fork()
    if child == 0:
        from grader.sandbox import server

        try:
            server.serve(Connection(fd), spec)
        finally:
            os._exit(0)
    conn = Connection(fd)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    from grader.wire import channel

    try:
        conn.send_bytes(channel.encode({"died": describe_status(status, spec.get("language"))}))
    except OSError:
        pass
    os._exit(0)


class Zygote:
    """The grader's handle on its zygote process (started on first use)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._owner = 0
        self._dir = ""
        self.address = ""
        self._ready = False
        #: Marks every process forked from this zygote (visible in /proc/<pid>/environ
        #: to root), so tests and tools can find leftovers of *this* grader only.
        self.token = ""

    def ensure_running(self, wait: bool = True) -> None:
        """Start the zygote if needed; ``wait=False`` lets it warm up while the caller imports torch."""
        with self._lock:
            mine = os.getpid() == self._owner
            if self._proc is None or (mine and self._proc.poll() is not None):
                self._start()
            # a forked worker shares its parent's zygote; only the owner can poll it
            if wait and not self._ready:
                if not _wait_for(self.address, self._proc if mine else None):
                    raise RuntimeError("the sandbox template process did not start")
                self._ready = True

    def _start(self) -> None:
        self._ready = False
        self._dir = tempfile.mkdtemp(prefix="grade-zygote-")
        self.address = os.path.join(self._dir, "spawn.sock")
        alive_r, alive_w = os.pipe()
        self.token = secrets.token_hex(8)
        # Built from nothing: the template's exec'd environment block stays in every sandbox's memory.
        env = isolation.minimal_env({"GRADE_ZYGOTE_TOKEN": self.token})
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent.parent),
                                             env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        code = f"from grader.sandbox.zygote import main; main({self.address!r}, {alive_r})"
        self._proc = subprocess.Popen([sys.executable, "-c", code], pass_fds=[alive_r], env=env,
                                      stdin=subprocess.DEVNULL)
        os.close(alive_r)
        self._alive_w = alive_w
        self._owner = os.getpid()

    def spawn(self, spec: dict) -> tuple[int, socket.socket]:
        """Fork a sandbox for ``spec``; return the monitor pid and our end of its socket."""
        self.ensure_running()
        ours, theirs = socket.socketpair()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as ctl:
            _connect(ctl, self.address)
            socket.send_fds(ctl, [json.dumps(spec).encode()], [theirs.fileno()])
            theirs.close()
            reply = b""
            while chunk := ctl.recv(4096):
                reply += chunk
        pid = json.loads(reply)["pid"]
        return pid, ours


def _connect(sock: socket.socket, address: str) -> None:
    """Connect, retrying briefly while a just-started zygote begins to listen."""
    import time

    for attempt in range(200):
        try:
            sock.connect(address)
            return
        except ConnectionRefusedError:
            time.sleep(0.005 * (1 + attempt // 20))
    sock.connect(address)


def _wait_for(address: str, proc: subprocess.Popen | None, seconds: float = 30.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(address):
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.005)
    return False


_ZYGOTE = Zygote()


def get() -> Zygote:
    """The process-wide zygote (forked grading workers share their parent's)."""
    return _ZYGOTE
