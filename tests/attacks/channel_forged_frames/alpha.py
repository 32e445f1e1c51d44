"""Attack: forge frames on the channel (a bogus 2 GB length, malformed JSON), then exit."""
import os
import stat
import struct

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    for fd in range(3, 256):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.write(fd, struct.pack("!i", 2**31 - 1))
        except OSError:
            pass
    os._exit(0)
