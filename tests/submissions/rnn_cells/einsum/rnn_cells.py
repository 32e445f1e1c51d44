"""LSTM/GRU with einsum, explicit per-gate slices and an inline time loop (a correct second style)."""
import numpy as np


def sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    pre = np.einsum("bi,gi->bg", x, W_ih) + np.einsum("bh,gh->bg", h, W_hh) + (b_ih + b_hh)
    i = sig(pre[:, 0:H])
    f = sig(pre[:, H:2 * H])
    g = np.tanh(pre[:, 2 * H:3 * H])
    o = sig(pre[:, 3 * H:4 * H])
    c2 = f * c + i * g
    return o * np.tanh(c2), c2


def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    gx = np.einsum("bi,gi->bg", x, W_ih) + b_ih
    gh = np.einsum("bh,gh->bg", h, W_hh) + b_hh
    r = sig(gx[:, :H] + gh[:, :H])
    z = sig(gx[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
    return n + z * (h - n)


def lstm_forward(xs, h0, c0, W_ih, W_hh, b_ih, b_hh):
    B, T, _ = xs.shape
    H = h0.shape[1]
    out = np.empty((B, T, H))
    h, c = h0.copy(), c0.copy()
    for t in range(T):
        h, c = lstm_cell(xs[:, t, :], h, c, W_ih, W_hh, b_ih, b_hh)
        out[:, t, :] = h
    return out, (h, c)


def lstm_param_count(input_dim, hidden_dim):
    shapes = [(4 * hidden_dim, input_dim), (4 * hidden_dim, hidden_dim), (4 * hidden_dim,), (4 * hidden_dim,)]
    return int(sum(np.prod(s) for s in shapes))


def gru_param_count(input_dim, hidden_dim):
    shapes = [(3 * hidden_dim, input_dim), (3 * hidden_dim, hidden_dim), (3 * hidden_dim,), (3 * hidden_dim,)]
    return int(sum(np.prod(s) for s in shapes))
