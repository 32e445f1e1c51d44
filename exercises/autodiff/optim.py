"""Stochastic gradient descent (with optional momentum, as torch.optim.SGD)."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .engine import Tensor


class SGD:
    """p <- p - lr * v  with  v <- momentum * v + p.grad  (v = p.grad on the first step).

    With momentum = 0 this is plain gradient descent p <- p - lr * p.grad.
    """

    def __init__(self, parameters: Iterable[Tensor], lr: float, momentum: float = 0.0) -> None:
        self.parameters = list(parameters)
        self.lr = lr
        self.momentum = momentum
        self.velocities: list[np.ndarray | None] = [None] * len(self.parameters)

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        for i, p in enumerate(self.parameters):
            if p.grad is None:
                continue
            v = self.velocities[i]
            v = p.grad.copy() if v is None else self.momentum * v + p.grad
            self.velocities[i] = v
            p.data = p.data - self.lr * v

    def zero_grad(self) -> None:
        for p in self.parameters:
            p.zero_grad()
