"""Attack: sys.exit inside a graded call."""
import sys

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    sys.exit(0)
