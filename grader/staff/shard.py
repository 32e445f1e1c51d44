"""Splitting one batch over several machines: which submissions a shard grades.

`grade batch --shard I/N` grades shard I (0-based, as Slurm's
SLURM_ARRAY_TASK_ID and Kubernetes' JOB_COMPLETION_INDEX count) of N. Every
shard reads the whole SUBMISSIONS source (cheap), assigns all submissions
with the same rule and grades only its own, so shards need no coordination.

The rule balances work by submission size (the largest first, each to the
shard with the least bytes so far: longest-processing-time scheduling) and
breaks ties by a hash of the student id, so it depends only on the set of
submissions: every shard, and every rerun on the same source, computes the
same assignment.
"""
from __future__ import annotations

import hashlib
import heapq
import re
from dataclasses import dataclass
from typing import Iterable

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardError(ValueError):
    """A malformed --shard value."""


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse(spec: str) -> Shard:
    """'I/N' with 0 <= I < N."""
    match = _SPEC.match(spec or "")
    if not match:
        raise ShardError(f"--shard must look like I/N (e.g. 0/4), got {spec!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 0 <= index < count:
        raise ShardError(f"--shard {spec}: need 0 <= I < N (shards count from 0, as Slurm array and "
                         "Kubernetes indexed jobs do)")
    return Shard(index, count)


def _tie(student: str) -> str:
    return hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()


def assign(sizes: dict[str, int], count: int) -> dict[str, int]:
    """``{student: shard index}`` for submissions of the given sizes (bytes), balanced by size."""
    loads = [(0, i) for i in range(count)]
    heapq.heapify(loads)
    out = {}
    for student in sorted(sizes, key=lambda s: (-int(sizes[s]), _tie(s))):
        load, index = heapq.heappop(loads)
        out[student] = index
        heapq.heappush(loads, (load + max(1, int(sizes[student])), index))
    return out


def mine(sizes: dict[str, int], shard: Shard) -> set[str]:
    """The students shard ``shard`` grades."""
    return {s for s, i in assign(sizes, shard.count).items() if i == shard.index}


def loads(sizes: dict[str, int], count: int) -> list[int]:
    """Bytes per shard under :func:`assign` (for the batch log)."""
    total = [0] * count
    for student, index in assign(sizes, count).items():
        total[index] += int(sizes[student])
    return total


def students_of(shards: Iterable[set[str]]) -> set[str]:
    out: set[str] = set()
    for s in shards:
        out |= s
    return out
