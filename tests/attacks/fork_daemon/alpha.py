"""Attack: leave a double-forked, setsid'ed daemon behind, then answer honestly.

The daemon ignores SIGTERM/SIGHUP and spins; grading must still finish and
no process of the sandbox's uid may survive it.
"""
import os
import signal

import numpy as np

started = []


def scale(x, factor):
    return x * factor


def total(x):
    if not started:
        started.append(1)
        if os.fork() == 0:
            try:
                os.setsid()  # refused by the seccomp filter; the daemon then stays in the sandbox's group
            except OSError:
                pass
            if os.fork() == 0:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
                while True:
                    pass
            os._exit(0)
        os.wait()
    return float(np.sum(x))
