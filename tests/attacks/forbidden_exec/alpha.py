"""Attack: import torch from a string passed to exec (invisible to a static check)."""
import base64

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    ns = {}
    exec(base64.b64decode(b"aW1wb3J0IHRvcmNo").decode(), ns)  # "import torch"
    return float(ns["torch"].tensor(x).sum())
