"""RNN weights for a maze agent (Aufgabe 38), reference solution, numpy only.

Direction order: 0 up, 1 right, 2 left, 3 down. The agent computes
h_{t+1} = W x_t + U h_t + b and moves in direction argmax(h_{t+1}).

Idea: keep h_t exactly equal to the one-hot vector of the last move. In a
corridor the agent's cell has exactly two open neighbours, the cell it came
from (opposite of the last move) and the next cell, so

    h_{t+1} = x_t - P h_t

(P swaps each direction with its opposite) removes the way back and leaves
the one-hot vector of the next move. Only the start cell is different: it
has a single open neighbour, because the agent entered from below and that
cell is not part of the maze, so ``- P h_0 = -e_down`` removes nothing and
the error would be carried along forever (W = I, U = -P, b = 0 ties at the
second step). The correction term ``(2 - sum(x_t)) e_down`` adds the
missing "came from below" neighbour exactly when the cell has one open
neighbour (only p_0) and is zero everywhere else:

    W = I - e_down 1^T,  U = -P,  b = 2 e_down.
"""

from __future__ import annotations

import numpy as np

UP, RIGHT, LEFT, DOWN = 0, 1, 2, 3


def rnn_weights() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (W, U, b) with shapes (4, 4), (4, 4), (4,); b may also be the column vector (4, 1)."""
    opposite = np.eye(4)[[DOWN, LEFT, RIGHT, UP]]  # P e_d = e_opposite(d)
    W = np.eye(4)
    W[DOWN, :] -= 1.0  # (W x)_down = x_down - (number of open neighbours)
    U = -opposite
    b = np.zeros(4)
    b[DOWN] = 2.0
    return W, U, b
