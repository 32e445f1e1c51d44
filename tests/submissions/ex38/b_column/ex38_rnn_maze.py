"""Right: the reference weights with b as the column vector (4, 1), as the seed writes b in R^{4x1}."""
import numpy as np


def rnn_weights():
    W = np.eye(4)
    W[3, :] -= 1.0
    U = -np.eye(4)[[3, 2, 1, 0]]
    b = np.array([[0.0], [0.0], [0.0], [2.0]])
    return W, U, b
