"""Wrong: the reference idea with directions ordered clockwise (up, right, down, left)."""
import numpy as np


def rnn_weights():
    # mistake: index 2 taken as down and 3 as left
    W = np.eye(4)
    W[2, :] -= 1.0
    U = -np.eye(4)[[2, 3, 0, 1]]
    b = np.array([0.0, 0.0, 2.0, 0.0])
    return W, U, b
