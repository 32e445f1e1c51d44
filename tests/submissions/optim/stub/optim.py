"""Optimiser steps and learning-rate schedules as in torch.optim (see tasks/optim.md).

Only NumPy may be used. Each step function gets one parameter array, its
gradient and the optimiser state, and returns the new parameter and the new
state as NEW arrays (never modify the inputs). After any number of steps the
result equals torch.optim's on the same gradients.

Run the public tests with:  grade optim
"""

from __future__ import annotations

import math

import numpy as np


def sgd_momentum_step(param, grad, velocity, lr, momentum=0.0, weight_decay=0.0) -> tuple[np.ndarray, np.ndarray]:
    """torch.optim.SGD (dampening 0, no Nesterov). The first call gets velocity = zeros. Returns (param', v)."""
    # TODO: g = grad + weight_decay * param; v = momentum * velocity + g; param' = param - lr * v
    raise NotImplementedError("sgd_momentum_step ist noch nicht implementiert.")


def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
              weight_decay=0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """torch.optim.Adam (weight decay as L2 term in the gradient). t = number of this step, from 1.

    Returns (param', m', v').
    """
    # TODO
    raise NotImplementedError("adam_step ist noch nicht implementiert.")


def adamw_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
               weight_decay=1e-2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """torch.optim.AdamW: param * (1 - lr * weight_decay) first, then Adam with the plain gradient.

    Returns (param', m', v').
    """
    # TODO
    raise NotImplementedError("adamw_step ist noch nicht implementiert.")


def step_lr(epoch: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    """Learning rate of StepLR in epoch `epoch` (counted from 0)."""
    # TODO
    raise NotImplementedError("step_lr ist noch nicht implementiert.")


def cosine_lr(epoch: int, base_lr: float, t_max: int, eta_min: float = 0.0) -> float:
    """Learning rate of CosineAnnealingLR (closed form) in epoch `epoch`, 0 <= epoch <= t_max."""
    # TODO
    raise NotImplementedError("cosine_lr ist noch nicht implementiert.")
