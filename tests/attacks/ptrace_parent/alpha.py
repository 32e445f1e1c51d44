"""Probe: ptrace / process_vm_readv the monitor, the zygote and the grader."""
import ctypes
import os

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    libc = ctypes.CDLL(None, use_errno=True)
    found = []
    targets = {os.getppid(), 1}
    try:
        targets |= {int(p) for p in os.listdir("/proc") if p.isdigit()}
    except OSError:
        pass
    targets -= {os.getpid(), 0}
    buf = ctypes.create_string_buffer(8)

    class IoVec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

    local = IoVec(ctypes.cast(buf, ctypes.c_void_p), 8)
    remote = IoVec(0x400000, 8)
    for pid in sorted(targets)[:200]:
        if libc.ptrace(16, pid, None, None) == 0:  # PTRACE_ATTACH
            found.append(f"ptrace attach {pid}")
            libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
        n = libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
        if n > 0:
            found.append(f"process_vm_readv {pid}")
    if found:
        raise RuntimeError("LEAK " + ", ".join(found[:5]))
    return float(np.sum(x))
