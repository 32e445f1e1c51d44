"""Hidden tests for Aufgabe 39: the public checks on other, random inputs.

Inputs come from the `rng` fixture (seeded with the course's secret seed),
so hard-coding the public answers does not pay. The oracles and known
mistakes are the public test module's; messages hide input and expected
values (grader.trusted.checks does that for hidden tests).
"""

from functools import partial
import numpy as np
import pytest

from grader.trusted.checks import Cases, assert_close, expect_array
from exercises.tests.test_ex39 import (CLIP_WHAT, RegimeCases, check_clip, check_grad_full_case, grad_diag_mistakes,
                                       random_matrix, torch_grad_diag)


@pytest.mark.part("grad_diag")
@pytest.mark.parametrize("case", range(4))
def test_grad_diag_hidden(student, rng, case):
    n, k = int(rng.integers(3, 17)), int(rng.integers(2, 31))
    # |u| in [0.6, 0.95] or [1.02, 1.1]: gradients neither tiny nor huge, and u != 1
    u = rng.choice([-1.0, 1.0], n) * np.where(rng.random(n) < 0.6, rng.uniform(0.6, 0.95, n),
                                               rng.uniform(1.02, 1.1, n))
    h, grad_hk = rng.standard_normal(n), rng.standard_normal(n)
    want = torch_grad_diag(u, h, k, grad_hk)
    what = "grad_diag(u, h, k, grad_hk)"
    got = expect_array(student.ex39_rnn_gradients.grad_diag(u, h, k, grad_hk), shape=(n,), what=what,
                       inputs={"u": u, "h": h, "grad_hk": grad_hk})
    assert_close(got, want, what=what, inputs={"u": u, "h": h, "grad_hk": grad_hk},
                 mistakes=partial(grad_diag_mistakes, u, h, k, grad_hk))


@pytest.mark.part("grad_full")
def test_grad_full_hidden(student, rng):
    with Cases("grad_full") as cases:  # all cases judged together (see test_ex39.py)
        for case in range(6):
            n = 16 if case == 0 else int(rng.integers(2, 17))
            k = 50 if case == 0 else int(rng.integers(2, 51))
            U = random_matrix(rng, n, float(rng.uniform(0.85, 1.05)))
            h, grad_hk = rng.standard_normal(n), rng.standard_normal(n)
            check_grad_full_case(student, cases, U, h, k, grad_hk, label=f"Fall {case + 1}, n = {n}")


def _nonnormal(rng: np.random.Generator, n: int) -> np.ndarray:
    """Upper triangular with eigenvalues in (-0.95, 0.95) and a large off-diagonal part (norm > 1)."""
    U = np.triu(rng.uniform(1.0, 3.0, (n, n)), 1) + np.diag(rng.uniform(-0.95, 0.95, n))
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return Q @ U @ Q.T


def _orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return Q


def _scaled_rotation(rng: np.random.Generator, radius: float) -> np.ndarray:
    a = rng.uniform(0.5, 1.2)
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    S = rng.standard_normal((2, 2)) + 2 * np.eye(2)
    return radius * S @ R @ np.linalg.inv(S)


REGIME_KINDS = [
    ("eine nicht-normale Matrix", lambda rng: _nonnormal(rng, int(rng.integers(3, 9)))),
    ("eine orthogonale Matrix", lambda rng: _orthogonal(rng, int(rng.integers(2, 9)))),
    ("eine zufällige nicht-symmetrische Matrix",
     lambda rng: random_matrix(rng, int(rng.integers(2, 17)), rng.uniform(1.05, 1.5))),
    ("eine skalierte orthogonale Matrix",
     lambda rng: rng.uniform(0.3, 0.95) * _orthogonal(rng, int(rng.integers(2, 9)))),
    ("eine skalierte Drehung", lambda rng: _scaled_rotation(rng, rng.uniform(1.02, 1.1))),
    ("eine Diagonalmatrix mit negativem Eintrag", lambda rng: np.diag([-rng.uniform(1.1, 2.0), rng.uniform(0.1, 0.9),
                                                                       rng.uniform(0.1, 0.9)])),
]


@pytest.mark.part("gradient_regime")
def test_gradient_regime_hidden(student, rng):
    cases = RegimeCases()
    for name, make in REGIME_KINDS:
        U = make(rng)
        cases.check(student.ex39_rnn_gradients.gradient_regime(U), U, name)
    cases.verdict()


@pytest.mark.part("clip_grad_norm")
def test_clip_grad_norm_hidden(student, rng):
    with Cases(CLIP_WHAT) as cases:
        for i, factor in enumerate((0.2, 0.8, 1.5), start=1):
            count = int(rng.integers(2, 5))
            grads = [rng.standard_normal(tuple(int(d) for d in rng.integers(1, 6, int(rng.integers(1, 4)))))
                     for _ in range(count)]
            total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
            check_clip(student, grads, factor * total, cases, label=f"Fall {i}")
