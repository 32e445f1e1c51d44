"""Dropout, L2 weight decay and early stopping (see tasks/regularization.md).

Only NumPy may be used. Return new arrays; never modify the inputs.

Run the public tests with:  grade regularization
"""

from __future__ import annotations

import numpy as np


def dropout_mask(shape, p: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean keep-mask of the given shape: each entry True (kept) independently with probability 1 - p.

    p is the DROP probability, 0 <= p < 1. Draw the random numbers from rng.
    """
    # TODO
    raise NotImplementedError("dropout_mask ist noch nicht implementiert.")


def dropout_forward(x, keep_mask, p) -> np.ndarray:
    """Inverted dropout in training: x * keep_mask / (1 - p)."""
    # TODO
    raise NotImplementedError("dropout_forward ist noch nicht implementiert.")


def dropout_backward(grad_out, keep_mask, p) -> np.ndarray:
    """Gradient of dropout_forward with respect to x, given the upstream gradient grad_out."""
    # TODO
    raise NotImplementedError("dropout_backward ist noch nicht implementiert.")


def l2_penalty(weights: list[np.ndarray], lam: float) -> tuple[float, list[np.ndarray]]:
    """(lam / 2 * sum of all squared entries, [gradient of that penalty for each array])."""
    # TODO
    raise NotImplementedError("l2_penalty ist noch nicht implementiert.")


def early_stopping(val_losses: list[float], patience: int, min_delta: float = 0.0) -> tuple[int, int]:
    """(stop_epoch, best_epoch) for the validation losses of epochs 0, 1, ...; ValueError for an empty list."""
    # TODO
    raise NotImplementedError("early_stopping ist noch nicht implementiert.")
