"""Starting processes without fork: the fallback for Windows and fork-unsafe setups.

Where `os.fork` exists the grader forks gradings from its warm parent and
sandboxes from the zygote (grader/sandbox/zygote.py). Without fork, or with the
environment variable ``GRADER_START=spawn`` (for macOS setups where forking
a process with native libraries loaded is unsafe, and for testing this
path), each sandbox is a fresh interpreter started here, and batch workers
are spawned processes that each import torch and the tests once (batch.py).
Both paths run the same sandbox code and the same tests, so results are the
same; only start-up is slower (an interpreter start with NumPy per sandbox).
"""
from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path


def fork_available() -> bool:
    """True where gradings and sandboxes are forked; False selects the spawn path."""
    return hasattr(os, "fork") and os.environ.get("GRADER_START", "").lower() != "spawn"


def start_sandbox(spec: dict) -> tuple[subprocess.Popen, socket.socket]:
    """Start a sandbox in a new interpreter; return it and our end of its socket.

    On POSIX it leads its own session (so killpg reaches everything it
    starts) and inherits its socket end; on Windows the socket is passed
    with socket.share(). The spec goes over stdin.
    """
    ours, theirs = socket.socketpair()
    from grader.sandbox import isolation

    env = isolation.minimal_env()  # built, not inherited: the exec'd block stays in the sandbox's memory
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent.parent),
                                         env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    cmd = [sys.executable, "-c", "from grader.sandbox.spawn import sandbox_main; sandbox_main()"]
    try:
        if os.name == "posix":
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, env=env, pass_fds=[theirs.fileno()],
                                    start_new_session=True)
            payload = {"spec": spec, "fd": theirs.fileno()}
        else:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, env=env,
                                    creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0))
            payload = {"spec": spec, "share": base64.b64encode(theirs.share(proc.pid)).decode()}
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(payload).encode())
        proc.stdin.close()
    finally:
        theirs.close()
    return proc, ours


def sandbox_main() -> None:
    """Entry point of a spawned sandbox: read the spec, then serve like a forked one."""
    payload = json.loads(sys.stdin.buffer.read())
    if "fd" in payload:
        sock = socket.socket(fileno=int(payload["fd"]))
    else:
        sock = socket.fromshare(base64.b64decode(payload["share"]))
    from multiprocessing.connection import Connection

    import numpy  # noqa: F401 - what the zygote would have loaded

    from grader.sandbox import server

    try:
        server.serve(Connection(sock.detach()), payload["spec"])
    finally:
        os._exit(0)


def describe_returncode(code: int | None) -> str:
    """The words zygote.describe_status uses, for a Popen return code (negative: a signal)."""
    from grader.sandbox.zygote import describe_status

    from grader.i18n import t

    if code is None:
        return t("status.stopped")
    if code < 0 and hasattr(os, "WIFSIGNALED"):
        return describe_status(-code)  # a raw wait status with only the signal number set
    if hasattr(os, "WEXITSTATUS"):
        return describe_status((code & 0xFF) << 8)
    return t("status.exit", code=code)


def kill(proc: subprocess.Popen) -> None:
    """Kill a spawned sandbox and everything it started."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
