"""Attack: sys.exit at import time."""
import sys

import numpy as np

sys.exit(3)


def scale(x, factor):
    return x * factor


def total(x):
    return float(np.sum(x))
