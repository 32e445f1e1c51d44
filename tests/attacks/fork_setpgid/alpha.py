"""Attack: leave a process behind in a process group of its own (setpgid), then answer honestly.

If setpgid worked, the daemon would escape the sandbox's process group and
only the sweep of the sandbox's uid could end it (the sweep skips its fork
when every process of the uid is in the killed group). The seccomp filter
refuses setpgid; either way grading must finish and no process of that uid
may survive.
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
                os.setpgid(0, 0)
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
