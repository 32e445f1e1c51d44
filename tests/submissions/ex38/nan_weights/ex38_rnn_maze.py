"""Wrong: a NaN weight (e.g. from 0/0)."""
import numpy as np


def rnn_weights():
    W = np.eye(4)
    W[3, :] -= 1.0
    U = -np.eye(4)[[3, 2, 1, 0]]
    with np.errstate(invalid="ignore"):
        b = np.array([0.0, 0.0, 0.0, 2.0]) * np.array([np.nan, 1, 1, 1])
    return W, U, b
