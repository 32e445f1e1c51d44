"""Attack: create big SysV shared-memory segments (mode 666) and leave them behind.

Answers honestly. Whatever shmget allows is left for after the sandbox ends;
the corpus checks that nothing of it survives (tests/test_ipc.py looks at
/proc/sysvipc/shm before and after).
"""
import ctypes

import numpy as np

IPC_CREAT = 0o1000
KEY_BASE = 0x67720000


def _leave_segments():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmget.restype = ctypes.c_int
    libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
    made = 0
    for i in range(5):
        if libc.shmget(KEY_BASE + i, 256 * 2**20, IPC_CREAT | 0o666) >= 0:
            made += 1
    # a private one too, which no key can find again
    if libc.shmget(0, 64 * 2**20, IPC_CREAT | 0o666) >= 0:
        made += 1
    return made


def scale(x, factor):
    _leave_segments()
    return x * factor


def total(x):
    _leave_segments()
    return float(np.sum(x))
