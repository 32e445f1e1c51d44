"""Hidden tests for regularization: other shapes, drop probabilities and loss curves.

Inputs come from the `rng` fixture (seeded with the course's secret seed).
p is always far from 0.5; the early-stopping curves are drawn until every
known mistake gives a different answer in at least one of them.
"""

from __future__ import annotations

import numpy as np
import pytest

from exercises.tests.test_regularization import (STOPPING_MISTAKES, check_dropout, check_dropout_mask, check_l2,
                                                 check_stopping, check_stopping_empty, dropout_case, l2_case,
                                                 stopping_variant, unambiguous)


def far_p(rng: np.random.Generator) -> float:
    return float(rng.choice([rng.uniform(0.1, 0.3), rng.uniform(0.7, 0.9)]))


def shape(rng: np.random.Generator) -> tuple[int, ...]:
    return tuple(int(n) for n in rng.integers(2, 6, size=int(rng.integers(1, 4))))


@pytest.mark.part("dropout_mask")
def test_dropout_mask_hidden(student, rng):
    check_dropout_mask(student, shape(rng), far_p(rng), int(rng.integers(2**31)))


@pytest.mark.part("dropout_forward")
def test_dropout_forward_hidden(student, rng):
    check_dropout(student, "forward", [dropout_case(rng, shape(rng), far_p(rng)) for _ in range(3)])


@pytest.mark.part("dropout_backward")
def test_dropout_backward_hidden(student, rng):
    check_dropout(student, "backward", [dropout_case(rng, shape(rng), far_p(rng)) for _ in range(3)])


@pytest.mark.part("l2_penalty")
def test_l2_penalty_hidden(student, rng):
    cases = [l2_case(rng, [shape(rng) for _ in range(int(rng.integers(1, 4)))], float(rng.uniform(0.01, 2.0)))
             for _ in range(3)]
    check_l2(student, cases)


def loss_curve(rng: np.random.Generator) -> tuple[list[float], int, float]:
    """A noisy decreasing curve with plateaus and exact repeats; min_delta > 0 in about half of them."""
    n = int(rng.integers(4, 25))
    steps = rng.choice([-0.1, -0.02, 0.0, 0.03, 0.08], size=n - 1, p=[0.3, 0.2, 0.15, 0.2, 0.15])
    losses = np.round(1.0 + np.concatenate([[0.0], np.cumsum(steps)]), 2)
    min_delta = float(rng.choice([0.0, 0.015, 0.045]))
    return [float(v) for v in losses], int(rng.integers(1, 5)), min_delta


def separating_curves(rng: np.random.Generator, count: int) -> list[tuple[list[float], int, float]]:
    """At least `count` curves, and more until every known mistake is wrong on one of them; only curves on
    which both readings of "best" agree (see stopping_variant)."""
    cases, open_ids = [], set(STOPPING_MISTAKES)
    for _ in range(100_000):
        if len(cases) >= count and not open_ids:
            return cases
        case = loss_curve(rng)
        if not unambiguous(case):
            continue
        want = stopping_variant(*case)
        shown = {k for k, (_, _, flags) in STOPPING_MISTAKES.items() if stopping_variant(*case, **flags) != want}
        if len(cases) < count or shown & open_ids:
            cases.append(case)
            open_ids -= shown
    raise RuntimeError(f"test setup: no curve shows the mistakes {sorted(open_ids)}")


@pytest.mark.part("early_stopping")
def test_early_stopping_hidden(student, rng):
    check_stopping(student, separating_curves(rng, 6))
    check_stopping_empty(student)
