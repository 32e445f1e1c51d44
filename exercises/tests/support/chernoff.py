"""Chernoff (KL) bounds for statistical checks of random functions (trusted side, no secrets).

The same bounds test_qlearning.py uses for epsilon_greedy and ReplayBuffer.sample: a check counts how
often each of a few events happens in n independent trials and accepts when n KL(f || p) stays below
kl_threshold(events) for every event (two Chernoff tails per event, union bound), so a correct solution
fails with probability at most FAILURE_PROBABILITY; trials_to_separate picks the fewest trials after
which every listed wrong distribution fails with probability at most FAILURE_PROBABILITY as well.
"""

from __future__ import annotations

import math

import numpy as np

#: Allowed probability that a correct solution fails one statistical check; also the most a named
#: mistake may pass one with.
FAILURE_PROBABILITY = 1e-6


def bernoulli_kl(q, p) -> np.ndarray:
    """KL(Bernoulli(q) || Bernoulli(p)) elementwise; inf where q is impossible under p (p = 0 < q)."""
    q, p = np.broadcast_arrays(np.asarray(q, dtype=float), np.asarray(p, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(q > 0, q * np.log(q / p), 0.0)
        down = np.where(q < 1, (1 - q) * np.log((1 - q) / (1 - p)), 0.0)
    return up + down


def kl_threshold(n_events: int) -> float:
    """c with 2 * n_events * exp(-c) = FAILURE_PROBABILITY (two Chernoff tails per event, union bound)."""
    return math.log(2 * n_events / FAILURE_PROBABILITY)


def frequencies_fit(freq: np.ndarray, p: np.ndarray, n: int) -> np.ndarray:
    """Per event: whether a frequency over n trials is consistent with probability p (see above)."""
    return n * bernoulli_kl(freq, p) < kl_threshold(len(p))


def accepted_range(p: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per event: the frequencies frequencies_fit accepts, as (low, high) (bisection, for messages)."""
    p = np.asarray(p, dtype=float)
    c = kl_threshold(len(p)) / n
    ends = []
    for far in (np.zeros_like(p), np.ones_like(p)):
        inside, outside = p.copy(), far.copy()        # KL(inside || p) < c <= KL(outside || p), if any
        fits = bernoulli_kl(far, p) < c
        for _ in range(60):
            mid = (inside + outside) / 2
            ok = bernoulli_kl(mid, p) < c
            inside, outside = np.where(ok, mid, inside), np.where(ok, outside, mid)
        ends.append(np.where(fits, far, inside))
    return ends[0], ends[1]


def chernoff_information(p, d) -> np.ndarray:
    """max over q of min(KL(q || p), KL(q || d)) elementwise: how fast trials tell p and d apart.

    The maximum is where both are equal; KL(q || p) - KL(q || d) is linear in q, so that point q* has a
    closed form. Where d is 0 or 1, a frequency under d is exactly d, so the information is KL(d || p)
    (and KL(p || d) where p is 0 or 1).
    """
    p, d = np.broadcast_arrays(np.asarray(p, dtype=float), np.asarray(d, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        slope_up, slope_down = np.log(d / p), np.log((1 - d) / (1 - p))
        info = bernoulli_kl(slope_down / (slope_down - slope_up), p)
    info = np.where((d == 0) | (d == 1), bernoulli_kl(d, p), info)
    info = np.where((p == 0) | (p == 1), bernoulli_kl(p, d), info)
    return np.where(p == d, 0.0, info)


def trials_to_separate(p: np.ndarray, alternatives: list[np.ndarray], multiple: int = 100) -> int:
    """Fewest trials (a multiple of `multiple`) after which each alternative fails the check at p
    with probability at most FAILURE_PROBABILITY.

    Why this n suffices: take an event with n * C >= kl_threshold, C the Chernoff information of p and
    d there. A frequency the check accepts has n KL(f || p) < n C, so it lies on p's side of q*, which
    under d happens with probability at most exp(-n KL(q* || d)) = exp(-n C) <= FAILURE_PROBABILITY / 2.
    """
    c = kl_threshold(len(p))
    most = 1
    for d in alternatives:
        info = float(chernoff_information(p, d).max())
        if info <= 0:
            raise ValueError("a listed alternative has the same probabilities as the correct one")
        most = max(most, math.ceil(c / info))
    return multiple * math.ceil(most / multiple)
