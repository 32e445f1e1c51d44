"""Public tests for Aufgabe 39 (gradients in RNNs).

Expected values come from torch (autograd for the gradients,
torch.nn.utils.clip_grad_norm_ for clipping), computed here, outside your
code. When a wrong result matches a typical mistake, the message names it.
The helpers below are shared with the hidden tests, which use other inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grader.checks import Mistake, assert_close, describe, expect_array, reveal

REGIMES = ("exploding", "vanishing", "stable")
GRAD_FULL_RTOL = 1e-7


# --- oracles and known mistakes (trusted side) ----------------------------------------------

def torch_grad_diag(u: np.ndarray, h: np.ndarray, k: int, grad_hk: np.ndarray) -> np.ndarray:
    """df/du by autograd, for h_k = diag(u)^k h and f = <grad_hk, h_k>."""
    ut = torch.tensor(u, dtype=torch.float64, requires_grad=True)
    state = torch.tensor(h, dtype=torch.float64)
    for _ in range(k):
        state = ut * state
    (state * torch.tensor(grad_hk, dtype=torch.float64)).sum().backward()
    return ut.grad.numpy()


def grad_diag_mistakes(u, h, k, grad_hk) -> list[Mistake]:
    return [
        Mistake("exponent k instead of k - 1", grad_hk * k * u ** k * h,
                "d(u^k)/du = k u^(k-1)."),
        Mistake("factor k missing", grad_hk * u ** (k - 1) * h, "d(u^k)/du = k u^(k-1)."),
        Mistake("upstream gradient grad_hk ignored", k * u ** (k - 1) * h,
                "Chain rule: multiply dh_k/du elementwise by grad_hk = df/dh_k."),
        Mistake("factor h missing", grad_hk * k * u ** (k - 1), "h_k = u^k * h elementwise."),
    ]


def torch_grad_full(U: np.ndarray, h: np.ndarray, k: int, grad_hk: np.ndarray) -> np.ndarray:
    """df/dU by autograd, for h_t = U h_{t-1}, h_0 = h and f = <grad_hk, h_k>."""
    Ut = torch.tensor(U, dtype=torch.float64, requires_grad=True)
    state = torch.tensor(h, dtype=torch.float64)
    for _ in range(k):
        state = Ut @ state
    (state * torch.tensor(grad_hk, dtype=torch.float64)).sum().backward()
    return Ut.grad.numpy()


def _bptt(U, h, k, g, *, back=None, terms=None, pair_shift=0):
    """BPTT with a switchable mistake; terms selects which steps t (1..k) are summed."""
    back = U.T if back is None else back
    states = [h]
    for _ in range(k + 1):
        states.append(U @ states[-1])
    deltas = {k: g}
    for t in range(k, 0, -1):
        deltas[t - 1] = back @ deltas[t]
    steps = range(1, k + 1) if terms is None else terms
    out = np.zeros_like(U)
    for t in steps:
        out += np.outer(deltas[t], states[t - 1 + pair_shift])
    return out


def grad_full_mistakes(U, h, k, g) -> list[Mistake]:
    correct = _bptt(U, h, k, g)
    fewer = torch_grad_full(U, h, k - 1, g) if k > 1 else np.zeros_like(U)
    return [
        Mistake("U instead of U^T in the backward recursion", _bptt(U, h, k, g, back=U),
                "delta_{t-1} = U^T delta_t (the transpose of the forward matrix)."),
        Mistake("result transposed", correct.T,
                "Step t contributes the outer product delta_t h_{t-1}^T (rows: delta, columns: h)."),
        Mistake("off by one: k - 1 steps instead of k", fewer,
                "h_k = U^k h takes k steps, so k terms t = 1..k."),
        Mistake("off by one: k + 1 steps instead of k", torch_grad_full(U, h, k + 1, g),
                "h_k = U^k h takes k steps, so k terms t = 1..k."),
        Mistake("off by one: the term of step t = 1 (delta_1 h_0^T) is missing",
                _bptt(U, h, k, g, terms=range(2, k + 1)), "Sum the terms of all steps t = 1..k."),
        Mistake("off by one: the term of step t = k (delta_k h_{k-1}^T) is missing",
                _bptt(U, h, k, g, terms=range(1, k)), "Sum the terms of all steps t = 1..k."),
        Mistake("off by one: delta_t paired with h_t instead of h_{t-1}", _bptt(U, h, k, g, pair_shift=1),
                "Step t computes h_t = U h_{t-1}, so its term is delta_t h_{t-1}^T."),
        Mistake("no accumulation over t: only the term of step t = 1", _bptt(U, h, k, g, terms=[1]),
                "U is used in every step: add up delta_t h_{t-1}^T over t = 1..k (+=, not =)."),
        Mistake("no accumulation over t: only the term of step t = k", _bptt(U, h, k, g, terms=[k]),
                "U is used in every step: add up delta_t h_{t-1}^T over t = 1..k (+=, not =)."),
    ]


def random_matrix(rng: np.random.Generator, n: int, radius: float) -> np.ndarray:
    """A non-symmetric (n, n) matrix with spectral radius `radius`."""
    while True:
        U = rng.standard_normal((n, n))
        if n == 1 or not np.allclose(U, U.T):
            break
    return U * (radius / np.max(np.abs(np.linalg.eigvals(U))))


def spectral_radius(U: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(U))))


def regime_of(value: float) -> str:
    return "exploding" if value > 1 + 1e-9 else "vanishing" if value < 1 - 1e-9 else "stable"


#: Wrong ways to decide the regime: (name, quantity compared with 1, hint).
REGIME_MISTAKES = (
    ("used a matrix norm (spectral/2-norm) instead of the spectral radius",
     lambda U: float(np.linalg.norm(U, 2)),
     "A norm > 1 does not make U^k grow: non-normal matrices can have a large norm and still U^k -> 0. "
     "Use max |eigenvalue|."),
    ("used the Frobenius norm instead of the spectral radius",
     lambda U: float(np.linalg.norm(U)),
     "A norm > 1 does not make U^k grow. Use max |eigenvalue|."),
    ("used the largest real part (or the largest eigenvalue without abs) instead of max |eigenvalue|",
     lambda U: float(np.max(np.linalg.eigvals(U).real)),
     "Negative and complex eigenvalues count with their absolute value |lambda|."),
    ("used the largest |diagonal entry| instead of the eigenvalues",
     lambda U: float(np.max(np.abs(np.diag(U)))),
     "Only for diagonal (or triangular) U are the eigenvalues the diagonal entries."),
)


def check_regime(got, U: np.ndarray, name: str) -> None:
    """Type, value in REGIMES, then correctness; a wrong answer is matched to REGIME_MISTAKES."""
    what = f"gradient_regime(U) for {name} U of shape {U.shape}"
    if not isinstance(got, str):
        raise AssertionError(f"{what} returned {describe(got)}, expected one of the strings "
                             f"{', '.join(repr(r) for r in REGIMES)}.")
    if got not in REGIMES:
        raise AssertionError(f"{what} returned {got!r}, expected one of {', '.join(repr(r) for r in REGIMES)} "
                             "(lower case, exactly as written).")
    want = regime_of(spectral_radius(U))
    if got == want:
        return
    msg = f"{what} returned {got!r}"
    msg += f", expected {want!r} (spectral radius {spectral_radius(U):.6g})." if reveal() else ", which is wrong."
    for mistake, quantity, hint in REGIME_MISTAKES:
        if regime_of(quantity(U)) == got:
            msg += f"\nYour answer matches a known mistake: {mistake}. {hint}"
            break
    raise AssertionError(msg)


def torch_clip(grads: list[np.ndarray], max_norm: float) -> list[np.ndarray]:
    """Expected result: torch.nn.utils.clip_grad_norm_ on copies as parameters' .grad."""
    params = []
    for g in grads:
        p = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(g, dtype=torch.float64)
        params.append(p)
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad.numpy().copy() for p in params]


def clip_mistakes(grads: list[np.ndarray], max_norm: float) -> list[tuple[str, list[np.ndarray], str]]:
    flat = np.concatenate([g.ravel() for g in grads])
    total = float(np.linalg.norm(flat))
    per_array = [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in grads]
    no_eps = [g * min(1.0, max_norm / total) for g in grads]
    no_sqrt_total = float(flat @ flat)
    return [
        ("each array clipped on its own instead of one global norm over all arrays", per_array,
         "total_norm is the L2 norm of all entries of all arrays together; every array gets the same coef."),
        ("scaled even though the norm is already below max_norm (coef > 1 applied)",
         [g * (max_norm / (total + 1e-6)) for g in grads], "Apply coef only when coef < 1."),
        ("1e-6 missing in coef = max_norm / (total_norm + 1e-6)", no_eps,
         "torch adds 1e-6 to the norm before dividing."),
        ("squared norm used (sqrt missing)",
         [g * min(1.0, max_norm / (no_sqrt_total + 1e-6)) for g in grads],
         "total_norm = sqrt(sum of squares of all entries)."),
    ]


def clip_driver(grads, max_norm):
    """Runs in the sandbox: call clip_grad_norm on writable copies and report what it did to them."""
    import numpy as np

    import ex39_rnn_gradients

    inputs = [np.array(g, copy=True) for g in grads]
    result = ex39_rnn_gradients.clip_grad_norm(inputs, max_norm)
    aliased = []
    if isinstance(result, (list, tuple)):
        for r in result:
            aliased.append(isinstance(r, np.ndarray) and any(np.shares_memory(r, g) for g in inputs))
    return result, inputs, aliased


def check_clip(student, grads: list[np.ndarray], max_norm: float, atol: float = 1e-8) -> None:
    """Run clip_grad_norm through clip_driver and compare with torch; inputs must stay unchanged."""
    shapes = ", ".join(str(g.shape) for g in grads)
    what = f"clip_grad_norm(grads, max_norm={max_norm:g})" if reveal() else "clip_grad_norm(grads, max_norm)"
    what += f" for arrays of shapes {shapes}"
    result, after, aliased = student.run(clip_driver, grads, max_norm)
    if not isinstance(result, (list, tuple)) or len(result) != len(grads):
        count = f" of length {len(result)}" if isinstance(result, (list, tuple)) else ""
        raise AssertionError(f"{what} returned {describe(result)}{count}, expected a list of {len(grads)} arrays.")
    changed = [i for i, (g, a) in enumerate(zip(grads, after)) if not np.array_equal(g, a)]
    if changed:
        raise AssertionError(f"{what} modified its input arrays in place (grads[{changed[0]}] changed). "
                             "Leave the inputs unchanged and return new arrays (g * coef, not g *= coef).")
    if any(aliased):
        raise AssertionError(f"{what} returned an input array itself (or a view of it) as entry "
                             f"{aliased.index(True)}. Return new arrays, e.g. g.copy() when nothing is clipped.")
    want = torch_clip(grads, max_norm)
    got = [expect_array(r, shape=w.shape, what=f"entry {i} of the result of {what}") for i, (r, w) in
           enumerate(zip(result, want))]
    got_flat = np.concatenate([g.ravel() for g in got])
    want_flat = np.concatenate([w.ravel() for w in want])
    mistakes = [Mistake(name, np.concatenate([m.ravel() for m in value]), hint)
                for name, value, hint in clip_mistakes(grads, max_norm)]
    assert_close(got_flat, want_flat, what=f"{what} (all entries, flattened in order)", atol=atol,
                 mistakes=mistakes)


# --- tests -----------------------------------------------------------------------------------

@pytest.mark.part("grad_diag")
@pytest.mark.parametrize("n, k", [(5, 1), (6, 3), (7, 10), (4, 25)])
def test_grad_diag(student, rng, n, k):
    u = rng.uniform(-1.3, 1.3, n)
    h = rng.standard_normal(n)
    grad_hk = rng.standard_normal(n)
    want = torch_grad_diag(u, h, k, grad_hk)
    got = student.ex39_rnn_gradients.grad_diag(u, h, k, grad_hk)
    what = f"grad_diag(u, h, k={k}, grad_hk)"
    got = expect_array(got, shape=(n,), what=what, inputs={"u": u, "h": h, "grad_hk": grad_hk})
    assert_close(got, want, what=what, inputs={"u": u, "h": h, "grad_hk": grad_hk},
                 mistakes=grad_diag_mistakes(u, h, k, grad_hk))


@pytest.mark.part("grad_diag")
def test_grad_diag_zero_entry(student, rng):
    """An entry u_i = 0: formulas that divide by u (k h_k / u) fail here."""
    n, k = 5, 4
    u = rng.uniform(-1.2, 1.2, n)
    u[2] = 0.0
    h, grad_hk = rng.standard_normal(n), rng.standard_normal(n)
    want = torch_grad_diag(u, h, k, grad_hk)
    what = f"grad_diag(u, h, k={k}, grad_hk) with u[2] = 0"
    got = expect_array(student.ex39_rnn_gradients.grad_diag(u, h, k, grad_hk), shape=(n,), what=what,
                       allow_nonfinite=True)
    assert np.all(np.isfinite(got)), (f"{what} contains NaN or inf at index "
                                      f"{int(np.flatnonzero(~np.isfinite(got))[0])}: do not divide by u; "
                                      "use u ** (k - 1).")
    assert_close(got, want, what=what, mistakes=grad_diag_mistakes(u, h, k, grad_hk))


GRAD_FULL_CASES = [(3, 1, 0.9), (4, 3, 1.1), (5, 8, 0.8), (7, 20, 1.02), (16, 50, 0.97)]


# One test per part checks every case (the first wrong one is reported): a
# mistake that only shows on some cases (U instead of U^T is invisible at
# k = 1) must still cost the whole part, not earn points on the easy cases.
@pytest.mark.part("grad_full")
def test_grad_full(student, rng):
    for n, k, radius in GRAD_FULL_CASES:
        check_grad_full_case(student, rng, n, k, radius)


def check_grad_full_case(student, rng, n: int, k: int, radius: float) -> None:
    U = random_matrix(rng, n, radius)
    h, grad_hk = rng.standard_normal(n), rng.standard_normal(n)
    want = torch_grad_full(U, h, k, grad_hk)
    what = f"grad_full(U, h, k={k}, grad_hk)"
    inputs = {"U": U, "h": h, "grad_hk": grad_hk}
    got = expect_array(student.ex39_rnn_gradients.grad_full(U, h, k, grad_hk), shape=(n, n), what=what,
                       inputs=inputs)
    assert_close(got, want, what=what, inputs=inputs, rtol=GRAD_FULL_RTOL,
                 mistakes=grad_full_mistakes(U, h, k, grad_hk))


def _rotation(angle: float) -> np.ndarray:
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


#: (name, U): the spec's examples and matrices where wrong criteria give wrong answers.
REGIME_CASES = [
    ("U_1 = diag(1.2, 2, 1.1)", np.diag([1.2, 2.0, 1.1])),
    ("U_2 = diag(0.8, 0.1, 0.9)", np.diag([0.8, 0.1, 0.9])),
    ("the identity", np.eye(4)),
    ("a rotation (eigenvalues on the unit circle)", _rotation(0.7)),
    ("a non-normal (norm 4.06 > 1, eigenvalues 0.5, 0.5)", np.array([[0.5, 4.0], [0.0, 0.5]])),
    ("a non-normal 3x3 (norm > 1, spectral radius 0.9)",
     np.array([[0.9, 1.5, 0.0], [0.0, 0.6, 2.0], [0.0, 0.0, -0.3]]).T),
    ("a scaled rotation (|eigenvalues| 1.05, real parts 0.8)", 1.05 * _rotation(0.7)),
    ("diag(-1.5, 0.5) (negative eigenvalue)", np.diag([-1.5, 0.5])),
    ("a permutation (eigenvalues on the unit circle)", np.eye(5)[[1, 2, 3, 4, 0]]),
    ("diag(1.001, 0.3)", np.diag([1.001, 0.3])),
]


@pytest.mark.part("gradient_regime")
def test_gradient_regime(student):
    for name, U in REGIME_CASES:
        check_regime(student.ex39_rnn_gradients.gradient_regime(U), U, name)


#: (shapes, max_norm as a multiple of the total norm, equal norms per array).
CLIP_CASES = [
    ([(3, 4), (5,), (2, 3, 2)], 0.3, False),   # global clipping
    ([(3, 4), (5,), (2, 3, 2)], 2.0, False),   # below max_norm: unchanged
    ([(6,), (2, 3), (3, 2)], 0.7, True),       # every array below max_norm, the total above
    ([(4, 2)], 0.5, False),                    # a single array
]


@pytest.mark.part("clip_grad_norm")
def test_clip_grad_norm(student, rng):
    for shapes, factor, equal in CLIP_CASES:
        grads = [rng.standard_normal(s) for s in shapes]
        if equal:
            grads = [g / np.linalg.norm(g) for g in grads]
        total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
        check_clip(student, grads, round(factor * total, 3))
    # Tiny gradients: the 1e-6 in coef = max_norm / (total_norm + 1e-6) matters.
    grads = [rng.standard_normal((3, 3)) * 1e-4, rng.standard_normal(4) * 1e-4]
    check_clip(student, grads, 1e-4, atol=1e-14)
