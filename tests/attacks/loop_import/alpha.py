"""Attack: endless loop at import time."""
import numpy as np

while True:
    pass


def scale(x, factor):
    return x * factor


def total(x):
    return float(np.sum(x))
