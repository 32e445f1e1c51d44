"""Hidden tests for rnn_cells: the public checks on other, random sizes and weights.

Inputs come from the `rng` fixture (seeded with the course's secret seed);
B >= 2, I != H, and T from 1 to 50 in lstm_forward (always some T >= 2).
"""

from __future__ import annotations

import numpy as np
import pytest

from exercises.tests.test_rnn_cells import (RnnCase, check_counts, check_gru_cell, check_lstm_cell, check_lstm_forward,
                                            make_case)


def sizes(rng: np.random.Generator) -> tuple[int, int, int]:
    B = int(rng.integers(2, 5))
    I, H = (int(v) for v in rng.choice(np.arange(1, 9), size=2, replace=False))
    return B, I, H


def cell_case(rng: np.random.Generator, gates: int) -> RnnCase:
    """One step (T = 1) of random size: 4 gates for the LSTM, 3 for the GRU."""
    B, I, H = sizes(rng)
    return make_case(rng, B, 1, I, H, gates)


@pytest.mark.part("lstm_cell")
def test_lstm_cell_hidden(student, rng):
    check_lstm_cell(student, [cell_case(rng, 4) for _ in range(3)])


@pytest.mark.part("gru_cell")
def test_gru_cell_hidden(student, rng):
    check_gru_cell(student, [cell_case(rng, 3) for _ in range(3)])


@pytest.mark.part("lstm_forward")
def test_lstm_forward_hidden(student, rng):
    steps = [int(rng.integers(2, 6)), int(rng.integers(6, 20)), int(rng.integers(20, 51)), 1]
    cases = []
    for T in steps:
        B, I, H = sizes(rng)
        cases.append(make_case(rng, B, T, I, H, 4))
    check_lstm_forward(student, cases)


@pytest.mark.part("param_count")
def test_param_count_hidden(student, rng):
    check_counts(student, [(int(rng.integers(1, 300)), int(rng.integers(1, 300))) for _ in range(4)])
