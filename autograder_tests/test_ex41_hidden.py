"""Hidden tests of exercise 41, parts a-d.

Same checks and messages as the public tests (support/conv_oracle.py), on
shapes and seeds drawn from the secret-seeded `rng`, so hard-coding the
public answers does not pay. No new failure class: every case still has
B >= 2, B != O, H != W and kh != kw, plus a few extra edge shapes (tall
7 x 1 and flat 1 x 5 kernels, a kernel as large as a non-square image, one
input channel).
"""

from __future__ import annotations

import pytest

from support.conv_oracle import (ConvCase, ModuleCase, check_conv2d, check_conv2d_module, check_forward,
                                 check_h_conv2d_grad_result, make_inputs, random_case)


def _edge_cases(rng) -> list[ConvCase]:
    B = int(rng.integers(2, 4))
    return [
        ConvCase(B, 2, 9, 4, B + 1, 7, 1),                      # tall 7 x 1 kernel
        ConvCase(B, 1, 4, 8, B + 2, 1, 5),                      # flat 1 x 5 kernel, one input channel
        ConvCase(B, 3, 3, 5, B + 1, 3, 5),                      # kernel as large as the image
        random_case(rng),
    ]


# ------------------------------------------------------------------ part a
@pytest.mark.part("a")
@pytest.mark.parametrize("draw", range(3))
def test_h_conv2d_hidden(student, rng, draw):
    case = random_case(rng)
    image, kernel, _ = make_inputs(rng, case)
    check_forward(student.ex41_conv.h_conv2d(image, kernel), image, kernel)


@pytest.mark.part("a")
def test_h_conv2d_hidden_edge_cases(student, rng):
    for case in _edge_cases(rng):
        image, kernel, _ = make_inputs(rng, case)
        check_forward(student.ex41_conv.h_conv2d(image, kernel), image, kernel)
    image, kernel, _ = make_inputs(rng, random_case(rng), dtype="float32")
    check_forward(student.ex41_conv.h_conv2d(image, kernel), image, kernel)


# ------------------------------------------------------------------ part b
@pytest.mark.part("b")
@pytest.mark.parametrize("draw", range(3))
def test_h_conv2d_grad_hidden(student, rng, draw):
    case = random_case(rng)
    image, kernel, grad_output = make_inputs(rng, case)
    got = student.ex41_conv.h_conv2d_grad(image, kernel, grad_output)
    check_h_conv2d_grad_result(got, image, kernel, grad_output)


@pytest.mark.part("b")
def test_h_conv2d_grad_hidden_numeric(student, rng):
    case = random_case(rng, max_kernel=3, max_extra=3)
    image, kernel, grad_output = make_inputs(rng, case)
    got = student.ex41_conv.h_conv2d_grad(image, kernel, grad_output)
    check_h_conv2d_grad_result(got, image, kernel, grad_output, reference="numeric")


@pytest.mark.part("b")
def test_h_conv2d_grad_hidden_edge_cases(student, rng):
    B = int(rng.integers(2, 4))
    for case in _edge_cases(rng) + [ConvCase(B, 2, 3, 5, B, 3, 5)]:   # image and kernel of equal shape
        image, kernel, grad_output = make_inputs(rng, case)
        got = student.ex41_conv.h_conv2d_grad(image, kernel, grad_output)
        check_h_conv2d_grad_result(got, image, kernel, grad_output)


# ------------------------------------------------------------------ part c
@pytest.mark.part("c")
@pytest.mark.parametrize("draw", range(3))
def test_conv2d_autodiff_hidden(student, rng, draw):
    image, kernel, grad_output = make_inputs(rng, random_case(rng, square_output=True))
    check_conv2d(student, image, kernel, grad_output)


# ------------------------------------------------------------------ part d
@pytest.mark.part("d")
@pytest.mark.parametrize("init, small", [((6, 20, 3), (4, 3, 3)), ((12, 4, 5), (1, 6, 3)),
                                         ((10, 14, 3), (3, 2, 5))],
                         ids=lambda sizes: "Conv2D(%d,%d,%d)" % sizes)
def test_conv2d_module_hidden(student, rng, init, small):
    batch = int(rng.integers(2, 4))
    size = small[2] + int(rng.integers(2, 6))
    case = ModuleCase(init=init, small=small, batch=batch, size=size, seed=int(rng.integers(2**31)))
    check_conv2d_module(student, case, rng)
