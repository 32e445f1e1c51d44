"""Public tests of exercise 41, parts a-d (differentiable convolution).

Every expected value comes from torch (float64) or from central differences,
computed in the grader's own process (see support/conv_oracle.py). Images and
kernels are not square, kernels are random (never symmetric) and the upstream
gradient is random (never all ones), so a flipped kernel, swapped axes or an
ignored upstream gradient cannot pass. Each test contains at least one case
that exposes every known mistake of its part.

Run with:  grade ex41
"""

from __future__ import annotations

import pytest

from support.conv_oracle import (ConvCase, ModuleCase, check_conv2d, check_conv2d_module, check_forward,
                                 check_h_conv2d_grad_result, make_inputs)

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

GRAD_EDGE_CASES = [
    ConvCase(2, 3, 6, 5, 2, 1, 1),      # 1 x 1 kernel
    ConvCase(3, 2, 5, 7, 3, 5, 7),      # kernel as large as the image, same shape as the image
    ConvCase(3, 2, 6, 8, 4, 3, 5),      # an ordinary case
]

NUMERIC_CASE = ConvCase(2, 2, 5, 6, 3, 3, 1)

CONV2D_CASES = [  # square outputs from non-square images and kernels: c grades the wiring, a the layout
    ConvCase(2, 3, 7, 9, 4, 3, 5),
    ConvCase(3, 2, 8, 6, 2, 3, 1),
]

MODULE_CASES = [
    ModuleCase(init=(8, 16, 5), small=(3, 4, 3), batch=2, size=8, seed=41),
    ModuleCase(init=(16, 6, 5), small=(2, 5, 5), batch=3, size=9, seed=7),
]


# ------------------------------------------------------------------ part a
@pytest.mark.part("a")
@pytest.mark.parametrize("case", CASES, ids=str)
def test_h_conv2d(student, rng, case):
    image, kernel, _ = make_inputs(rng, case)
    check_forward(student.ex41_conv.h_conv2d(image, kernel), image, kernel)


@pytest.mark.part("a")
def test_h_conv2d_edge_cases(student, rng):
    """1 x 1 kernels, a kernel as large as the image, B = C = O = 1, and float32
    inputs (a float32 or float64 result is fine for those)."""
    for case in EDGE_CASES:
        image, kernel, _ = make_inputs(rng, case)
        check_forward(student.ex41_conv.h_conv2d(image, kernel), image, kernel)
    image, kernel, _ = make_inputs(rng, ConvCase(2, 2, 6, 7, 3, 3, 5), dtype="float32")
    check_forward(student.ex41_conv.h_conv2d(image, kernel), image, kernel)


# ------------------------------------------------------------------ part b
@pytest.mark.part("b")
@pytest.mark.parametrize("case", CASES, ids=str)
def test_h_conv2d_grad(student, rng, case):
    image, kernel, grad_output = make_inputs(rng, case)
    got = student.ex41_conv.h_conv2d_grad(image, kernel, grad_output)
    check_h_conv2d_grad_result(got, image, kernel, grad_output)


@pytest.mark.part("b")
def test_h_conv2d_grad_numeric(student, rng):
    """The same gradients, checked against central differences instead of torch."""
    image, kernel, grad_output = make_inputs(rng, NUMERIC_CASE)
    got = student.ex41_conv.h_conv2d_grad(image, kernel, grad_output)
    check_h_conv2d_grad_result(got, image, kernel, grad_output, reference="numeric")


@pytest.mark.part("b")
def test_h_conv2d_grad_edge_cases(student, rng):
    for case in GRAD_EDGE_CASES:
        image, kernel, grad_output = make_inputs(rng, case)
        got = student.ex41_conv.h_conv2d_grad(image, kernel, grad_output)
        check_h_conv2d_grad_result(got, image, kernel, grad_output)


# ------------------------------------------------------------------ part c
@pytest.mark.part("c")
@pytest.mark.parametrize("case", CONV2D_CASES, ids=str)
def test_conv2d_autodiff(student, rng, case):
    image, kernel, grad_output = make_inputs(rng, case)
    check_conv2d(student, image, kernel, grad_output)


# ------------------------------------------------------------------ part d
@pytest.mark.part("d")
@pytest.mark.parametrize("case", MODULE_CASES, ids=str)
def test_conv2d_module(student, rng, case):
    """Parameters weight/bias registered (and no bias with bias=False), their
    initialisation, and forward/backward of the module."""
    check_conv2d_module(student, case, rng)
