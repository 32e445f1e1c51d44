"""The course's small autodiff framework (NumPy only).

Read it in this order: engine.py (Tensor, Function, backward), nn.py
(Module, layers, loss), optim.py (SGD).

    from autodiff import Tensor, Linear, softmax_cross_entropy, SGD
"""

from .engine import Context, Function, Tensor
from .nn import (Flatten, Linear, MaxPool2D, Module, Parameter, ReLU, Sequential,
                 manual_seed, rng, softmax_cross_entropy)
from .optim import SGD

__all__ = ["Tensor", "Function", "Context", "Module", "Parameter", "Linear", "ReLU", "Flatten",
           "MaxPool2D", "Sequential", "softmax_cross_entropy", "SGD", "manual_seed", "rng"]
