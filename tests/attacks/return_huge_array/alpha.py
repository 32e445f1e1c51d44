"""Attack: return arrays above the channel's size cap (real, and virtual via stride tricks)."""
import numpy as np

calls = []


def scale(x, factor):
    calls.append(1)
    if len(calls) % 2:
        return np.ones(300 * 2**20 // 8)  # 300 MiB, above the 256 MiB cap
    return np.lib.stride_tricks.as_strided(np.zeros(1), shape=(10**7, 10**7), strides=(0, 0))


def total(x):
    return float(np.sum(x))
