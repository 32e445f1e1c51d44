"""Attack: overflow the C stack (recursion limit raised, recursion through C code)."""
import sys

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    sys.setrecursionlimit(10**8)
    nested = []
    for _ in range(2 * 10**5):
        nested = [nested]
    return float(len(repr(nested)))
