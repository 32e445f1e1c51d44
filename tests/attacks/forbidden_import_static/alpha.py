"""Attack: use torch in a NumPy-only exercise (a plain import)."""
import numpy as np
import torch


def scale(x, factor):
    return (torch.from_numpy(x) * factor).numpy()


def total(x):
    return float(torch.from_numpy(x).sum())
