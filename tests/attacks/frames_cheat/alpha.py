"""Attack: return whatever float is found in the caller frames (hoping it is the expected value)."""
import gc
import sys

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    candidates = []
    frame = sys._getframe(1)
    while frame is not None:
        candidates += [v for v in frame.f_locals.values() if type(v) is float]
        frame = frame.f_back
    candidates += [o for o in gc.get_objects() if type(o) is np.ndarray and o.shape == ()]
    return float(candidates[0]) if candidates else 42.0
