"""Peak memory of a process tree, sampled from /proc (Linux; no psutil needed).

RSS summed over a tree counts pages that forked processes share once per
process, so it overstates what a fork-based grader really uses; PSS
(proportional set size, /proc/PID/smaps_rollup) splits shared pages between
their users and sums to the real footprint. Both are recorded.
"""
from __future__ import annotations

import os
import threading
import time

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _ppid_map() -> dict[int, int]:
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        rest = data[data.rfind(b")") + 2:].split()
        out[int(entry)] = int(rest[1])
    return out


def tree(root: int) -> list[int]:
    """``root`` and all its descendants alive right now."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _ppid_map().items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def usage(pids: list[int]) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) in bytes over ``pids``; vanished processes count 0."""
    rss = pss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as fh:
                rss += int(fh.read().split()[1]) * PAGE
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            continue
    return rss, pss


class Sampler:
    """Samples a process tree in a thread; `peak` holds the maxima seen."""

    def __init__(self, root: int, interval: float = 0.2, exclude_root: bool = False) -> None:
        self.root, self.interval, self.exclude_root = root, interval, exclude_root
        self.peak = {"rss_sum_bytes": 0, "pss_sum_bytes": 0, "processes": 0, "samples": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        if not os.path.isdir("/proc/self"):
            return
        while not self._stop.is_set():
            pids = tree(self.root)
            if self.exclude_root:
                pids = [p for p in pids if p != self.root]
            rss, pss = usage(pids)
            p = self.peak
            p["rss_sum_bytes"] = max(p["rss_sum_bytes"], rss)
            p["pss_sum_bytes"] = max(p["pss_sum_bytes"], pss)
            p["processes"] = max(p["processes"], len(pids))
            p["samples"] += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def load_average() -> list[float]:
    try:
        with open("/proc/loadavg") as fh:
            return [float(x) for x in fh.read().split()[:3]]
    except OSError:
        return list(os.getloadavg()) if hasattr(os, "getloadavg") else []


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, to compute utilisation between two points."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return float(sum(values) - idle), float(sum(values))


def now() -> float:
    return time.monotonic()
