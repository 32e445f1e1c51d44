"""Attack: 100+ MB through sys.__stdout__/sys.__stderr__ and their buffers, then answer honestly."""
import sys

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    text = "Y" * 2**20
    for _ in range(60):
        sys.__stdout__.write(text)
        sys.__stderr__.write(text)
        for stream in (sys.__stdout__, sys.stdout):
            buf = getattr(stream, "buffer", None)
            if buf is not None:
                buf.write(text.encode())
    sys.__stdout__.flush()
    return float(np.sum(x))
