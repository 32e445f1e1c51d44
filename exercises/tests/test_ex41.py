"""Public tests of exercise 41, parts a-d (differentiable convolution).

Every expected value comes from torch (float64) or from central differences,
computed in the grader's own process (see support/conv_oracle.py). Images and
kernels are not square, kernels are random (never symmetric) and the upstream
gradient is random (never all ones), so a flipped kernel, swapped axes or an
ignored upstream gradient cannot pass. Each test contains at least one case
that exposes every known mistake of its part, and checks all its cases in one
group: a known mistake is named only when it explains every case, and is
reported once.

A mistake costs only its own part: b runs h_conv2d_grad also with a correct
h_conv2d in place of the student's, c checks conv2d with correct
h_conv2d/h_conv2d_grad in place, d checks Conv2D with a correct conv2d in
place (support/conv_oracle.py explains how).

Run with:  grade ex41
"""

from __future__ import annotations

import numpy as np
import pytest

from exercises.tests.support.conv_oracle import (ConvCase, Conv2dCases, GradCases, ModuleCase, check_conv2d_module,
                                                 conv2d_case, forward_case, forward_cases, grad_case, make_inputs,
                                                 read_only)

# (B, C, H, W, O, kh, kw): batch > 1, several channels, non-square images, kh != kw.
CASES = [
    ConvCase(2, 3, 7, 9, 4, 3, 5),      # square output (5, 5): a transposed output has the right shape
    ConvCase(3, 2, 10, 7, 5, 3, 1),     # a 3 x 1 kernel
    ConvCase(2, 4, 6, 11, 3, 5, 3),     # kh > kw
]

EDGE_CASES = [
    ConvCase(2, 3, 6, 5, 2, 1, 1),      # 1 x 1 kernel
    ConvCase(2, 2, 5, 7, 3, 5, 7),      # kernel as large as the image: output 1 x 1
    ConvCase(1, 1, 5, 6, 1, 3, 3),      # one sample, one channel in and out
    ConvCase(3, 2, 6, 8, 4, 3, 5),      # an ordinary case
]

GRAD_CASES = CASES + [
    ConvCase(2, 3, 8, 7, 3, 3, 5),      # C == O: a rotated kernel without swapped channels gives values
]

GRAD_EDGE_CASES = [
    ConvCase(2, 3, 6, 5, 2, 1, 1),      # 1 x 1 kernel
    ConvCase(3, 2, 5, 7, 3, 5, 7),      # kernel as large as the image, same shape as the image
    ConvCase(3, 2, 6, 8, 4, 3, 5),      # an ordinary case
    ConvCase(3, 4, 6, 5, 4, 3, 1),      # C == O
]

NUMERIC_CASE = ConvCase(2, 3, 5, 6, 3, 3, 1)   # C == O

CONV2D_CASES = [
    ConvCase(2, 3, 7, 9, 4, 3, 5),
    ConvCase(3, 2, 8, 6, 2, 3, 1),
]

MODULE_CASES = [
    ModuleCase(init=(8, 16, 5), small=(3, 4, 3), batch=2, size=8, seed=41),
    ModuleCase(init=(16, 6, 5), small=(2, 5, 5), batch=3, size=9, seed=7),
]

# The worked example of the task text (Aufgabe 41): a hand-picked fixed case.
EXAMPLE_IMAGE = [[2, 0, 1, 3, 2, 1, 0], [1, 3, 2, 1, 0, 1, 2], [0, 1, 1, 3, 2, 0, 1], [1, 2, 3, 0, 1, 1, 0],
                 [0, 1, 3, 2, 1, 0, 2], [1, 2, 0, 1, 3, 2, 1], [1, 0, 1, 2, 1, 0, 0]]
EXAMPLE_KERNEL = [[1, 0, 2], [2, 3, 0], [1, 0, 1]]


# ------------------------------------------------------------------ part a
@pytest.mark.part("a")
def test_h_conv2d(student, rng):
    with forward_cases() as cases:
        for case in CASES:
            image, kernel, _ = make_inputs(rng, case)
            forward_case(cases, student.ex41_conv.h_conv2d(image, kernel), image, kernel)


@pytest.mark.part("a")
def test_h_conv2d_worked_example(student):
    """The 7 x 7 example of the task text: 16 at the top left (an FFT solution's 15.999... is fine)."""
    image = read_only(np.array(EXAMPLE_IMAGE, dtype=np.float64)[None, None])
    kernel = read_only(np.array(EXAMPLE_KERNEL, dtype=np.float64)[None, None])
    with forward_cases("h_conv2d(image, kernel) für das 7x7-Beispiel der Aufgabe (oben links 16)") as cases:
        forward_case(cases, student.ex41_conv.h_conv2d(image, kernel), image, kernel)


@pytest.mark.part("a")
def test_h_conv2d_edge_cases(student, rng):
    """1 x 1 kernels, a kernel as large as the image, B = C = O = 1, and float32
    inputs (a float32 or float64 result is fine for those)."""
    with forward_cases() as cases:
        for case in EDGE_CASES:
            image, kernel, _ = make_inputs(rng, case)
            forward_case(cases, student.ex41_conv.h_conv2d(image, kernel), image, kernel)
        image, kernel, _ = make_inputs(rng, ConvCase(2, 2, 6, 7, 3, 3, 5), dtype="float32")
        forward_case(cases, student.ex41_conv.h_conv2d(image, kernel), image, kernel)


# ------------------------------------------------------------------ part b
def _grad_cases(student, rng, cases, group: GradCases, reference: str = "torch") -> None:
    for case in cases:
        image, kernel, grad_output = make_inputs(rng, case)
        grad_case(group, student, image, kernel, grad_output, reference=reference)


@pytest.mark.part("b")
def test_h_conv2d_grad(student, rng):
    with GradCases() as group:
        _grad_cases(student, rng, GRAD_CASES, group)


@pytest.mark.part("b")
def test_h_conv2d_grad_numeric(student, rng):
    """The same gradients, checked against central differences instead of torch."""
    with GradCases(source=" (verglichen mit einem numerischen Gradienten aus zentralen Differenzen)") as group:
        _grad_cases(student, rng, [NUMERIC_CASE], group, reference="numeric")


@pytest.mark.part("b")
def test_h_conv2d_grad_edge_cases(student, rng):
    with GradCases() as group:
        _grad_cases(student, rng, GRAD_EDGE_CASES, group)


# ------------------------------------------------------------------ part c
@pytest.mark.part("c")
def test_conv2d_autodiff(student, rng):
    """conv2d's value and the gradients reaching image and kernel, whatever parts a and b return."""
    with Conv2dCases() as cases:
        for case in CONV2D_CASES:
            image, kernel, grad_output = make_inputs(rng, case)
            conv2d_case(cases, student, image, kernel, grad_output, int(rng.integers(2**31)))


# ------------------------------------------------------------------ part d
@pytest.mark.part("d")
def test_conv2d_module(student, rng):
    """Parameters weight/bias registered (and no bias with bias=False), their
    initialisation, and forward/backward of the module."""
    check_conv2d_module(student, MODULE_CASES, rng)
