"""Attack: import torch under a computed name via __import__."""
import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    torch = __import__("to" + "rch")
    return float(torch.tensor(x).sum())
