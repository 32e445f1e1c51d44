"""Attack: endless loop with every catchable signal ignored and alarms disarmed."""
import signal

import numpy as np

for name in ("SIGTERM", "SIGINT", "SIGALRM", "SIGHUP", "SIGXCPU", "SIGUSR1", "SIGUSR2", "SIGPIPE", "SIGVTALRM"):
    signal.signal(getattr(signal, name), signal.SIG_IGN)


def scale(x, factor):
    return x * factor


def total(x):
    signal.alarm(0)
    signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, range(1, 32))
    except (OSError, ValueError):
        pass
    while True:
        try:
            while True:
                pass
        except BaseException:
            continue
