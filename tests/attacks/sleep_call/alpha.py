"""Attack: sleep forever (uses no CPU, so only a wall-clock limit stops it)."""
import time

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    time.sleep(10**6)
