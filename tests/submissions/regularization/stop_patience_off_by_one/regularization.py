"""Dropout, L2 weight decay and early stopping (reference solution)."""

from __future__ import annotations

import numpy as np


def dropout_mask(shape, p: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean keep-mask: each entry True (kept) independently with probability 1 - p (p = drop probability)."""
    return rng.random(shape) >= p


def dropout_forward(x, keep_mask, p) -> np.ndarray:
    """Inverted dropout in training: kept entries scaled by 1 / (1 - p), so E[output] = x."""
    return x * keep_mask / (1.0 - p)


def dropout_backward(grad_out, keep_mask, p) -> np.ndarray:
    """Gradient of dropout_forward with respect to x: the same mask and the same scale."""
    return grad_out * keep_mask / (1.0 - p)


def l2_penalty(weights: list[np.ndarray], lam: float) -> tuple[float, list[np.ndarray]]:
    """lam / 2 * sum of all squared entries, and its gradients lam * w."""
    penalty = 0.5 * lam * sum(float(np.sum(w * w)) for w in weights)
    return penalty, [lam * w for w in weights]


def early_stopping(val_losses: list[float], patience: int, min_delta: float = 0.0) -> tuple[int, int]:
    """(stop_epoch, best_epoch), epochs from 0; see the task text for the exact rule."""
    if not val_losses:
        raise ValueError("val_losses ist leer")
    best, best_epoch, waited = val_losses[0], 0, 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < best - min_delta:
            best, best_epoch, waited = val_losses[epoch], epoch, 0
        else:
            waited += 1
            if waited > patience:
                return epoch, best_epoch
    return len(val_losses) - 1, best_epoch
