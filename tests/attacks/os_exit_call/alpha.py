"""Attack: os._exit inside a graded call."""
import os

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    os._exit(7)
