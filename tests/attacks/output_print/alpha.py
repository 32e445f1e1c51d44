"""Attack: print 100+ MB in a loop, then answer honestly."""
import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    line = "spam " * 20000  # 100 KB
    for _ in range(1100):
        print(line)
    return float(np.sum(x))
