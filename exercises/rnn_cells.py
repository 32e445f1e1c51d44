"""LSTM and GRU cells in PyTorch's conventions (see tasks/rnn_cells.md).

Only NumPy may be used. x (B, I), h and c (B, H). The weights are stacked by
gate exactly as in torch.nn.LSTM / torch.nn.GRU:
- LSTM: W_ih (4H, I), W_hh (4H, H), b_ih and b_hh (4H,), gate order i, f, g, o;
- GRU:  W_ih (3H, I), W_hh (3H, H), b_ih and b_hh (3H,), gate order r, z, n.
Return new arrays; never modify the inputs.

Run the public tests with:  grade rnn_cells
"""

from __future__ import annotations

import numpy as np


def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step as torch.nn.LSTMCell; returns (h', c'), both (B, H)."""
    # TODO: gates = x W_ih^T + b_ih + h W_hh^T + b_hh, split into i, f, g, o
    raise NotImplementedError("lstm_cell ist noch nicht implementiert.")


def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh) -> np.ndarray:
    """One GRU step as torch.nn.GRUCell; returns h' (B, H)."""
    # TODO: r, z, n; h' = (1 - z) * n + z * h
    raise NotImplementedError("gru_cell ist noch nicht implementiert.")


def lstm_forward(xs, h0, c0, W_ih, W_hh, b_ih, b_hh) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """A one-layer LSTM, batch_first: xs (B, T, I) -> (outputs (B, T, H), (h_T, c_T))."""
    # TODO
    raise NotImplementedError("lstm_forward ist noch nicht implementiert.")


def lstm_param_count(input_dim: int, hidden_dim: int) -> int:
    """Number of trainable parameters of nn.LSTM(input_dim, hidden_dim) (one layer, both biases)."""
    # TODO
    raise NotImplementedError("lstm_param_count ist noch nicht implementiert.")


def gru_param_count(input_dim: int, hidden_dim: int) -> int:
    """Number of trainable parameters of nn.GRU(input_dim, hidden_dim) (one layer, both biases)."""
    # TODO
    raise NotImplementedError("gru_param_count ist noch nicht implementiert.")
