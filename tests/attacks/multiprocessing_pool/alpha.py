"""Attack: start as many multiprocessing workers as possible, each spinning."""
import multiprocessing

import numpy as np


def spin(_):
    while True:
        pass


def scale(x, factor):
    return x * factor


def total(x):
    procs = [multiprocessing.Process(target=spin, args=(i,)) for i in range(200)]
    for p in procs:
        p.start()
    return 0.0
