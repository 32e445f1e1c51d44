"""Correct, other style: integer weights, three times the reference scale.

h_0 is not scaled, so h_t = 3 e_{last move} +- 2 e_{up/down} (not exact one-hot),
but the leftover never reaches the maximum.
"""
import numpy as np


def rnn_weights():
    W = np.array([[3, 0, 0, 0],
                  [0, 3, 0, 0],
                  [0, 0, 3, 0],
                  [-3, -3, -3, 0]])
    U = np.array([[0, 0, 0, -1],
                  [0, 0, -1, 0],
                  [0, -1, 0, 0],
                  [-1, 0, 0, 0]])
    b = np.array([0, 0, 0, 6])
    return W, U, b
