"""Attack: write half a reply frame on the grader's channel, then sleep (tries to hang the grader)."""
import os
import stat
import struct
import time

import numpy as np


def _channel_fds():
    fds = []
    for fd in range(3, 256):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                fds.append(fd)
        except OSError:
            pass
    return fds


def scale(x, factor):
    return x * factor


def total(x):
    for fd in _channel_fds():
        os.write(fd, struct.pack("!i", 1000) + b'{"ok"')
    time.sleep(10**6)
