"""Probe: read other processes through /proc (cwd, environ, cmdline, mem) and /proc/<pid>/root."""
import os

import numpy as np


def scale(x, factor):
    return x * factor


def _owner(pid):
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def total(x):
    found = []
    me = os.getuid()
    pids = [os.getppid()]
    try:
        pids += [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        pass
    for pid in pids:
        if pid in (0, os.getpid()) or _owner(pid) == me:
            continue
        for what in ("cwd", "root"):
            try:
                found.append(f"{pid}/{what}: {os.listdir(f'/proc/{pid}/{what}')[:3]}")
            except OSError:
                pass
        for what in ("environ", "cmdline", "maps"):
            try:
                with open(f"/proc/{pid}/{what}", "rb") as fh:
                    data = fh.read(200)
                if data:
                    found.append(f"{pid}/{what}: {data[:60]!r}")
            except OSError:
                pass
        try:
            with open(f"/proc/{pid}/mem", "rb") as fh:
                fh.seek(0x400000)
                found.append(f"{pid}/mem: {fh.read(8)!r}")
        except OSError:
            pass
        if len(found) > 3:
            break
    if found:
        raise RuntimeError("LEAK " + "; ".join(found[:4]))
    return float(np.sum(x))
