"""Hidden tests for conv_shapes: the public checks on other, random inputs.

Inputs come from the `rng` fixture (seeded with the course's secret seed), so
hard-coding the public answers does not pay. Every case set contains unequal
stride/padding pairs, non-square inputs and strides that do not divide.
"""

from __future__ import annotations

import numpy as np
import pytest

from exercises.tests.test_conv_shapes import (OMITTED, POOL_NAMES, check_conv, check_pool, check_size, conv_inputs,
                                              read_only)


def random_sizes(rng: np.random.Generator, count: int) -> list[tuple[int, int, int, int]]:
    """Valid (n, k, padding, stride); strides 2-4 mostly, so floor, ceil and +1 differ somewhere."""
    cases = []
    while len(cases) < count:
        n, k = int(rng.integers(3, 64)), int(rng.integers(1, 8))
        p, s = int(rng.integers(0, 4)), int(rng.integers(1, 5))
        if k <= n + 2 * p:
            cases.append((n, k, p, s))
    cases.append((int(rng.integers(5, 40)) * 2, 3, 1, 2))          # even n, stride 2: ceil != floor
    cases.append((int(rng.integers(3, 10)) * 3 + 1, 4, 2, 3))      # padding != 2 * padding
    return cases


@pytest.mark.part("conv_output_size")
def test_conv_output_size_hidden(student, rng):
    n = int(rng.integers(3, 12))
    p = int(rng.integers(0, 3))
    errors = [((n, n + 2 * p + int(rng.integers(1, 4)), p, 1), "k größer als n plus zweimal padding"),
              ((n, 0, p, 2), "k kleiner als eins"), ((n, 2, p, 0), "stride kleiner als eins"),
              ((n, 2, -int(rng.integers(1, 3)), 1), "negativem padding")]
    check_size(student, random_sizes(rng, 10), errors)


def random_conv_case(rng: np.random.Generator, style: str) -> tuple:
    B, C, O = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 5))
    kh, kw = (int(v) for v in rng.choice(np.arange(1, 6), size=2, replace=False))
    H, W = kh + int(rng.integers(2, 9)), kw + int(rng.integers(2, 9))
    if H == W:
        W += 1
    sh, sw = (int(v) for v in rng.choice(np.arange(1, 5), size=2, replace=False))
    ph, pw = (int(v) for v in rng.choice(np.arange(0, 4), size=2, replace=False))
    image, kernel = conv_inputs(rng, (B, C, H, W), (O, C, kh, kw))
    if style == "int":
        return image, kernel, sh, ph
    if style == "tuple":
        return image, kernel, (sh, sw), (ph, pw)
    return image, kernel, [sh, sw], [ph, pw]


@pytest.mark.part("conv2d_strided")
def test_conv2d_strided_hidden(student, rng):
    cases = [random_conv_case(rng, style) for style in ("int", "tuple", "list", "tuple", "int", "list")]
    check_conv(student, cases)


def random_pool_cases(rng: np.random.Generator) -> list[tuple]:
    out = []
    for stride_style in (OMITTED, None, "int", "tuple", "list"):
        kh, kw = (int(v) for v in rng.choice(np.arange(2, 5), size=2, replace=False))
        H, W = kh + int(rng.integers(3, 9)), kw + int(rng.integers(3, 9))
        x = read_only(rng.standard_normal((int(rng.integers(1, 4)), int(rng.integers(1, 4)), H, W)))
        kernel_size = (kh, kw) if stride_style != "int" else kh
        sh, sw = (int(v) for v in rng.choice(np.arange(1, 4), size=2, replace=False))
        stride = {"int": sh, "tuple": (sh, sw), "list": [sh, sw]}.get(stride_style, stride_style)
        out.append((x, kernel_size, stride))
    return out


@pytest.mark.part("pooling")
@pytest.mark.parametrize("name", POOL_NAMES)
def test_pooling_hidden(student, rng, name):
    check_pool(student, name, random_pool_cases(rng))
