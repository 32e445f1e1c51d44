"""The sandbox process: imports and runs student code, and nothing else.

This module is the only grader code that runs next to student code. It must
stay importable with NumPy and the standard library alone (never torch, never
test files), because its process is forked from a clean template. Everything
it sends back is data (see channel.py); the trusted side decides what it
means. Nothing here is trusted once student code has been imported: the
student can patch any of it, which only lets them return values they
computed themselves.
"""
from __future__ import annotations

import importlib
import io
import linecache
import os
import sys
import traceback
from typing import Any

import numpy as np

from grader import i18n
from grader.wire import channel
from grader.sandbox import isolation

#: Standard-library and NumPy modules loaded before the uid drop: afterwards
#: the interpreter's own files may be unreadable (e.g. Python under /root).
PRELOAD = (
    "abc array bisect cmath collections collections.abc contextlib copy dataclasses datetime "
    "decimal enum fractions functools heapq importlib importlib.util importlib.machinery inspect "
    "io itertools json linecache math numbers operator pprint queue random re statistics string "
    "struct textwrap time types typing warnings weakref numpy.linalg numpy.fft numpy.random "
    "numpy.lib.stride_tricks numpy.polynomial numpy.ma"
).split()


#: The module namespace a driver's source runs in (op "run"), besides the builtins: nothing of the
#: test module travels with it. The trusted side refuses drivers reading other names (remote.free_names).
DRIVER_GLOBALS = {"__name__": "grader_driver"}


class CappedOutput(io.TextIOBase):
    """A stdout/stderr replacement that keeps at most ``cap`` characters per drain."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        room = self.cap - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(len(text), room)
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def drain(self) -> str:
        text = "".join(self.parts)
        if self.dropped:
            text += "\n" + i18n.t("output.more", n=self.dropped)
        self.parts, self.size, self.dropped = [], 0, 0
        return text


class Blocker:
    """Meta-path finder that refuses forbidden packages with a clear message."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = set(names)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".")[0] in self.names:
            raise ImportError(i18n.t("sandbox.blocked", pkg=name.split(".")[0]))
        return None


class Server:
    """Holds the student's objects and answers the grader's requests."""

    def __init__(self, conn: Any, spec: dict) -> None:
        self.conn = conn
        self.spec = spec
        self.objects: dict[int, Any] = {}
        self.ids: dict[int, int] = {}
        self.next_id = 1
        self.output = CappedOutput(int(spec.get("output_cap", 16384)))
        self.workdir = spec["workdir"]
        self.reply_cap = int(spec.get("reply_cap", 256 * 2**20)) - 2**16

    # -- handles -------------------------------------------------------
    def register(self, obj: Any) -> channel.Handle:
        if isinstance(obj, np.ndarray):
            # Arrays become handles only by mistake: say why they cannot be graded.
            if type(obj) is not np.ndarray:
                raise TypeError(i18n.t("sandbox.ndarray_subclass", type=type(obj).__name__))
            raise TypeError(i18n.t("sandbox.ndarray_dtype", dtype=obj.dtype))
        key = id(obj)
        if key not in self.ids:
            self.ids[key] = self.next_id
            self.objects[self.next_id] = obj
            self.next_id += 1
        return channel.Handle(self.ids[key], type(obj).__name__, callable(obj))

    def resolve(self, handle: channel.Handle) -> Any:
        try:
            return self.objects[handle.id]
        except KeyError:
            raise LookupError(f"unknown handle {handle.id}") from None

    # -- requests ------------------------------------------------------
    def handle(self, request: dict) -> Any:
        op = request["op"]
        if op == "import":
            return importlib.import_module(request["module"])
        if op == "getattr":
            return getattr(request["obj"], request["name"])
        if op == "call":
            return request["obj"](*request.get("args", ()), **request.get("kwargs", {}))
        if op == "callattr":  # obj.name(...) in one round trip
            function = getattr(request["obj"], request["name"])
            if not callable(function):
                raise TypeError(i18n.t("sandbox.not_callable", name=request["name"], type=type(function).__name__))
            return function(*request.get("args", ()), **request.get("kwargs", {}))
        if op == "run":
            namespace: dict = dict(DRIVER_GLOBALS)
            exec(compile(request["source"], "<grader driver>", "exec"), namespace)
            return namespace[request["name"]](*request.get("args", ()), **request.get("kwargs", {}))
        if op == "release":
            obj = self.objects.pop(int(request["id"]), None)
            self.ids.pop(id(obj), None)
            return None
        if op == "ping":
            return "pong"
        raise ValueError(f"unknown op {op!r}")

    def reply_error(self, exc: BaseException) -> dict:
        if isinstance(exc, SystemExit):
            message = i18n.t("sandbox.sys_exit", code=repr(exc.code))
            return {"type": "SystemExit", "message": message, "traceback": self.student_traceback(exc)}
        return {"type": type(exc).__name__, "message": str(exc)[:2000], "traceback": self.student_traceback(exc)}

    def student_traceback(self, exc: BaseException) -> str:
        """Only the frames in the student's own files, innermost last."""
        lines = []
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename.startswith(self.workdir):
                name = os.path.relpath(frame.filename, self.workdir)
                lines.append(f'  File "{name}", line {frame.lineno}, in {frame.name}')
                if frame.line:
                    lines.append(f"    {frame.line.strip()}")
        return "\n".join(lines[-12:])

    def loop(self) -> None:
        while True:
            try:
                frame = self.conn.recv_bytes()
            except (EOFError, OSError):
                return
            try:
                request = channel.decode(frame, from_handle=self.resolve)
                value = self.handle(request)
                reply = {"ok": value}
            except BaseException as exc:  # noqa: BLE001 - student code may raise anything
                reply = {"error": self.reply_error(exc)}
            reply["out"] = self.output.drain()
            try:
                size = _array_bytes(reply.get("ok"))
                if size > self.reply_cap:
                    raise ValueError(i18n.t("sandbox.too_large_arrays", size=f"{size / 2**20:.0f}",
                                            cap=f"{self.reply_cap / 2**20:.0f}"))
                data = channel.encode(reply, to_handle=self.register)
                if len(data) > self.reply_cap:
                    raise ValueError(i18n.t("sandbox.too_large", size=f"{len(data) / 2**20:.0f}",
                                            cap=f"{self.reply_cap / 2**20:.0f}"))
            except BaseException as exc:  # noqa: BLE001
                reply = {"error": {"type": "BadReturn", "message": i18n.t("sandbox.cannot_send", detail=exc),
                                   "traceback": ""}, "out": reply["out"]}
                data = channel.encode(reply)
            self.conn.send_bytes(data)


def _array_bytes(value: Any, depth: int = 0) -> int:
    """Bytes the arrays in ``value`` would take on the wire (strided views counted in full)."""
    if isinstance(value, np.ndarray):
        return int(value.size) * value.dtype.itemsize
    if depth > 64:
        return 0
    if type(value) in (list, tuple):
        return sum(_array_bytes(v, depth + 1) for v in value)
    if type(value) is dict:
        return sum(_array_bytes(v, depth + 1) for v in value.values())
    return 0


def preload_standard_library() -> None:
    """Import PRELOAD (the zygote does this once; every sandbox inherits the modules)."""
    for name in PRELOAD:
        importlib.import_module(name)


def _reseed() -> None:
    """Fresh global random states: forks of one template would otherwise all draw the same numbers."""
    import random

    random.seed()
    np.random.seed()


def _preload_tree(name: str, report: dict) -> None:
    """Import a course module and, for a package, all its submodules."""
    import pkgutil

    try:
        module = importlib.import_module(name)
        for info in pkgutil.walk_packages(getattr(module, "__path__", []), prefix=name + "."):
            importlib.import_module(info.name)
    except Exception as exc:  # noqa: BLE001 - a broken course module is reported, not fatal
        report["notes"].append(f"could not preload {name}: {exc}")


def forget_foreign(names: list[str], paths: list[str]) -> None:
    """Drop preloaded modules (and submodules) that did not come from ``paths`` (another course's)."""
    roots = tuple(os.path.join(os.path.abspath(p), "") for p in paths)
    for name in names:
        module = sys.modules.get(name)
        origin = os.path.abspath(getattr(module, "__file__", None) or "") if module else ""
        if module is not None and not origin.startswith(roots):
            for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
                del sys.modules[loaded]


def preload_course(spec: dict, report: dict) -> None:
    """Import the course modules of ``spec`` (autodiff, ...) with forbidden packages blocked.

    The zygote calls this once per course, so sandboxes inherit the modules
    (a faster sandbox start); each sandbox calls it again, which only
    imports what is missing or came from another course.
    """
    paths, names = list(spec.get("course_paths", ())), list(spec.get("preload", ()))
    forget_foreign(names, paths)
    blocker = Blocker(tuple(spec.get("forbidden", ())))
    sys.path[:0] = paths
    sys.meta_path.insert(0, blocker)
    try:
        for name in names:
            _preload_tree(name, report)
    finally:
        sys.meta_path.remove(blocker)
        del sys.path[:len(paths)]


def start_failure(exc: BaseException) -> dict:
    """What the grader is told when a sandbox cannot start: type, message and where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    return {"type": type(exc).__name__, "message": str(exc)[:1000], "where": where}


def serve(conn: Any, spec: dict) -> None:
    """Entry point of a sandbox process: wall in, preload, drop privileges, serve.

    Until "ready" is sent no student code has run, so an exception here is
    the environment's: it is sent to the grader as {"failed": ...} (never a
    bare exit) and the process ends.
    """
    try:
        i18n.set_language(str(spec.get("language", i18n.DEFAULT_LANGUAGE)))
        i18n.catalogue(), i18n.catalogue("en")  # loaded now: after the walls go up the files may be unreadable
        report = isolation.enter(spec, conn.fileno())
        preload_standard_library()  # a no-op when forked from the zygote, which did it once
        preload_course(spec, report)
        isolation.drop_privileges(spec, report)
    except BaseException as exc:  # noqa: BLE001 - reported, then the process ends
        try:
            conn.send_bytes(channel.encode({"failed": start_failure(exc)}))
        finally:
            os._exit(70)
    sys.dont_write_bytecode = True
    sys.path[:0] = [spec["workdir"]]
    sys.meta_path.insert(0, Blocker(tuple(spec.get("forbidden", ()))))
    for name in list(sys.modules):
        if name.split(".")[0] in spec.get("forbidden", ()):
            del sys.modules[name]
    linecache.clearcache()
    _reseed()
    server = Server(conn, spec)
    sys.stdout = sys.stderr = sys.__stdout__ = sys.__stderr__ = server.output  # type: ignore[misc]
    np.seterr(all="warn")
    conn.send_bytes(channel.encode({"ready": report}))
    server.loop()
    os._exit(0)
