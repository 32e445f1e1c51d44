"""Wrong: W = I, U = -P, b = 0 ignores that the start cell has only one open neighbour."""
import numpy as np


def rnn_weights():
    W = np.eye(4)
    U = -np.eye(4)[[3, 2, 1, 0]]
    b = np.zeros(4)
    return W, U, b
