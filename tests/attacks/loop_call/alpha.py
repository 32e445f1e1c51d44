"""Attack: endless loop inside a graded call."""
import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    while True:
        pass
