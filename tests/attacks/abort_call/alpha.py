"""Attack: os.abort() and raising KeyboardInterrupt inside graded calls."""
import os

import numpy as np

calls = []


def scale(x, factor):
    return x * factor


def total(x):
    calls.append(1)
    if len(calls) == 1:
        raise KeyboardInterrupt("stop the grader")
    os.abort()
