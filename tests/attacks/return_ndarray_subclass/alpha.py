"""Attack: return an ndarray subclass whose comparisons always say "equal"."""
import numpy as np


class Agreeable(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)

    def __array_ufunc__(self, *args, **kwargs):
        return np.zeros(self.shape)

    def __sub__(self, other):
        return np.zeros(self.shape)

    __rsub__ = __sub__


def scale(x, factor):
    return np.zeros_like(x).view(Agreeable)


def total(x):
    return float(np.sum(x))
