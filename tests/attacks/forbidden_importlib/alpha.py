"""Attack: import scipy under a computed name via importlib."""
import importlib

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    special = importlib.import_module("sci" + "py.special")
    return float(special.logsumexp(np.log(np.abs(x))))
