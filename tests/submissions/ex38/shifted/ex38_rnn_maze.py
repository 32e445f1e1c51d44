"""Correct, other style: the reference plus terms that shift every entry of h equally."""
import numpy as np


def rnn_weights():
    P = np.fliplr(np.eye(4))              # up<->down, right<->left
    W = np.eye(4) + 0.5                   # + 0.5 * sum(x) in every entry
    W[3] -= 1.0
    U = -P + 0.25 * np.ones((4, 4))       # + 0.25 * sum(h) in every entry
    b = np.array([7.0, 7.0, 7.0, 9.0])
    return W, U, b
