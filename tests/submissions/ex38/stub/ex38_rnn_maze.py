"""Aufgabe 38: RNN weights for a maze agent.

Direction order everywhere: 0 up, 1 right, 2 left, 3 down.
x_t in {0, 1}^4 marks which neighbours of the agent's cell lie on the path;
h_0 = (1, 0, 0, 0); h_{t+1} = W x_t + U h_t + b; the agent moves in
direction argmax(h_{t+1}) (the maximum must be unique).
Only numpy may be used. See tasks/ex38.md for the full task.
"""

from __future__ import annotations

import numpy as np

UP, RIGHT, LEFT, DOWN = 0, 1, 2, 3  # direction indices, usable as W[DOWN, UP] etc.


def rnn_weights() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (W, U, b) with shapes (4, 4), (4, 4), (4,); b may also be the column vector (4, 1)."""
    # TODO: choose W, U and b so that the agent follows every corridor.
    raise NotImplementedError("rnn_weights ist noch nicht implementiert (Aufgabe 38)")
