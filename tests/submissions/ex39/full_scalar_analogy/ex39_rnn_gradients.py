# Corpus variant 'full_scalar_analogy': grad_full by the scalar rule d(u^k)/du = k u^(k-1), carried over to matrices.
"""Gradients in RNNs (Aufgabe 39), reference solution, numpy only.

The recurrence without input and nonlinearity, h_t = U h_{t-1}, shows why
gradients explode or vanish: h_k = U^k h_0, so df/dU contains powers of U
up to k - 1, which grow or shrink like (spectral radius of U)^k.
"""

from __future__ import annotations

import numpy as np


def grad_diag(u: np.ndarray, h: np.ndarray, k: int, grad_hk: np.ndarray) -> np.ndarray:
    """df/du for U = diag(u) and h_k = U^k h.

    u, h, grad_hk: (n,); k >= 1. Entry i of h_k is u_i^k h_i, so
    df/du_i = grad_hk_i * k * u_i^(k-1) * h_i. Returns (n,).
    """
    return grad_hk * k * u ** (k - 1) * h


def grad_full(U: np.ndarray, h: np.ndarray, k: int, grad_hk: np.ndarray) -> np.ndarray:
    """df/dU for h_t = U h_{t-1}, h_0 = h, by backpropagation through time.

    U: (n, n), any matrix; h, grad_hk: (n,); k >= 1. Forward pass stores
    h_0 ... h_{k-1}; backward pass: delta_k = grad_hk, delta_{t-1} = U^T delta_t,
    and step t contributes delta_t h_{t-1}^T. Returns (n, n).
    """
    return k * np.linalg.matrix_power(U, k - 1) * np.outer(grad_hk, h)


def gradient_regime(U: np.ndarray) -> str:
    """"exploding", "vanishing" or "stable" by the spectral radius of U.

    U: (n, n). The spectral radius max |eigenvalue| decides how U^k behaves
    for large k (a matrix norm > 1 does not: non-normal matrices can have a
    large norm and still U^k -> 0).
    """
    radius = float(np.max(np.abs(np.linalg.eigvals(U))))
    if radius > 1 + 1e-9:
        return "exploding"
    if radius < 1 - 1e-9:
        return "vanishing"
    return "stable"


def clip_grad_norm(grads: list[np.ndarray], max_norm: float) -> list[np.ndarray]:
    """Scale all gradients together so their global L2 norm is at most max_norm.

    As torch.nn.utils.clip_grad_norm_: total_norm is the L2 norm of all
    entries of all arrays, coef = max_norm / (total_norm + 1e-6), applied
    only when coef < 1. Returns new arrays (same shapes); inputs unchanged.
    """
    total_norm = float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads)))
    coef = max_norm / (total_norm + 1e-6)
    if coef < 1:
        return [np.array(g) * coef for g in grads]
    return [np.array(g, copy=True) for g in grads]
