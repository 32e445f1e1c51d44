"""Hidden tests of exercise 41, parts a-d.

Same checks and messages as the public tests (support/conv_oracle.py), on
shapes and values drawn from the secret-seeded `rng` fixture (per test and
per student), so hard-coding the public answers does not pay. No new failure
class: every random case still has B >= 2, B != O, H != W and kh != kw, plus
a few edge shapes whose sizes are fixed on purpose (tall 7 x 1 and flat
1 x 5 kernels, a kernel as large as a non-square image, one input channel)
but whose batch size and values are drawn from `rng`. Each test of part b
has a case with C == O (where a rotated kernel without swapped channel axes
gives values). The module sizes of part d are hand-picked (init statistics
need >= 1,000 weights); the input batch, size, seeds and values are drawn.
"""

from __future__ import annotations

import pytest

from exercises.tests.support.conv_oracle import (ConvCase, Conv2dCases, GradCases, ModuleCase, check_conv2d_module,
                                                 conv2d_case, forward_case, forward_cases, grad_case, make_inputs,
                                                 random_case)


def _edge_cases(rng) -> list[ConvCase]:
    B = int(rng.integers(2, 4))
    return [
        ConvCase(B, 2, 9, 4, B + 1, 7, 1),                      # tall 7 x 1 kernel
        ConvCase(B, 1, 4, 8, B + 2, 1, 5),                      # flat 1 x 5 kernel, one input channel
        ConvCase(B, 3, 3, 5, B + 1, 3, 5),                      # kernel as large as the image
        random_case(rng),
    ]


def _grad_group(student, rng, cases, group: GradCases, reference: str = "torch") -> None:
    for case in cases:
        image, kernel, grad_output = make_inputs(rng, case)
        grad_case(group, student, image, kernel, grad_output, reference=reference)


# ------------------------------------------------------------------ part a
@pytest.mark.part("a")
def test_h_conv2d_hidden(student, rng):
    with forward_cases() as cases:
        for _ in range(3):
            image, kernel, _ = make_inputs(rng, random_case(rng))
            forward_case(cases, student.ex41_conv.h_conv2d(image, kernel), image, kernel)


@pytest.mark.part("a")
def test_h_conv2d_hidden_edge_cases(student, rng):
    with forward_cases() as cases:
        for case in _edge_cases(rng):
            image, kernel, _ = make_inputs(rng, case)
            forward_case(cases, student.ex41_conv.h_conv2d(image, kernel), image, kernel)
        image, kernel, _ = make_inputs(rng, random_case(rng), dtype="float32")
        forward_case(cases, student.ex41_conv.h_conv2d(image, kernel), image, kernel)


# ------------------------------------------------------------------ part b
@pytest.mark.part("b")
def test_h_conv2d_grad_hidden(student, rng):
    with GradCases() as group:
        _grad_group(student, rng, [random_case(rng) for _ in range(2)] + [random_case(rng, same_channels=True)],
                    group)


@pytest.mark.part("b")
def test_h_conv2d_grad_hidden_numeric(student, rng):
    with GradCases(source=" (verglichen mit einem numerischen Gradienten aus zentralen Differenzen)") as group:
        _grad_group(student, rng, [random_case(rng, max_kernel=3, max_extra=3, same_channels=True)], group,
                    reference="numeric")


@pytest.mark.part("b")
def test_h_conv2d_grad_hidden_edge_cases(student, rng):
    B = int(rng.integers(2, 4))
    cases = _edge_cases(rng) + [ConvCase(B, 2, 3, 5, B, 3, 5),                # image and kernel of equal shape
                                random_case(rng, same_channels=True)]
    with GradCases() as group:
        _grad_group(student, rng, cases, group)


# ------------------------------------------------------------------ part c
@pytest.mark.part("c")
def test_conv2d_autodiff_hidden(student, rng):
    with Conv2dCases() as cases:
        for _ in range(3):
            image, kernel, grad_output = make_inputs(rng, random_case(rng))
            conv2d_case(cases, student, image, kernel, grad_output, int(rng.integers(2**31)))


# ------------------------------------------------------------------ part d
@pytest.mark.part("d")
def test_conv2d_module_hidden(student, rng):
    cases = []
    for init, small in [((6, 20, 3), (4, 3, 3)), ((12, 4, 5), (1, 6, 3)), ((10, 14, 3), (3, 2, 5))]:
        batch = int(rng.integers(2, 4))
        size = small[2] + int(rng.integers(2, 6))
        cases.append(ModuleCase(init=init, small=small, batch=batch, size=size, seed=int(rng.integers(2**31))))
    check_conv2d_module(student, cases, rng)
