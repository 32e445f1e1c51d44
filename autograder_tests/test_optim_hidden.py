"""Hidden tests for optim: other gradient sequences (20 to 40 steps) and other schedules.

Inputs come from the `rng` fixture (seeded with the course's secret seed).
As in the public tests, every case set has gradients around 1e-5 with eps
not negligible, weight decay with lr * weight_decay large enough to matter,
and momentum / betas away from their defaults.
"""

from __future__ import annotations

import numpy as np
import pytest

from exercises.tests.test_optim import check_schedule, check_steps, make_steps


def shape(rng: np.random.Generator) -> tuple[int, ...]:
    return tuple(int(n) for n in rng.integers(1, 6, size=int(rng.integers(1, 4))))


def steps(rng: np.random.Generator) -> int:
    return int(rng.integers(20, 41))


@pytest.mark.part("sgd_momentum_step")
def test_sgd_momentum_step_hidden(student, rng):
    cases = [make_steps(rng, "sgd", shape(rng), steps(rng), 1.0,
                        {"lr": float(rng.uniform(0.01, 0.2)), "momentum": float(rng.uniform(0.5, 0.95)),
                         "weight_decay": float(rng.uniform(0.05, 0.5))}),
             make_steps(rng, "sgd", shape(rng), steps(rng), 1.0,
                        {"lr": float(rng.uniform(0.01, 0.2)), "momentum": float(rng.uniform(0.3, 0.9))})]
    check_steps(student, "sgd", cases)


@pytest.mark.part("adam_step")
def test_adam_step_hidden(student, rng):
    cases = [make_steps(rng, "adam", shape(rng), steps(rng), 1e-5,
                        {"lr": float(rng.uniform(0.001, 0.05)), "eps": float(rng.choice([1e-8, 1e-7, 1e-6]))}),
             make_steps(rng, "adam", shape(rng), steps(rng), 1.0,
                        {"lr": float(rng.uniform(0.005, 0.05)),
                         "betas": (float(rng.uniform(0.7, 0.9)), float(rng.uniform(0.95, 0.999))),
                         "weight_decay": float(rng.uniform(0.2, 1.0))})]
    check_steps(student, "adam", cases)


@pytest.mark.part("adamw_step")
def test_adamw_step_hidden(student, rng):
    cases = [make_steps(rng, "adamw", shape(rng), steps(rng), 1.0,
                        {"lr": float(rng.uniform(0.02, 0.08)), "weight_decay": float(rng.uniform(1.0, 3.0))}),
             make_steps(rng, "adamw", shape(rng), steps(rng), 1e-5,
                        {"lr": float(rng.uniform(0.005, 0.02)), "eps": 1e-7,
                         "weight_decay": float(rng.uniform(0.5, 2.0))})]
    check_steps(student, "adamw", cases)


@pytest.mark.part("schedules")
def test_step_lr_hidden(student, rng):
    cases = []
    for _ in range(2):
        step_size = int(rng.integers(2, 6))
        cases.append((float(rng.uniform(0.01, 1.0)), step_size, float(rng.uniform(0.2, 0.8)),
                      step_size * int(rng.integers(3, 5)) + 1))
    check_schedule(student, "step_lr", cases)


@pytest.mark.part("schedules")
def test_cosine_lr_hidden(student, rng):
    cases = []
    for _ in range(2):
        t_max = int(rng.integers(3, 20))
        base = float(rng.uniform(0.05, 1.0))
        cases.append((base, t_max, float(rng.uniform(0.05, 0.5)) * base, t_max + 1))
    check_schedule(student, "cosine_lr", cases)
