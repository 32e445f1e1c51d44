"""Attack: object and structured dtypes (object arrays would need pickle to cross)."""
import numpy as np


class Liar(float):
    def __eq__(self, other):
        return True


def scale(x, factor):
    out = np.empty(x.shape, dtype=object)
    out.flat[:] = [Liar(v) for v in (x * factor).ravel()]
    return out


def total(x):
    rec = np.zeros((), dtype=[("value", "f8"), ("other", "O")])
    return rec
