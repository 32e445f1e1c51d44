"""Public tests for Aufgabe 39 (gradients in RNNs).

Expected values come from torch (autograd for the gradients,
torch.nn.utils.clip_grad_norm_ for clipping), computed here, outside your
code. When a wrong result matches a typical mistake, the message names it.
The helpers below are shared with the hidden tests, which use other inputs.
"""

from __future__ import annotations

from functools import partial
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

from grader.trusted.checks import (Cases, CheckFailed, Mistake, assert_close, describe, expect_array, fmt_num,
                           reveal)

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
        Mistake("Exponent k statt k - 1", grad_hk * k * u ** k * h, "Es gilt d(u^k)/du = k u^(k-1).",
                id="diag_exponent_k"),
        Mistake("der Faktor k fehlt", grad_hk * u ** (k - 1) * h, "Es gilt d(u^k)/du = k u^(k-1).",
                id="diag_factor_k_missing"),
        Mistake("der Gradient grad_hk von oben wurde ignoriert", k * u ** (k - 1) * h,
                "Kettenregel: dh_k/du elementweise mit grad_hk = df/dh_k multiplizieren.",
                id="diag_upstream_ignored"),
        Mistake("der Faktor h fehlt", grad_hk * k * u ** (k - 1), "Es gilt h_k = u^k * h elementweise.",
                id="diag_factor_h_missing"),
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
    power = np.linalg.matrix_power(U, k - 1)
    off_by_one = "h_k = U^k h braucht k Schritte, also k Summanden t = 1..k."
    accumulate = "U wird in jedem Schritt verwendet: addieren Sie delta_t h_{t-1}^T über t = 1..k (+=, nicht =)."
    scalar = ("Für Matrizen gilt die Regel d(U^k)/dU = k U^(k-1) nicht, weil Matrizen nicht kommutieren: "
              "Summieren Sie die Beiträge delta_t h_{t-1}^T aller Schritte t = 1..k (Backpropagation through time).")
    return [
        Mistake("U statt U^T in der Rückwärtsrekursion", _bptt(U, h, k, g, back=U),
                "Es gilt delta_{t-1} = U^T delta_t (die Transponierte der Vorwärtsmatrix).",
                id="full_u_not_transposed"),
        Mistake("Ergebnis transponiert", correct.T,
                "Schritt t trägt das äußere Produkt delta_t h_{t-1}^T bei (Zeilen: delta, Spalten: h).",
                id="full_transposed"),
        Mistake("um eins verschoben: k - 1 statt k Schritte", fewer, off_by_one, id="full_k_minus_1_steps"),
        Mistake("um eins verschoben: k + 1 statt k Schritte", torch_grad_full(U, h, k + 1, g), off_by_one,
                id="full_k_plus_1_steps"),
        Mistake("um eins verschoben: der Summand von Schritt t = 1 (delta_1 h_0^T) fehlt",
                _bptt(U, h, k, g, terms=range(2, k + 1)), "Summieren Sie die Beiträge aller Schritte t = 1..k.",
                id="full_first_term_missing"),
        Mistake("um eins verschoben: der Summand von Schritt t = k (delta_k h_{k-1}^T) fehlt",
                _bptt(U, h, k, g, terms=range(1, k)), "Summieren Sie die Beiträge aller Schritte t = 1..k.",
                id="full_last_term_missing"),
        Mistake("um eins verschoben: delta_t mit h_t statt mit h_{t-1} kombiniert", _bptt(U, h, k, g, pair_shift=1),
                "Schritt t berechnet h_t = U h_{t-1}, sein Beitrag ist also delta_t h_{t-1}^T.", id="full_pair_shift"),
        Mistake("keine Summe über t: nur der Summand von Schritt t = 1", _bptt(U, h, k, g, terms=[1]), accumulate,
                id="full_only_first_term"),
        Mistake("keine Summe über t: nur der Summand von Schritt t = k", _bptt(U, h, k, g, terms=[k]), accumulate,
                id="full_only_last_term"),
        Mistake("skalare Analogie k * U^(k-1) (elementweise mit grad_hk h^T multipliziert)",
                k * power * np.outer(g, h), scalar, id="full_scalar_analogy"),
        Mistake("skalare Analogie k * U^(k-1) (k-mal der Summand delta_1 h_0^T)",
                k * np.outer(power.T @ g, h), scalar, id="full_scalar_analogy_first_term"),
        Mistake("skalare Analogie k * U^(k-1) (k-mal der Summand delta_k h_{k-1}^T)",
                k * np.outer(g, power @ h), scalar, id="full_scalar_analogy_last_term"),
        Mistake("skalare Analogie k * U^(k-1) (als Matrixprodukt mit grad_hk h^T)",
                k * power @ np.outer(g, h), scalar, id="full_scalar_analogy_matmul"),
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


TOLERANCE = 1e-9


def regime_of(value: float, tolerance: float = TOLERANCE) -> str:
    return "exploding" if value > 1 + tolerance else "vanishing" if value < 1 - tolerance else "stable"


#: Wrong ways to decide the regime: (name, regime the mistake answers for U, hint, id).
REGIME_MISTAKES = (
    ("Matrixnorm (Spektral- bzw. 2-Norm) statt Spektralradius",
     lambda U: regime_of(float(np.linalg.norm(U, 2))),
     "Eine Norm > 1 heißt nicht, dass U^k wächst: Nicht-normale Matrizen können eine große Norm haben und "
     "trotzdem gilt U^k -> 0. Verwenden Sie max |Eigenwert|.", "regime_norm_2"),
    ("Frobenius-Norm statt Spektralradius",
     lambda U: regime_of(float(np.linalg.norm(U))),
     "Eine Norm > 1 heißt nicht, dass U^k wächst. Verwenden Sie max |Eigenwert|.", "regime_norm_frobenius"),
    ("eigvalsh/eigh, als wäre U symmetrisch",
     lambda U: regime_of(float(np.max(np.abs(np.linalg.eigvalsh(U))))),
     "np.linalg.eigvalsh liest nur das untere Dreieck von U und gilt nur für symmetrische Matrizen; U ist "
     "beliebig. Verwenden Sie np.linalg.eigvals.", "regime_eigvalsh"),
    ("größter Realteil (oder größter Eigenwert ohne Betrag) statt max |Eigenwert|",
     lambda U: regime_of(float(np.max(np.linalg.eigvals(U).real))),
     "Negative und komplexe Eigenwerte zählen mit ihrem Betrag |lambda|.", "regime_real_part"),
    ("größter |Diagonaleintrag| statt der Eigenwerte",
     lambda U: regime_of(float(np.max(np.abs(np.diag(U))))),
     "Nur bei diagonalen (oder dreieckigen) Matrizen sind die Eigenwerte die Diagonaleinträge.", "regime_diagonal"),
    ("Toleranz 1e-9 fehlt (Vergleich mit genau 1)",
     lambda U: regime_of(spectral_radius(U), tolerance=0.0),
     "Eigenwerte werden mit Rundungsfehlern berechnet: Ein Spektralradius von 1 kommt als 0.9999999999999999 "
     "oder 1.0000000000000002 heraus. Vergleichen Sie mit 1 + 1e-9 und 1 - 1e-9.", "regime_no_tolerance"),
)


@dataclass
class RegimeCases:
    """The answers of gradient_regime on several matrices, judged together like checks.Cases.

    A mistake of REGIME_MISTAKES is named only when it gives the student's
    answer for every matrix (a mistake that happens to agree with the correct
    answer on a matrix is consistent there as well).
    """

    total: int = 0
    failures: list[str] = field(default_factory=list)
    consistent: dict[str, bool] = field(default_factory=lambda: {m[3]: True for m in REGIME_MISTAKES})

    def check(self, got, U: np.ndarray, name: str) -> None:
        """One matrix: type, value in REGIMES, then correctness."""
        self.total += 1
        what = f"gradient_regime(U) für {name} U der Form {fmt_num(U.shape)}"
        choices = ", ".join(f'"{r}"' for r in REGIMES)
        if not isinstance(got, str):
            self.failures.append(f"{what} lieferte {describe(got)}, erwartet war einer der Strings {choices}.")
            self.consistent = dict.fromkeys(self.consistent, False)
            return
        if got not in REGIMES:
            self.failures.append(f'{what} lieferte "{got[:40]}", erwartet war einer der Strings {choices} '
                                 "(klein geschrieben, genau so).")
            self.consistent = dict.fromkeys(self.consistent, False)
            return
        want = regime_of(spectral_radius(U))
        for _name, answer, _hint, key in REGIME_MISTAKES:
            self.consistent[key] = self.consistent[key] and answer(U) == got
        if got != want:
            self.failures.append(f'{what} lieferte "{got}", erwartet war "{want}" '
                                 f"(Spektralradius {fmt_num(spectral_radius(U))})." if reveal() else
                                 f'{what} lieferte "{got}"; das ist falsch.')

    def verdict(self) -> None:
        """Raise CheckFailed if any matrix was answered wrongly; name a mistake only if it explains all."""
        if not self.failures:
            return
        mistake = next((Mistake(name, None, hint, id=key) for name, _answer, hint, key in REGIME_MISTAKES
                        if self.consistent[key]), None)
        lines = []
        if self.total > 1:
            lines.append(f"gradient_regime ist für {len(self.failures)} von {self.total} Matrizen falsch. "
                         "Erster falscher Fall:")
        lines.append(self.failures[0])
        if mistake is not None:
            lines.append(f"Ihre Antworten passen bei allen geprüften Matrizen zu einem bekannten Fehler: "
                         f"{mistake.name}. {mistake.hint}")
        raise CheckFailed("\n".join(lines), mistake=mistake, cause="values", failed=len(self.failures),
                          total=self.total)


def torch_clip(grads: list[np.ndarray], max_norm: float) -> list[np.ndarray]:
    """Expected result: torch.nn.utils.clip_grad_norm_ on copies as parameters' .grad."""
    params = []
    for g in grads:
        p = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(g, dtype=torch.float64)
        params.append(p)
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad.numpy().copy() for p in params]


def clip_mistakes(grads: list[np.ndarray], max_norm: float) -> list[Mistake]:
    flat = np.concatenate([g.ravel() for g in grads])
    total = float(np.linalg.norm(flat))
    per_array = [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in grads]
    no_eps = [g * min(1.0, max_norm / total) for g in grads]
    no_sqrt_total = float(flat @ flat)
    found = [
        ("jedes Array einzeln abgeschnitten statt einer gemeinsamen Norm über alle Arrays", per_array,
         "total_norm ist die L2-Norm aller Einträge aller Arrays zusammen; jedes Array bekommt denselben coef.",
         "clip_per_array"),
        ("skaliert, obwohl die Norm schon unter max_norm liegt (coef > 1 angewandt)",
         [g * (max_norm / (total + 1e-6)) for g in grads], "Wenden Sie coef nur an, wenn coef < 1 ist.",
         "clip_always"),
        ("1e-6 fehlt in coef = max_norm / (total_norm + 1e-6)", no_eps,
         "torch addiert 1e-6 zur Norm, bevor es teilt.", "clip_no_eps"),
        ("quadrierte Norm verwendet (Wurzel fehlt)",
         [g * min(1.0, max_norm / (no_sqrt_total + 1e-6)) for g in grads],
         "total_norm = Wurzel aus der Summe der Quadrate aller Einträge.", "clip_squared_norm"),
    ]
    return [Mistake(name, np.concatenate([v.ravel() for v in value]), hint, id=key) for name, value, hint, key in found]


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


def check_clip(student, grads: list[np.ndarray], max_norm: float, cases: Cases, label: str,
               atol: float = 1e-8) -> None:
    """Run clip_grad_norm through clip_driver and compare with torch; inputs must stay unchanged.

    Structural failures (wrong type or length, inputs modified, inputs returned)
    raise at once; the values are one case of ``cases``.
    """
    shapes = ", ".join(fmt_num(g.shape) for g in grads)
    what = (f"clip_grad_norm(grads, max_norm={fmt_num(max_norm)})" if reveal() else "clip_grad_norm(grads, max_norm)")
    what += f" für Arrays der Formen {shapes}"
    result, after, aliased = student.run(clip_driver, grads, max_norm)
    if not isinstance(result, (list, tuple)) or len(result) != len(grads):
        count = f" der Länge {len(result)}" if isinstance(result, (list, tuple)) else ""
        raise CheckFailed(f"{what} lieferte {describe(result)}{count}, erwartet war eine Liste von {len(grads)} "
                          "Arrays.", cause="type")
    changed = [i for i, (g, a) in enumerate(zip(grads, after)) if not np.array_equal(g, a)]
    if changed:
        raise CheckFailed(f"{what} hat seine Eingabe-Arrays verändert (grads[{changed[0]}] wurde überschrieben). "
                          "Lassen Sie die Eingaben unverändert und geben Sie neue Arrays zurück (g * coef, nicht "
                          "g *= coef).", cause="in_place")
    if any(aliased):
        raise CheckFailed(f"{what} gab ein Eingabe-Array selbst (oder eine Sicht darauf) als Eintrag "
                          f"{aliased.index(True)} zurück. Geben Sie neue Arrays zurück, z. B. g.copy(), wenn nichts "
                          "abgeschnitten wird.", cause="aliased")
    want = torch_clip(grads, max_norm)
    got = [expect_array(r, shape=w.shape, what=f"Eintrag {i} des Ergebnisses von {what}") for i, (r, w) in
           enumerate(zip(result, want))]
    cases.close(np.concatenate([g.ravel() for g in got]), np.concatenate([w.ravel() for w in want]),
                atol=atol, mistakes=partial(clip_mistakes, grads, max_norm), label=f"{label}: {what}")


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
                 mistakes=partial(grad_diag_mistakes, u, h, k, grad_hk))


@pytest.mark.part("grad_diag")
def test_grad_diag_zero_entry(student, rng):
    """An entry u_i = 0: formulas that divide by u (k h_k / u) fail here."""
    n, k = 5, 4
    u = rng.uniform(-1.2, 1.2, n)
    u[2] = 0.0
    h, grad_hk = rng.standard_normal(n), rng.standard_normal(n)
    want = torch_grad_diag(u, h, k, grad_hk)
    what = f"grad_diag(u, h, k={k}, grad_hk) mit u[2] = 0"
    got = expect_array(student.ex39_rnn_gradients.grad_diag(u, h, k, grad_hk), shape=(n,), what=what,
                       allow_nonfinite=True)
    if not np.all(np.isfinite(got)):
        raise CheckFailed(f"{what} enthält NaN oder inf bei Index {int(np.flatnonzero(~np.isfinite(got))[0])}: "
                          "Teilen Sie nicht durch u, sondern verwenden Sie u ** (k - 1).", cause="nonfinite")
    assert_close(got, want, what=what, mistakes=partial(grad_diag_mistakes, u, h, k, grad_hk))


GRAD_FULL_CASES = [(3, 1, 0.9), (4, 3, 1.1), (5, 8, 0.8), (7, 20, 1.02), (16, 50, 0.97)]


def check_grad_full_case(student, cases: Cases, U: np.ndarray, h: np.ndarray, k: int, grad_hk: np.ndarray,
                         label: str) -> None:
    """One case of grad_full, judged with the others in ``cases``; a wrong shape or type counts as a failed case."""
    want = torch_grad_full(U, h, k, grad_hk)
    n = U.shape[0]
    inputs = {"U": U, "h": h, "grad_hk": grad_hk}
    what = f"grad_full(U, h, k={k}, grad_hk)" if reveal() else "grad_full(U, h, k, grad_hk)"
    try:
        got = expect_array(student.ex39_rnn_gradients.grad_full(U, h, k, grad_hk), shape=(n, n), what=what,
                           inputs=inputs)
    except CheckFailed as exc:
        cases.fail(str(exc), label=label)
        return
    cases.close(got, want, inputs=inputs, rtol=GRAD_FULL_RTOL, mistakes=partial(grad_full_mistakes, U, h, k, grad_hk),
                label=label)


# All cases in one test, judged together: a mistake that only shows on some
# cases (U instead of U^T is invisible at k = 1) must still cost the whole
# part, and a known mistake is named only when it explains every case.
@pytest.mark.part("grad_full")
def test_grad_full(student, rng):
    with Cases("grad_full") as cases:
        for i, (n, k, radius) in enumerate(GRAD_FULL_CASES, start=1):
            U = random_matrix(rng, n, radius)
            h, grad_hk = rng.standard_normal(n), rng.standard_normal(n)
            check_grad_full_case(student, cases, U, h, k, grad_hk, label=f"Fall {i}, n = {n}, k = {k}")


def _rotation(angle: float) -> np.ndarray:
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


#: (name, U): the spec's examples and matrices where wrong criteria give wrong answers.
REGIME_CASES = [
    ("U_1 = diag(1.2, 2, 1.1)", np.diag([1.2, 2.0, 1.1])),
    ("U_2 = diag(0.8, 0.1, 0.9)", np.diag([0.8, 0.1, 0.9])),
    ("die Einheitsmatrix", np.eye(4)),
    ("eine Drehung (Eigenwerte auf dem Einheitskreis)", _rotation(0.7)),
    ("eine nicht-normale Matrix (Norm 4.06 > 1, Eigenwerte 0.5, 0.5)", np.array([[0.5, 4.0], [0.0, 0.5]])),
    ("eine nicht-normale 3x3-Matrix (Norm > 1, Spektralradius 0.9)",
     np.array([[0.9, 1.5, 0.0], [0.0, 0.6, 2.0], [0.0, 0.0, -0.3]]).T),
    ("eine skalierte Drehung (|Eigenwerte| 1.05, Realteile 0.8)", 1.05 * _rotation(0.7)),
    ("diag(-1.5, 0.5) (negativer Eigenwert)", np.diag([-1.5, 0.5])),
    ("eine Permutation (Eigenwerte auf dem Einheitskreis)", np.eye(5)[[1, 2, 3, 4, 0]]),
    ("diag(1.001, 0.3)", np.diag([1.001, 0.3])),
]


@pytest.mark.part("gradient_regime")
def test_gradient_regime(student):
    cases = RegimeCases()
    for name, U in REGIME_CASES:
        cases.check(student.ex39_rnn_gradients.gradient_regime(U), U, name)
    cases.verdict()


#: (shapes, max_norm as a multiple of the total norm, equal norms per array).
CLIP_CASES = [
    ([(3, 4), (5,), (2, 3, 2)], 0.3, False),   # global clipping
    ([(3, 4), (5,), (2, 3, 2)], 2.0, False),   # below max_norm: unchanged
    ([(6,), (2, 3), (3, 2)], 0.7, True),       # every array below max_norm, the total above
    ([(4, 2)], 0.5, False),                    # a single array
]

#: The value check's name in messages: all entries of all returned arrays, in order.
CLIP_WHAT = "clip_grad_norm (alle Einträge hintereinander)"


@pytest.mark.part("clip_grad_norm")
def test_clip_grad_norm(student, rng):
    with Cases(CLIP_WHAT) as cases:
        for i, (shapes, factor, equal) in enumerate(CLIP_CASES, start=1):
            grads = [rng.standard_normal(s) for s in shapes]
            if equal:
                grads = [g / np.linalg.norm(g) for g in grads]
            total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
            check_clip(student, grads, round(factor * total, 3), cases, label=f"Fall {i}")
        # Tiny gradients: the 1e-6 in coef = max_norm / (total_norm + 1e-6) matters.
        grads = [rng.standard_normal((3, 3)) * 1e-4, rng.standard_normal(4) * 1e-4]
        check_clip(student, grads, 1e-4, cases, label=f"Fall {len(CLIP_CASES) + 1}", atol=1e-14)
