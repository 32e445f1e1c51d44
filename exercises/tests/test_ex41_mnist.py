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

from grader.trusted.checks import CheckFailed, describe, expect_array
from exercises.tests.support.conv_oracle import failing_earlier_parts, root_cause_text

N_DIGITS = 500
FULL_AT, ZERO_BELOW = 0.97, 0.90      # the points curve of part e (as in the final grading)


def course_root() -> Path:
    here = Path(__file__).resolve()
    for folder in here.parents:
        if (folder / "exercises" / "mnist_idx.py").is_file():
            return folder
    raise RuntimeError("course folder with exercises/mnist_idx.py not found above " + str(here))  # staff only


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
    what = f"predict(images) für Bilder der Form ({n}, 1, 28, 28)"
    if isinstance(got, np.ndarray) and got.ndim == 2 and got.shape == (n, 10):
        raise CheckFailed(f"{what} lieferte die Form ({n}, 10), erwartet war ({n},): Das sind vermutlich "
                          "Bewertungen (Scores) oder One-hot-Zeilen pro Bild; geben Sie ein Label pro Bild zurück "
                          "(argmax über Achse 1).", cause="shape")
    got = expect_array(got, shape=(n,), what=what, dtypes=())
    if got.dtype.kind not in "iu":
        raise CheckFailed(f"{what} lieferte {describe(got)}, erwartet waren ganzzahlige Labels (z. B. int64): "
                          "Umwandeln mit .astype(np.int64); Gleitkomma-Labels wie 3.0 werden nicht akzeptiert.",
                          cause="dtype")
    if got.size and (got.min() < 0 or got.max() > 9):
        raise CheckFailed(f"{what} lieferte Labels von {int(got.min())} bis {int(got.max())}; Ziffern sind "
                          "0 bis 9.", cause="values")
    return got


def percent(fraction: float, digits: int = 2) -> str:
    """0.3620 -> '36.20 %' (plain number, as everywhere in the feedback)."""
    return f"{100 * fraction:.{digits}f} %"


def low_accuracy_advice(student, accuracy: float) -> str:
    """What to do about an accuracy below full points: name a failing part a/b as the
    likely root cause (one small sandbox call), else advice on training."""
    cause = root_cause_text(failing_earlier_parts(student))
    if cause:
        return cause
    if accuracy < 0.2:
        return ("Etwa 10 % ist Zufallsniveau: Sind die Gewichte trainiert und werden sie geladen, und bestehen "
                "Conv2D und conv2d (Teile c und d) ihre Tests?")
    return "Trainieren Sie länger (--epochs) oder prüfen Sie die Lernrate in ex41_mnist_experiment.py."


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
    if accuracy < FULL_AT:
        raise CheckFailed(
            f"predict hat {percent(accuracy)} der {len(x)} Trainingsziffern richtig erkannt; volle Punkte ab "
            f"{percent(FULL_AT, 0)}, keine unter {percent(ZERO_BELOW, 0)} (die Bewertung verwendet ungesehene "
            f"Testziffern). " + low_accuracy_advice(student, accuracy), cause="accuracy")
