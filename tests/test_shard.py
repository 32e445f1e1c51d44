"""Shard assignment: a partition, deterministic, order-independent, balanced by size."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.staff import shard


@given(st.dictionaries(st.text(min_size=1, max_size=12), st.integers(0, 10**6), max_size=60),
       st.integers(1, 7))
@settings(max_examples=60, deadline=None)
def test_assignment_is_a_partition_and_independent_of_order(sizes, count):
    shards = [shard.mine(sizes, shard.Shard(i, count)) for i in range(count)]
    assert sum(len(s) for s in shards) == len(sizes)
    assert shard.students_of(shards) == set(sizes)
    shuffled = dict(random.Random(1).sample(list(sizes.items()), len(sizes)))
    assert shard.assign(shuffled, count) == shard.assign(sizes, count)


def test_balanced_by_size():
    rng = random.Random(0)
    sizes = {f"s{i:03d}": rng.randint(2_000, 400_000) for i in range(300)}
    for count in (2, 3, 8):
        loads = shard.loads(sizes, count)
        assert max(loads) - min(loads) <= max(sizes.values()), loads
        naive = [sum(v for k, v in sizes.items() if hash(k) % count == i) for i in range(count)]
        assert max(loads) <= max(naive)


@pytest.mark.parametrize("spec, ok", [("0/1", True), ("2/3", True), (" 1 / 2 ", True), ("3/3", False),
                                      ("1/0", False), ("-1/2", False), ("a/b", False), ("1", False)])
def test_parse(spec, ok):
    if ok:
        assert str(shard.parse(spec)) == spec.replace(" ", "")
    else:
        with pytest.raises(shard.ShardError):
            shard.parse(spec)
