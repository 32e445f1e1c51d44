"""Optimiser steps and learning-rate schedules as in torch.optim (reference solution).

Each step function takes one parameter array, its gradient and the optimiser
state, and returns new arrays (the inputs stay unchanged).
"""

from __future__ import annotations

import math

import numpy as np


def sgd_momentum_step(param, grad, velocity, lr, momentum=0.0, weight_decay=0.0) -> tuple[np.ndarray, np.ndarray]:
    """torch.optim.SGD (dampening 0, no Nesterov): returns (param', v)."""
    g = grad + weight_decay * param
    v = momentum * velocity + g
    return param - lr * v, v


def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
              weight_decay=0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """torch.optim.Adam (L2 weight decay added to the gradient); t counts from 1. Returns (param', m', v')."""
    return _adam(param, grad + weight_decay * param, m, v, t, lr, betas, eps)


def adamw_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
               weight_decay=1e-2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """torch.optim.AdamW: decoupled decay param * (1 - lr * weight_decay), then Adam with the plain gradient."""
    return _adam(param, grad + weight_decay * param, m, v, t, lr, betas, eps)


def _adam(param, g, m, v, t, lr, betas, eps):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat = m / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def step_lr(epoch: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    """StepLR: base_lr * gamma ** (epoch // step_size)."""
    return float(base_lr * gamma ** (epoch // step_size))


def cosine_lr(epoch: int, base_lr: float, t_max: int, eta_min: float = 0.0) -> float:
    """CosineAnnealingLR (closed form) for 0 <= epoch <= t_max."""
    return float(eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / t_max)) / 2)
