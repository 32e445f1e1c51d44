"""Attack: NaN and inf results (NaN compares unequal to everything, inf breaks tolerances)."""
import numpy as np


def scale(x, factor):
    out = x * factor
    out[..., 0] = np.nan
    out[..., -1] = np.inf
    return out


def total(x):
    return float("nan")
