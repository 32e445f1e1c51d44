"""The trusted side's handle on a sandboxed submission: the `student` fixture.

A `StudentSession` owns one sandbox process for one exercise of one
submission. Every call has a time limit; when it expires, or the sandbox
dies, the sandbox is killed as a whole and the next call starts a fresh one,
so one endless loop costs one test, not the exercise. What comes back is
decoded with caps (channel.py) and is plain data or a `RemoteObject`.
"""
from __future__ import annotations

import builtins
import dis
import functools
import inspect
import os
import re
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

from grader import i18n
from grader.wire import channel
from grader.wire import framing
from grader.sandbox import isolation
from grader.sandbox import server
from grader.sandbox import spawn
from grader.trusted import staticcheck
from grader.trusted.errors import (AuthorError, BadReturn, ImportFailed, SandboxUnavailable, StudentCrash,
                           StudentException, StudentTimeout)

#: What a reply may hold. Decoding is linear in its size: dict keys only str and small ints (no
#: hash-collision floods), at most 100,000 dict entries, integers of at most 18 digits (they fit
#: int64, so float() and NumPy comparisons of them can neither overflow nor make object arrays).
REPLY_CAPS = channel.Caps(max_bytes=256 * 2**20, max_array_bytes=256 * 2**20, max_dict_keys=100_000,
                          max_int_digits=18, str_int_keys_only=True)
#: Strings a session remembers per test (hidden-test messages are scrubbed of them, see plugin.py).
SEEN_CAP = 2000
#: Longer strings are not kept; the session notes the overflow instead (see plugin.redact_hidden).
SEEN_CHARS = 20_000
#: Seconds after a call's deadline for the rest of a reply that has started (or a request to be taken).
WATCHDOG_GRACE = 2.0
#: Endless loops (docs/authoring.md, "Time limits and endless loops"): a function whose call timed out
#: once gets at most this many seconds in later calls of the same session.
REPEAT_LIMIT = 2.0
#: Seconds of stopped calls a session may spend beyond one full timeout before it stops running
#: functions that already timed out.
EXTRA_TIMEOUT_BUDGET = 3 * REPEAT_LIMIT


@dataclass
class SandboxConfig:
    """Everything needed to start sandboxes for one exercise of one submission."""

    submission_dir: Path
    files: tuple[str, ...]              # student files, copied into the sandbox
    extra_files: tuple[str, ...] = ()   # optional data files (weights)
    numpy_only: tuple[str, ...] = ()
    course_paths: tuple[str, ...] = ()  # where course modules (autodiff, ...) live
    preload: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    hidden_paths: tuple[str, ...] = ()  # folders the sandbox must not see
    call_timeout: float = 10.0
    import_timeout: float = 20.0
    memory_mb: int = 2048
    output_cap: int = 16384


class SandboxProcess:
    """One running sandbox (monitor + student process) and our channel to it."""

    def __init__(self, config: SandboxConfig) -> None:
        from grader.sandbox import zygote

        self.workdir = tempfile.mkdtemp(prefix=isolation.workdir_prefix())
        for name in config.files + config.extra_files:
            src = config.submission_dir / name
            if src.is_file():
                shutil.copyfile(src, os.path.join(self.workdir, name))
        spec = {
            "workdir": self.workdir, "course_paths": list(config.course_paths),
            "preload": list(config.preload), "forbidden": list(config.forbidden),
            "hidden_paths": list(config.hidden_paths), "memory_mb": config.memory_mb,
            # one sandbox runs an exercise's public and then its hidden tests: room for both
            "output_cap": config.output_cap, "cpu_seconds": int(max(120, 40 * config.call_timeout)),
            "language": i18n.language(),
        }
        self.spawned: subprocess.Popen | None = None
        try:
            if spawn.fork_available():
                self.pid, self.sock = zygote.get().spawn(spec)
            else:
                self.spawned, self.sock = spawn.start_sandbox(spec)
                self.pid = self.spawned.pid
            framing.prepare(self.sock)
        except (OSError, RuntimeError, ValueError) as exc:
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise SandboxUnavailable(f"could not start the sandbox: {exc}") from exc
        self.report: dict = {}
        self.uid: int | None = None

    def exchange(self, frame: bytes | None, timeout: float, what: str) -> dict:
        """Send a request (or nothing) and wait for one reply frame.

        The reply must start within ``timeout`` and be complete shortly after,
        so a sandbox that sends half a frame (or stops reading a large
        request) cannot block the grader; on a deadline the sandbox is killed.
        """
        deadline = time.monotonic() + timeout
        try:
            if frame is not None:
                framing.send(self.sock, frame, deadline + WATCHDOG_GRACE)
            data = framing.recv(self.sock, deadline, deadline + WATCHDOG_GRACE, REPLY_CAPS.max_bytes)
        except framing.FrameTimeout:
            self.kill_processes()
            raise StudentTimeout(what, timeout) from None
        except framing.FrameTooLarge:
            raise BadReturn(i18n.t("err.too_large", what=what, mib=REPLY_CAPS.max_bytes // 2**20)) from None
        except (EOFError, OSError) as exc:
            if self.spawned is not None:  # no monitor to tell how it ended: ask the process itself
                spawn.kill(self.spawned)
                raise StudentCrash(what, spawn.describe_returncode(self.spawned.returncode)) from None
            raise StudentCrash(what, i18n.t("err.connection_broke", detail=exc.__class__.__name__)) from None
        try:
            reply = channel.decode(data, REPLY_CAPS, from_handle=lambda h: h, deadline=deadline + WATCHDOG_GRACE)
        except channel.ChannelTimeout:
            self.kill_processes()
            raise StudentTimeout(what, timeout) from None
        except channel.ChannelError as exc:
            raise BadReturn(i18n.t("err.not_plain_data", what=what, detail=exc)) from None
        except Exception as exc:  # noqa: BLE001 - whatever the bytes did to the decoder, the sandbox sent them
            raise BadReturn(i18n.t("err.unreadable", what=what, detail=type(exc).__name__)) from None
        if type(reply) is not dict:
            raise BadReturn(i18n.t("err.malformed_reply", what=what))
        if "died" in reply:
            raise StudentCrash(what, str(reply["died"])[:500])
        return reply

    def kill_processes(self) -> None:
        """SIGKILL the sandbox's process group (student processes cannot leave it) and the sandbox uid."""
        if self.spawned is not None:
            spawn.kill(self.spawned)
        else:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                pass
        if self.uid is not None:
            isolation.kill_uid(self.uid, killed_group=self.pid)

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the sandbox's process group (monitor, student process and what it started)."""
        try:
            os.killpg(self.pid, signum)
        except (ProcessLookupError, PermissionError, OSError):
            pass

    def kill(self) -> None:
        """End the sandbox, remove its folder, and record in its report what had to be cleaned up."""
        self.kill_processes()
        try:
            self.sock.close()
        except OSError:
            pass
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.report["leftovers"] = isolation.sweep(self.uid, self.pid, walled=isolation.walled_in(self.report))


class StudentSession:
    """Calls into one exercise's student modules, restarting the sandbox as needed."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.proc: SandboxProcess | None = None
        self.pending: SandboxProcess | None = None  # started ahead (prestart), not yet used
        self.generation = 0
        self.modules: dict[str, Any] = {}          # module name -> handle, this generation
        self.callables: set[tuple[str, str]] = set()  # (module, name) known callable, this generation
        self.failed: dict[str, ImportFailed] = {}  # module name -> why it cannot load
        self.output: list[str] = []
        self.isolation: dict = {}
        self.timed_out: set[str] = set()   # calls (their `what`) that ran into their time limit
        self.timeout_spent = 0.0           # seconds spent waiting for calls that were then stopped
        self.replies = 0                # replies that carried a value (the plugin's blame uses it)
        self.seen: list[str] = []       # strings the sandbox sent since the plugin last cleared it
        self.seen_overflow = False      # more (or longer) strings than `seen` keeps: redact everything
        self.returned: list[Any] = []   # values replies carried since the plugin last cleared it (blame)
        self.paused = False             # its processes are stopped (SIGSTOP) while other exercises' tests run
        self.hidden = False             # the hidden tests have begun (begin_hidden)
        for name in config.files:
            problem = staticcheck.check_file(config.submission_dir / name, numpy_only=name in config.numpy_only,
                                             forbidden=config.forbidden)
            if problem:
                self.failed[Path(name).stem] = ImportFailed(problem)

    # -- process management -------------------------------------------
    def prestart(self) -> None:
        """Start the sandbox now without waiting for it: it walls itself in while other tests run.

        Nothing of the submission runs in it until the first request (modules
        are imported on first use), so starting early changes no result; a
        start that fails here is simply retried, and reported, on first use.
        """
        if self.proc is None and self.pending is None:
            try:
                self.pending = SandboxProcess(self.config)
            except SandboxUnavailable:
                self.pending = None

    def _ensure(self) -> SandboxProcess:
        if self.proc is None:
            proc, self.pending = self.pending or SandboxProcess(self.config), None
            try:
                reply = proc.exchange(None, 60.0, "starting the sandbox")
            except Exception as exc:
                proc.kill()
                raise SandboxUnavailable(f"the sandbox did not start: {exc}") from exc
            failed = reply.get("failed")
            if isinstance(failed, dict):  # the sandbox's own account of why it could not start
                proc.kill()
                where = str(failed.get("where", ""))[:200]
                kind, message = str(failed.get("type", "Error"))[:100], str(failed.get("message", ""))[:1000]
                raise SandboxUnavailable(f"the sandbox did not start: {kind}: {message}"
                                         + (f" (at {where})" if where else ""))
            proc.report = reply.get("ready", {}) if isinstance(reply.get("ready"), dict) else {}
            proc.uid = proc.report.get("uid")
            self.isolation = proc.report
            self.proc = proc
            self.generation += 1
            self.modules, self.callables = {}, set()
        return self.proc

    def close(self) -> None:
        """Kill the sandbox (and one started ahead); the next request starts a fresh one."""
        for proc in (self.proc, self.pending):
            if proc is not None:
                proc.kill()
        self.proc = self.pending = None
        self.paused = False

    def pause(self) -> None:
        """Stop the sandbox's processes while other tests run; the next request continues them.

        A sandbox stays open from its exercise's public tests to its hidden
        ones. A thread or process the submission left running must not take
        CPU time from the tests in between (its own or, in a batch, another
        student's). SIGSTOP cannot be caught or ignored.
        """
        if self.proc is not None and not self.paused and hasattr(signal, "SIGSTOP"):
            self.proc.signal_group(signal.SIGSTOP)
            self.paused = True

    def resume(self) -> None:
        """Continue a paused sandbox."""
        if self.paused:
            self.paused = False
            if self.proc is not None:
                self.proc.signal_group(signal.SIGCONT)

    def begin_hidden(self) -> None:
        """The hidden tests start: they get the time-limit budget a fresh sandbox would have.

        They share the sandbox of the public tests (which all ran before, so
        nothing of a hidden input can reach a public test's output), but the
        timeouts of the public tests do not shorten their limits.
        """
        if not self.hidden:
            self.hidden = True
            self.timed_out.clear()
            self.timeout_spent = 0.0

    def time_limit(self, timeout: float, what: str) -> tuple[float, str]:
        """The limit for one call and why: ("first"), ("repeat"), ("budget") or ("refused", 0 s).

        One endless loop must not cost minutes: a call (named by ``what``) that
        timed out before gets at most REPEAT_LIMIT seconds. Once one call has
        waited a full call_timeout, every other call with the default limit
        gets REPEAT_LIMIT too (a driver may be stuck in the same loop); a longer
        limit a test asked for explicitly (e.g. a slow predict) is kept. Once
        the session has spent call_timeout + EXTRA_TIMEOUT_BUDGET seconds on
        stopped calls, a call that timed out before is not run again. A correct
        function that is slow on one large case loses that case only, as long
        as its other calls finish within REPEAT_LIMIT.
        """
        spent = self.timeout_spent
        if what in self.timed_out:
            if spent >= self.config.call_timeout + EXTRA_TIMEOUT_BUDGET:
                return 0.0, "refused"
            return min(timeout, REPEAT_LIMIT), "repeat"
        if spent >= self.config.call_timeout and timeout <= self.config.call_timeout:
            return min(timeout, REPEAT_LIMIT), "budget"
        return timeout, "first"

    def request(self, message: dict, timeout: float, what: str) -> Any:
        """One round trip; timeouts and crashes kill the sandbox before raising."""
        kind = "first"
        if message.get("op") != "import":  # an import that timed out is remembered as ImportFailed
            timeout, kind = self.time_limit(timeout, what)
            if kind == "refused":
                raise StudentTimeout(what, 0.0, kind="refused")
        self.resume()
        proc = self._ensure()
        frame = channel.encode(message)
        try:
            reply = proc.exchange(frame, timeout, what)
        except StudentTimeout:
            self.close()
            self.timed_out.add(what)
            self.timeout_spent += timeout
            raise StudentTimeout(what, timeout, kind=kind) from None
        except (StudentCrash, BadReturn):
            self.close()
            raise
        out = reply.get("out")
        if isinstance(out, str) and out:
            self.output.append(out[: self.config.output_cap + 200])
            self._saw(out)
        if "error" in reply:
            err = reply["error"] if isinstance(reply["error"], dict) else {}
            # Remember the texts as they are passed on (cut to length): a 300-character type name
            # remembered whole would not match its first 100 characters in a hidden test's message.
            kind, text, trace = (str(err.get("type", "Error"))[:100], str(err.get("message", ""))[:2000],
                                 str(err.get("traceback", ""))[:4000])
            for piece in (kind, text, trace):
                self._saw(piece)
            if kind == "BadReturn":
                raise BadReturn(i18n.t("err.cannot_grade", what=what, detail=text))
            raise StudentException(kind, text, trace)
        self.replies += 1
        value = self._wrap(reply.get("ok"))
        if len(self.returned) < SEEN_CAP:
            self.returned.append(value)
        return value

    def _saw(self, text: Any) -> None:
        """Remember a string the sandbox produced, so hidden-test messages can be scrubbed of it."""
        if type(text) is not str or not text:
            return
        if len(self.seen) < SEEN_CAP and len(text) <= SEEN_CHARS:
            self.seen.append(text)
        else:
            self.seen_overflow = True

    def _wrap(self, value: Any) -> Any:
        """Turn handles in a reply into RemoteObjects bound to this generation."""
        if isinstance(value, channel.Handle):
            self._saw(value.type_name)
            return RemoteObject(self, value, self.generation)
        if type(value) is str:
            self._saw(value)
            return value
        if type(value) is list:
            return [self._wrap(v) for v in value]
        if type(value) is tuple:
            return tuple(self._wrap(v) for v in value)
        if type(value) is dict:
            return {self._wrap(k): self._wrap(v) for k, v in value.items()}
        return value

    # -- what tests use ------------------------------------------------
    def module_handle(self, name: str) -> Any:
        if name in self.failed:
            raise self.failed[name]
        self._ensure()
        if name not in self.modules:
            filename = f"{name}.py"
            try:
                self.modules[name] = self.request({"op": "import", "module": name}, self.config.import_timeout,
                                                  i18n.t("what.import", file=filename))
            except StudentTimeout:
                self.failed[name] = ImportFailed(
                    i18n.t("err.import_timeout", file=filename, seconds=f"{self.config.import_timeout:g}"))
                raise self.failed[name] from None
            except StudentException as exc:
                self.failed[name] = ImportFailed(
                    i18n.t("err.import_failed", file=filename, type=exc.type, message=exc.message)
                    + (f"\n{exc.traceback}" if exc.traceback else ""))
                raise self.failed[name] from None
            except StudentCrash as exc:
                self.failed[name] = ImportFailed(i18n.t("err.import_crash", file=filename, how=exc.how))
                raise self.failed[name] from None
        return self.modules[name]

    def module(self, name: str, timeout: float | None = None) -> "RemoteModule":
        return RemoteModule(self, name, timeout)

    def run(self, driver: Callable, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """Run a driver function's source in the sandbox and return its result."""
        source = _driver_source(driver)
        _check_driver(source, driver.__name__)
        message = {"op": "run", "source": source, "name": driver.__name__, "args": _unwrap(args),
                   "kwargs": _unwrap(kwargs)}
        return self.request(message, timeout or self.config.call_timeout, f"{driver.__name__}(...)")

    def take_output(self) -> str:
        """What the student's code printed since the last call, capped."""
        text = "".join(self.output)
        self.output = []
        cap = self.config.output_cap
        if len(text) > cap + 200:
            text = text[:cap] + "\n" + i18n.t("output.more", n=len(text) - cap)
        return text


@functools.lru_cache(maxsize=None)
def _driver_source(driver: Callable) -> str:
    """A driver's source, found once per process (inspect re-tokenizes the file on every call)."""
    return textwrap.dedent(inspect.getsource(driver))


#: Names the sandbox's driver namespace holds besides the builtins (exec adds ``__builtins__``).
DRIVER_NAMESPACE = frozenset(server.DRIVER_GLOBALS) | {"__builtins__"}


def _check_driver(source: str, name: str) -> None:
    """Refuse a driver that reads names the sandbox does not define (an author's bug, not the student's).

    The sandbox executes the driver's source alone, in a namespace holding only
    ``__name__`` and the builtins: module-level constants, imports and helpers
    of the test module do not travel with it. Without this check such a
    driver raises NameError in the sandbox, which reads as the student's
    exception. The free names are found once per driver source and process (_missing_names).
    """
    __tracebackhide__ = True  # pytest shows the author the test's `student.run(...)` line, not this check
    missing = _missing_names(source)
    if missing:
        raise AuthorError(f"driver {name}() reads {', '.join(missing)}, which the sandbox does not define: a driver "
                          "runs alone in the sandbox (without the test module's imports, constants and helpers); "
                          "import or define them inside the driver, or pass them as arguments")


@functools.lru_cache(maxsize=None)
def _missing_names(source: str) -> tuple[str, ...]:
    """free_names, once per source and process (it compiles the source and reads its bytecode)."""
    return tuple(free_names(source))


def warm_drivers(modules: Iterable[ModuleType]) -> int:
    """Read the source and the free names of every driver these modules send, once.

    Called in the warm parent of a batch: every forked grading inherits both
    caches, so a driver its tests send is neither re-tokenised (inspect) nor
    re-compiled (free_names) per submission. A driver is a function a module
    passes by name to ``.run(...)`` (found in the module's text), so
    the hundreds of other functions in test modules cost nothing here.
    Returns how many were prepared.
    """
    count = 0
    for module in modules:
        for name in _names_sent_to_run(module):
            driver = getattr(module, name, None)
            if not inspect.isfunction(driver):
                continue
            try:
                _missing_names(_driver_source(driver))
            except (OSError, TypeError, SyntaxError):   # no source file, or not a stand-alone function
                continue
            count += 1
    return count


#: ``.run(name`` in a module's text: the drivers it sends (a name in a comment costs one needless cache entry).
_RUN_CALL = re.compile(r"\.run\(\s*([A-Za-z_]\w*)")


def _names_sent_to_run(module: ModuleType) -> set[str]:
    """Names passed as the first argument of a ``.run(...)`` call in the module's source."""
    try:
        return set(_RUN_CALL.findall(Path(module.__file__ or "").read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, ValueError):
        return set()


def free_names(source: str) -> list[str]:
    """Global names the code in ``source`` loads (nested functions and classes included) but never defines.

    Looks at the compiled bytecode: LOAD_GLOBAL and LOAD_NAME in every code
    object, minus names stored at module level or declared ``global`` and
    assigned, names a class body stores itself, builtins and DRIVER_NAMESPACE.
    """
    top = compile(source, "<grader driver>", "exec")
    loaded: set[str] = set()
    defined: set[str] = set(DRIVER_NAMESPACE) | set(dir(builtins))
    pending = [top]
    while pending:
        code = pending.pop()
        own: set[str] = set()   # names this code object stores itself (class bodies, the module level)
        reads: set[str] = set()
        for ins in dis.get_instructions(code):
            if ins.opname in ("LOAD_GLOBAL", "LOAD_FROM_DICT_OR_GLOBALS"):
                loaded.add(ins.argval)
            elif ins.opname == "LOAD_NAME":
                reads.add(ins.argval)
            elif ins.opname in ("STORE_NAME", "DELETE_NAME"):
                own.add(ins.argval)
            elif ins.opname == "STORE_GLOBAL":
                defined.add(ins.argval)
        if code is top:
            defined |= own
        loaded |= reads - own
        pending += [c for c in code.co_consts if inspect.iscode(c)]
    return sorted(loaded - defined)


def _unwrap(value: Any) -> Any:
    """RemoteObjects travel back to the sandbox as their handles."""
    if isinstance(value, RemoteObject):
        return value._handle_for_send()
    if type(value) is list:
        return [_unwrap(v) for v in value]
    if type(value) is tuple:
        return tuple(_unwrap(v) for v in value)
    if type(value) is dict:
        return {k: _unwrap(v) for k, v in value.items()}
    return value


class RemoteModule:
    """A student module: attribute access yields its functions and classes.

    The first access to a name in a sandbox generation fetches it (one round
    trip); once it is known to be callable, later accesses return a
    `_ModuleFunction` that looks the name up afresh inside each call, so a
    call costs one round trip, not two.
    """

    def __init__(self, session: StudentSession, name: str, timeout: float | None) -> None:
        self._session, self._name, self._timeout = session, name, timeout

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        session = self._session
        if (self._name, attr) in session.callables:
            return _ModuleFunction(self, attr)
        value = self._fetch(attr)
        if isinstance(value, RemoteObject) and value.callable:
            session.callables.add((self._name, attr))
        return value

    def _fetch(self, attr: str) -> Any:
        session = self._session
        module = session.module_handle(self._name)
        value = session.request({"op": "getattr", "obj": module._handle_for_send(), "name": attr},
                                session.config.call_timeout, f"{self._name}.{attr}")
        if isinstance(value, RemoteObject):
            value._label = f"{self._name}.{attr}"
            value._timeout = self._timeout
        return value


class RemoteObject:
    """An object that lives in the sandbox (a function, a Conv2D, a ReplayBuffer)."""

    def __init__(self, session: StudentSession, handle: channel.Handle, generation: int) -> None:
        self._session, self._handle, self._generation = session, handle, generation
        self._label = handle.type_name
        self._timeout: float | None = None

    @property
    def type_name(self) -> str:
        return self._handle.type_name

    @property
    def callable(self) -> bool:
        return self._handle.callable

    def _handle_for_send(self) -> channel.Handle:
        if self._generation != self._session.generation or self._session.proc is None:
            raise StudentCrash(i18n.t("what.use", label=self._label), i18n.t("err.object_lost"))
        return self._handle

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        message = {"op": "call", "obj": self._handle_for_send(), "args": _unwrap(args), "kwargs": _unwrap(kwargs)}
        return self._session.request(message, self._timeout or self._session.config.call_timeout,
                                     f"{self._label}(...)")

    def attr(self, name: str) -> Any:
        """Read an attribute in the sandbox (data, or another RemoteObject)."""
        value = self._session.request({"op": "getattr", "obj": self._handle_for_send(), "name": name},
                                      self._session.config.call_timeout, f"{self._label}.{name}")
        if isinstance(value, RemoteObject):
            value._label = f"{self._label}.{name}"
            value._timeout = self._timeout
        return value

    def __getattr__(self, name: str) -> "_Method":
        if name.startswith("_"):
            raise AttributeError(name)
        return _Method(self, name)

    def __len__(self) -> int:
        value = _Method(self, "__len__")()
        if type(value) is not int:
            raise BadReturn(i18n.t("err.len_not_int", label=self._label, type=type(value).__name__))
        return value

    def __repr__(self) -> str:
        return f"<{self._handle.type_name} in the sandbox>"


class _ModuleFunction(RemoteObject):
    """A callable name of a student module, looked up inside each call (one round trip per call).

    Used like the function itself; anything other than calling it (its
    type, passing it to a driver) fetches the object first.
    """

    def __init__(self, module: RemoteModule, attr: str) -> None:
        self._module, self._attr, self._resolved = module, attr, None
        self._session = module._session
        self._label = f"{module._name}.{attr}"
        self._timeout = module._timeout

    def _target(self) -> RemoteObject:
        if self._resolved is None:
            value = self._module._fetch(self._attr)
            if not isinstance(value, RemoteObject):
                raise BadReturn(i18n.t("err.not_callable", label=self._label, type=type(value).__name__))
            self._resolved = value
        return self._resolved

    @property
    def _handle(self) -> channel.Handle:  # type: ignore[override]
        return self._target()._handle

    @property
    def _generation(self) -> int:  # type: ignore[override]
        return self._target()._generation

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _call_attr(self._session, self._session.module_handle(self._module._name), self._attr,
                          args, kwargs, self._timeout, f"{self._label}(...)")


class _Method:
    """`obj.name(...)` on a RemoteObject: one round trip that looks up and calls the method."""

    def __init__(self, obj: RemoteObject, name: str) -> None:
        self._obj, self._name = obj, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _call_attr(self._obj._session, self._obj, self._name, args, kwargs, self._obj._timeout,
                          f"{self._obj._label}.{self._name}(...)")


def _call_attr(session: StudentSession, obj: RemoteObject, name: str, args: tuple, kwargs: dict,
               timeout: float | None, what: str) -> Any:
    message = {"op": "callattr", "obj": obj._handle_for_send(), "name": name, "args": _unwrap(args),
               "kwargs": _unwrap(kwargs)}
    return session.request(message, timeout or session.config.call_timeout, what)
