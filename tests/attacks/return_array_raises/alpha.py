"""Attack: return objects whose __array__/__float__/__eq__ raise or lie."""
import numpy as np


class Trap:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("gotcha")

    def __float__(self):
        raise RuntimeError("gotcha")

    def __eq__(self, other):
        return True

    def __len__(self):
        raise RuntimeError("gotcha")


def scale(x, factor):
    return Trap()


def total(x):
    return Trap()
