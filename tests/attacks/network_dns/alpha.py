"""Probe: resolve names (DNS would leak data to the outside even without TCP)."""
import socket

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    found = []
    for name in ("example.com", "pypi.org"):
        try:
            found.append(f"{name} -> {socket.getaddrinfo(name, 443)[0][4]}")
        except OSError:
            pass
    if found:
        raise RuntimeError("LEAK " + "; ".join(found))
    return float(np.sum(x))
