"""Public tests of Aufgabe 41 e: does `predict` work and does the trained model classify?

Only images go to your code; the labels stay with the grader. These tests
use 500 digits of the *training* split of the course's MNIST sample, which
your model has seen while training, so the accuracy here is usually a bit
higher than on the unseen test digits the final grading uses.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.checks import describe, expect_array

N_DIGITS = 500
FULL_AT, ZERO_BELOW = 0.97, 0.90      # the points curve of part e (as in the final grading)


def course_root() -> Path:
    here = Path(__file__).resolve()
    for folder in here.parents:
        if (folder / "exercises" / "mnist_idx.py").is_file():
            return folder
    raise RuntimeError("course folder with exercises/mnist_idx.py not found above " + str(here))


def mnist_idx_module():
    """The course's IDX reader (exercises/mnist_idx.py), loaded in the grader's process."""
    if "mnist_idx" in sys.modules:
        return sys.modules["mnist_idx"]
    spec = importlib.util.spec_from_file_location("mnist_idx", course_root() / "exercises" / "mnist_idx.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["mnist_idx"] = module
    return module


def as_predict_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> what predict receives: (N, 1, 28, 28) float32 in [0, 1], read-only."""
    x = (images.astype(np.float32) / 255.0)[:, None, :, :]
    x.flags.writeable = False  # shared by every grading of a batch
    return x


@functools.cache
def training_digits() -> tuple[np.ndarray, np.ndarray]:
    """The first 500 training digits as predict receives them, and their labels (int64).

    Loaded (read, checksummed, converted) once per process: the batch
    grader imports this module once and grades every submission with it.
    """
    images, labels = mnist_idx_module().load_mnist(course_root() / "data" / "mnist-sample", "train")
    labels = labels[:N_DIGITS].astype(np.int64)
    labels.flags.writeable = False
    return as_predict_input(images[:N_DIGITS]), labels


try:
    training_digits()  # now, at import (once per batch), instead of in the first grading
except (OSError, ValueError, RuntimeError):
    pass               # missing data or course folder: the test that needs them reports the error


@pytest.fixture
def digits() -> tuple[np.ndarray, np.ndarray]:
    """(500, 1, 28, 28) float32 training digits in [0, 1] and their labels."""
    return training_digits()


def check_labels(got, n: int) -> np.ndarray:
    """predict's result must be integer labels 0..9 of shape (n,); else a message saying what is wrong."""
    what = f"predict(images) for images of shape ({n}, 1, 28, 28)"
    if isinstance(got, np.ndarray) and got.ndim == 2 and got.shape == (n, 10):
        raise AssertionError(f"{what} returned shape {got.shape}, expected ({n},): these look like "
                             "scores or one-hot rows per image; return one label per image "
                             "(the argmax over axis 1).")
    got = expect_array(got, shape=(n,), what=what, dtypes=())
    if got.dtype.kind not in "iu":
        raise AssertionError(f"{what} returned {describe(got)}, expected integer labels (e.g. int64): "
                             "convert with .astype(np.int64); float labels such as 3.0 are not accepted.")
    if got.size and (got.min() < 0 or got.max() > 9):
        raise AssertionError(f"{what} returned labels from {int(got.min())} to {int(got.max())}; "
                             "digits are 0..9.")
    return got


def accuracy_points(accuracy: float) -> float:
    """Share of the points for an accuracy: 1 at >= 97 %, 0 below 90 %, linear between."""
    return float(np.clip((accuracy - ZERO_BELOW) / (FULL_AT - ZERO_BELOW), 0.0, 1.0))


@pytest.mark.part("e")
def test_predict_accuracy_on_training_digits(student, digits, credit):
    """Integer labels of shape (N,) (also for a single image), then the points curve on 500 digits."""
    x, labels = digits
    predict = student.module("ex41_mnist", timeout=120).predict
    check_labels(predict(x[:1]), 1)
    got = check_labels(predict(x), len(x))
    accuracy = float((got == labels).mean())
    credit.set(accuracy_points(accuracy))
    assert accuracy >= FULL_AT, (
        f"predict classified {accuracy:.2%} of {len(x)} training digits correctly; full points from "
        f"{FULL_AT:.0%}, none below {ZERO_BELOW:.0%} (the final grading uses unseen test digits). "
        + ("About 10 % is chance level: are the weights trained and loaded, and do your Conv2D and "
           "its gradients (parts a-d) pass their tests?" if accuracy < 0.2 else
           "Train longer (--epochs) or check the learning rate in ex41_mnist_experiment.py.")
    )
