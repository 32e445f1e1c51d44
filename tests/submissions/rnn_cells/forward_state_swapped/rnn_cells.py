"""LSTM and GRU cells in PyTorch's conventions (reference solution).

Weights are stacked by gate as in torch.nn.LSTM/GRU: rows [i, f, g, o] of
W_ih (4H, I) for the LSTM, rows [r, z, n] of W_ih (3H, I) for the GRU; both
bias vectors b_ih and b_hh are used.
"""

from __future__ import annotations

import numpy as np


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))     # = 1 / (1 + exp(-x)), without overflow


def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step: returns (h', c')."""
    gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, g, o = np.split(gates, 4, axis=1)
    c_new = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    h_new = _sigmoid(o) * np.tanh(c_new)
    return h_new, c_new


def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh) -> np.ndarray:
    """One GRU step: returns h' = (1 - z) * n + z * h."""
    xr, xz, xn = np.split(x @ W_ih.T + b_ih, 3, axis=1)
    hr, hz, hn = np.split(h @ W_hh.T + b_hh, 3, axis=1)
    r = _sigmoid(xr + hr)
    z = _sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1.0 - z) * n + z * h


def lstm_forward(xs, h0, c0, W_ih, W_hh, b_ih, b_hh) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """A one-layer LSTM over xs (B, T, I), batch_first: (outputs (B, T, H), (h_T, c_T))."""
    h, c = h0, c0
    outputs = []
    for t in range(xs.shape[1]):
        h, c = lstm_cell(xs[:, t], h, c, W_ih, W_hh, b_ih, b_hh)
        outputs.append(h)
    return np.stack(outputs, axis=1), (c, h)


def lstm_param_count(input_dim: int, hidden_dim: int) -> int:
    """4 gates, each with an (H, I) and an (H, H) matrix and two bias vectors."""
    return 4 * (hidden_dim * input_dim + hidden_dim * hidden_dim + 2 * hidden_dim)


def gru_param_count(input_dim: int, hidden_dim: int) -> int:
    """3 gates, each with an (H, I) and an (H, H) matrix and two bias vectors."""
    return 3 * (hidden_dim * input_dim + hidden_dim * hidden_dim + 2 * hidden_dim)
