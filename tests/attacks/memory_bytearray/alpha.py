"""Attack: one 100 GB allocation, in both graded functions of part b's calls."""
import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    block = bytearray(10**11)
    return float(len(block))
