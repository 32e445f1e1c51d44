"""Attack: 100+ MB straight to file descriptors 1 and 2, then answer honestly."""
import os

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    block = b"X" * 2**20
    for _ in range(60):
        os.write(1, block)
        os.write(2, block)
    return float(np.sum(x))
