"""Attack: overflow the C stack (recursion limit raised, recursion through C code).

Comparing two lists nested 200,000 deep recurses in C (list_richcompare) until
the stack runs out: a segmentation fault within a fraction of a second. (repr()
of such a list also overflows, but its recursion guard scans a list per level,
so it took 2.5-5 s and raced the 3 s call limit.)
"""
import sys

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    sys.setrecursionlimit(10**8)
    a, b = [], []
    for _ in range(2 * 10**5):
        a, b = [a], [b]
    return float(a == b)
