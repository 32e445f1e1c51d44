"""Aufgabe 39: Gradients in RNNs.

The recurrence h_t = U h_{t-1}, h_0 = h (no input, no nonlinearity), so
h_k = U^k h. f is some loss of h_k; grad_hk = df/dh_k is given.
Only numpy may be used. See tasks/ex39.md for the full task.
"""

from __future__ import annotations

import numpy as np


def grad_diag(u: np.ndarray, h: np.ndarray, k: int, grad_hk: np.ndarray) -> np.ndarray:
    """df/du for U = diag(u): u, h, grad_hk of shape (n,), k >= 1. Returns (n,)."""
    # TODO
    raise NotImplementedError("grad_diag ist noch nicht implementiert (Aufgabe 39)")


def grad_full(U: np.ndarray, h: np.ndarray, k: int, grad_hk: np.ndarray) -> np.ndarray:
    """df/dU for any U of shape (n, n) by backpropagation through time. Returns (n, n)."""
    # TODO: forward pass h_0 ... h_{k-1}; backward pass delta_k = grad_hk,
    #       delta_{t-1} = U^T delta_t; sum the contributions of all steps.
    raise NotImplementedError("grad_full ist noch nicht implementiert (Aufgabe 39)")


def gradient_regime(U: np.ndarray) -> str:
    """Return "exploding", "vanishing" or "stable" for the matrix U of shape (n, n)."""
    # TODO
    raise NotImplementedError("gradient_regime ist noch nicht implementiert (Aufgabe 39)")


def clip_grad_norm(grads: list[np.ndarray], max_norm: float) -> list[np.ndarray]:
    """Global L2-norm clipping like torch.nn.utils.clip_grad_norm_; returns new arrays."""
    # TODO
    raise NotImplementedError("clip_grad_norm ist noch nicht implementiert (Aufgabe 39)")
