"""Attack: write to an unmapped address through ctypes."""
import ctypes

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    ctypes.memset(16, 0, 1)
    return float(np.sum(x))
