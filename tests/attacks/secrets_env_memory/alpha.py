"""Probe: recover the grader's environment from this process's memory.

The environment block a process was exec'd with stays in its memory just
below getauxval(AT_EXECFN), even after os.environ is cleared; /proc/self/environ
and /proc/1/environ show it too where /proc exists. Answers honestly; raises
LEAK if it finds a variable the sandbox's own minimal environment never has
(the grader's HOME, PWD, USER, SHELL, VIRTUAL_ENV, pytest's variables, the
course's GRADE_SECRET_SEED, or a GRADE_CANARY_* planted by tests/test_secrets_env.py).
"""
import ctypes

import numpy as np

AT_EXECFN = 31
FOREIGN = (b"HOME=", b"PWD=", b"USER=", b"LOGNAME=", b"SHELL=", b"VIRTUAL_ENV=", b"PYTEST_", b"GRADE_CANARY",
           b"GRADE_SECRET")


def _suspicious(block):
    hits = []
    for item in block.split(b"\0"):
        if item.startswith(FOREIGN) or b"GRADE_CANARY" in item:
            hits.append(item[:80].decode("ascii", "replace"))
    return hits


def _exec_block():
    libc = ctypes.CDLL(None)
    libc.getauxval.restype = ctypes.c_ulong
    libc.getauxval.argtypes = [ctypes.c_ulong]
    execfn = libc.getauxval(AT_EXECFN)
    if not execfn:
        return b""
    # the argument and environment strings lie just below the executable's name at the top of the stack
    return ctypes.string_at(execfn - 24 * 1024, 24 * 1024 + len(ctypes.string_at(execfn)))


def scale(x, factor):
    return x * factor


def total(x):
    found = _suspicious(_exec_block())
    for path in ("/proc/self/environ", "/proc/1/environ", "/proc/self/cmdline"):
        try:
            with open(path, "rb") as fh:
                found += [f"{path}: {hit}" for hit in _suspicious(fh.read())]
        except OSError:
            pass
    if found:
        raise RuntimeError("LEAK " + "; ".join(sorted(set(found))[:6]))
    return float(np.sum(x))
