"""Attack: allocate a list of huge arrays until memory runs out."""
import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    hoard = []
    for _ in range(1000):
        hoard.append(np.ones(10**8))  # 800 MB each, touched
    return float(len(hoard))
