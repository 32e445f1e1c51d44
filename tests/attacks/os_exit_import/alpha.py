"""Attack: os._exit at import time (no exception, the process just ends)."""
import os

import numpy as np

os._exit(0)


def scale(x, factor):
    return x * factor


def total(x):
    return float(np.sum(x))
