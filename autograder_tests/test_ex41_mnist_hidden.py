"""Hidden test of Aufgabe 41 e: accuracy of `predict` on the MNIST test set.

The test images go to the sandbox; the labels never do: the comparison
happens here. Points: 1 at >= 97 % accuracy, 0 below 90 %, linear between.

Which test set: by default the 2,000 test digits of the course's sample
(data/mnist-sample/t10k-*). A course grading for real passes the official
test set (10,000 digits): `grade batch ... --option mnist_dir=/path/to/mnist`
(or the same option of devrun), a folder with t10k-images-idx3-ubyte[.gz]
and t10k-labels-idx1-ubyte[.gz]; the official files are checked against
their published SHA-256.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from grader.trusted.checks import CheckFailed
from exercises.tests.test_ex41_mnist import (FULL_AT, ZERO_BELOW, accuracy_points, as_predict_input, check_labels,
                                             course_root, low_accuracy_advice, mnist_idx_module, percent)

CHUNK = 10_000           # images per predict call: the official test set in one call
PREDICT_TIMEOUT = 120    # seconds per call (spec: predict on 10,000 images within 120 s)


def load_test_set(grade_options: dict) -> tuple[np.ndarray, np.ndarray, str]:
    """(images (N, 1, 28, 28) float32 in [0, 1], labels (N,) int64, description)."""
    mnist_dir = grade_options.get("mnist_dir")
    folder = Path(mnist_dir).expanduser().resolve() if mnist_dir else course_root() / "data" / "mnist-sample"
    try:
        x, labels = load_test_split(folder)
    except (OSError, ValueError) as error:
        # A grader configuration problem, not the student's: fail as an internal error.
        raise RuntimeError(f"cannot load the MNIST test set for ex41 e from {folder}: {error}") from error
    source = "des offiziellen MNIST-Testsatzes" if mnist_dir else "der MNIST-Stichprobe des Kurses"
    return x, labels, f"{len(x)} Testziffern {source}"


@functools.cache
def load_test_split(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """The test split in folder as predict receives it (read-only) and its labels; loaded once per process."""
    images, labels = mnist_idx_module().load_mnist(folder, "test")
    labels = labels.astype(np.int64)
    labels.flags.writeable = False
    return as_predict_input(images), labels


try:
    load_test_split(course_root() / "data" / "mnist-sample")  # the default test set: once per batch, now
except (OSError, ValueError, RuntimeError):
    pass  # no sample (or no course folder): reported by the test, as a configuration problem


@pytest.mark.part("e")
def test_accuracy_on_test_set(student, grade_options, credit):
    x, labels, description = load_test_set(grade_options)
    module = student.module("ex41_mnist", timeout=PREDICT_TIMEOUT)
    predicted = np.concatenate([check_labels(module.predict(x[i:i + CHUNK]), len(x[i:i + CHUNK]))
                                for i in range(0, len(x), CHUNK)])
    accuracy = float((predicted == labels).mean())
    fraction = accuracy_points(accuracy)
    credit.set(fraction)
    if fraction < 1.0:
        raise CheckFailed(
            f"predict hat {percent(accuracy)} der {description} richtig erkannt: {100 * fraction:.0f} % der "
            f"Punkte (volle Punkte ab {percent(FULL_AT, 0)}, keine unter {percent(ZERO_BELOW, 0)}). "
            + low_accuracy_advice(student, accuracy), cause="accuracy")
