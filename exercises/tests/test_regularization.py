"""Public tests for regularization (dropout, L2 penalty, early stopping).

dropout_mask is checked statistically (Chernoff bounds, support/chernoff.py):
the grader calls it many times with one Generator and compares how often
each entry is kept, and how often two neighbouring entries are kept
together, with a correct mask. A correct solution fails with probability
below 1e-6; the number of calls is chosen so that the known mistakes (True
with probability p instead of 1 - p, all entries kept, one random number for
the whole mask) fail with probability above 1 - 1e-6.
The other functions are compared with closed forms computed here, outside
your code. A known mistake is named only when it explains every case. The
helpers are shared with the hidden tests, which use other inputs.

Run with:  grade regularization
"""

from __future__ import annotations

from functools import partial
import numpy as np
import pytest

from grader.trusted.checks import Cases, CheckFailed, Mistake, describe, expect_array, expect_float, fmt_num, raises, reveal
from exercises.tests.support.chernoff import FAILURE_PROBABILITY, accepted_range, frequencies_fit, trials_to_separate
from exercises.tests.support.student_text import safe_dtype, safe_type


def read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array)
    array.flags.writeable = False
    return array


# --- dropout_mask ------------------------------------------------------------------------------------

#: Neighbouring pairs of flat positions whose joint keep frequency is checked (independence).
PAIRS = 4


def mask_events(masks: np.ndarray) -> np.ndarray:
    """Per trial: each entry kept, and entries (2j, 2j + 1) both kept, for j < PAIRS (as far as there are
    entries). Shape (n, events)."""
    flat = masks.reshape(len(masks), -1)
    pairs = min(PAIRS, flat.shape[1] // 2)
    both = flat[:, 0:2 * pairs:2] & flat[:, 1:2 * pairs:2]
    return np.concatenate([flat, both], axis=1)


def mask_distributions(size: int, p: float) -> dict[str, tuple[np.ndarray, Mistake | None]]:
    """Event probabilities of a correct mask and of known mistakes (with the mistake to name)."""
    keep = 1 - p
    pairs = min(PAIRS, size // 2)

    def events(single: float, joint: float) -> np.ndarray:
        return np.concatenate([np.full(size, single), np.full(pairs, joint)])

    out = {
        "correct": (events(keep, keep * keep), None),
        "swapped": (events(p, p * p), Mistake(
            "Behalte- und Drop-Wahrscheinlichkeit vertauscht (True mit Wahrscheinlichkeit p)", None,
            "p ist die Wahrscheinlichkeit, ein Element zu VERWERFEN: True (behalten) mit Wahrscheinlichkeit 1 − p, "
            "z. B. rng.random(shape) >= p.", id="keep_vs_drop")),
        "all_kept": (events(1.0, 1.0), Mistake("alle Einträge behalten (p ignoriert)", None,
                                               "Jeder Eintrag wird mit Wahrscheinlichkeit p verworfen.",
                                               id="mask_all_kept")),
        "shared": (events(keep, keep), Mistake(
            "eine Zufallszahl für die ganze Maske (Einträge nicht unabhängig)", None,
            "Ziehen Sie für jeden Eintrag eine eigene Zufallszahl: rng.random(shape), nicht rng.random().",
            id="mask_one_draw")),
    }
    if not pairs:            # a single entry: nothing to be independent of
        del out["shared"]
    return out


def mask_driver(shape, runs, seed):
    """Runs in the sandbox: for each (p, n) in runs, n masks from one Generator, stacked; or
    ("bad", i, description) for the first bad return of that run."""
    import numpy as np

    import regularization

    rng = np.random.default_rng(seed)
    results = []
    for p, n in runs:
        out = np.empty((n, *shape), dtype=bool)
        for i in range(n):
            m = regularization.dropout_mask(shape, p, rng)
            if not isinstance(m, np.ndarray):
                out = ("bad", i, "type", type(m).__name__)
            elif m.dtype != np.bool_:
                out = ("bad", i, "dtype", str(m.dtype))
            elif m.shape != tuple(shape):
                out = ("bad", i, "shape", tuple(m.shape))
            else:
                out[i] = m
                continue
            break
        results.append(out)
    return results


def _masks(got, call: str, shape: tuple[int, ...], n: int) -> np.ndarray:
    """The stacked masks of one run, or CheckFailed for a bad return."""
    if isinstance(got, tuple):
        _, i, what, value = got
        desc = {"type": lambda: f"einen Wert vom Typ {safe_type(value)}",
                "dtype": lambda: f"ein Array mit dtype {safe_dtype(value)}",
                "shape": lambda: f"ein Array der Form {fmt_num(tuple(value))}"}[what]()
        raise CheckFailed(f"{call} lieferte beim {i + 1}. Aufruf {desc}, erwartet war ein bool-Array der Form "
                          f"{fmt_num(shape)} (True = behalten), z. B. rng.random(shape) >= p.", cause="type")
    return expect_array(got, shape=(n, *shape), what=call, dtypes=("bool",))


#: Calls with p = 0 after the statistical run: every entry must be kept.
ZERO_CALLS = 3


def check_dropout_mask(student, shape: tuple[int, ...], p: float, seed: int) -> None:
    """Type, dtype and shape of every mask and the event frequencies over as many calls as it takes; then
    p = 0 keeps everything. One call into the sandbox."""
    size = int(np.prod(shape))
    dists = mask_distributions(size, p)
    want = dists.pop("correct")[0]
    n = trials_to_separate(want, [d for d, _ in dists.values()])
    call = (f"dropout_mask(shape={fmt_num(shape)}, p={fmt_num(p)}, rng)" if reveal() else
            f"dropout_mask(shape, p, rng) mit shape {fmt_num(shape)}")
    got, zero = student.run(mask_driver, shape, [(p, n), (0.0, ZERO_CALLS)], seed)
    got = _masks(got, call, shape, n)
    freq = mask_events(got).mean(axis=0)
    fits = frequencies_fit(freq, want, n)
    if np.all(fits):
        check_p_zero(_masks(zero, f"dropout_mask(shape, p=0, rng) mit shape {fmt_num(shape)}", shape, ZERO_CALLS))
        return
    msg = f"{call}: Die Häufigkeiten über {n if reveal() else 'viele'} Aufrufe passen nicht zu einer Maske, die " \
          f"jeden Eintrag unabhängig mit Wahrscheinlichkeit 1 − p behält"
    if reveal():
        low, high = accepted_range(want, n)
        k = int(np.argmax(~fits))
        event = (f"Eintrag {k} (flach) behalten" if k < size else
                 f"Einträge {2 * (k - size)} und {2 * (k - size) + 1} (flach) beide behalten")
        msg += (f": Anteil der Aufrufe mit „{event}“ {fmt_num(round(float(freq[k]), 4))}, erwartet "
                f"{fmt_num(round(float(want[k]), 4))} (akzeptiert {low[k]:.3f} bis {high[k]:.3f}; eine richtige "
                f"Lösung scheitert hieran mit Wahrscheinlichkeit unter {fmt_num(FAILURE_PROBABILITY)}).")
    else:
        msg += "."
    mistake = next((m for d, m in dists.values() if np.all(frequencies_fit(freq, d, n))), None)
    if mistake is not None:
        msg += f"\nIhr Ergebnis passt zu einem bekannten Fehler: {mistake.name}. {mistake.hint}"
    raise CheckFailed(msg, mistake=mistake, cause="statistics")


def check_p_zero(masks: np.ndarray) -> None:
    """p = 0 keeps every entry."""
    if not masks.all():
        raise CheckFailed(f"dropout_mask(shape, p=0, rng) verwirft Einträge ({int((~masks).sum())} von {masks.size} "
                          f"in {len(masks)} Aufrufen); mit p = 0 wird nichts verworfen (alle True).", cause="values")


MASK_CASES = [((3, 5), 0.2), ((2, 3, 4), 0.75)]


@pytest.mark.part("dropout_mask")
@pytest.mark.parametrize("shape, p", MASK_CASES, ids=["p0.2", "p0.75"])
def test_dropout_mask(student, rng, shape, p):
    check_dropout_mask(student, shape, p, int(rng.integers(2**31)))


# --- dropout_forward / dropout_backward ------------------------------------------------------------------

def dropout_mistakes(kind: str, x: np.ndarray, mask: np.ndarray, p: float) -> list[Mistake]:
    keep = 1 - p
    common = [
        Mistake("durch p statt durch 1 − p geteilt", x * mask / p,
                "p ist die Drop-Wahrscheinlichkeit; behalten wird mit Wahrscheinlichkeit 1 − p, also wird durch "
                "1 − p geteilt.", id=f"{kind}_scale_by_p"),
        Mistake("Maske invertiert (verworfene statt behaltene Einträge durchgelassen)", x * ~mask / keep,
                "keep_mask ist True für die BEHALTENEN Einträge.", id=f"{kind}_mask_inverted"),
    ]
    if kind == "forward":
        return common + [
            Mistake("ohne Skalierung (x · keep_mask)", x * mask,
                    "Inverted Dropout teilt im Training durch 1 − p, damit der Erwartungswert gleich x bleibt und "
                    "in der Auswertung nichts zu tun ist.", id="forward_no_scaling"),
            Mistake("mit 1 − p multipliziert statt geteilt", x * mask * keep,
                    "Das ist klassisches (nicht invertiertes) Dropout für die Auswertung; hier wird im Training durch "
                    "1 − p geteilt.", id="forward_times_keep"),
        ]
    return common + [
        Mistake("keine Skalierung im Backward (grad_out · keep_mask)", x * mask,
                "Der Vorwärtsschritt multipliziert mit keep_mask / (1 − p); die Ableitung ist derselbe Faktor.",
                id="backward_no_scaling"),
        Mistake("Maske im Backward ignoriert (grad_out / (1 − p))", x / keep,
                "Verworfene Einträge haben keinen Einfluss auf die Ausgabe: ihr Gradient ist 0.",
                id="backward_mask_ignored"),
    ]


def dropout_driver(name, cases):
    import regularization

    fn = getattr(regularization, name)
    return [fn(x, mask, p) for x, mask, p in cases]


def check_dropout(student, kind: str, cases: list[tuple[np.ndarray, np.ndarray, float]]) -> None:
    name = f"dropout_{kind}"
    arg = "x" if kind == "forward" else "grad_out"
    results = student.run(dropout_driver, name, cases)
    with Cases(name) as verdict:
        for i, ((x, mask, p), got) in enumerate(zip(cases, results)):
            what = f"{name}({arg}, keep_mask, p={fmt_num(p)})" if reveal() else f"{name}({arg}, keep_mask, p)"
            inputs = {arg: x, "keep_mask": mask}
            try:
                got = expect_array(got, shape=x.shape, what=what, inputs=inputs)
            except CheckFailed as exc:
                verdict.fail(str(exc), label=f"Fall {i + 1}")
                continue
            verdict.what = what
            verdict.close(got, x * mask / (1 - p), inputs=inputs, mistakes=partial(dropout_mistakes, kind, x, mask, p),
                          label=f"Fall {i + 1}")
        verdict.what = name


def dropout_case(rng: np.random.Generator, shape: tuple[int, ...], p: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Random values and a mask with both kept and dropped entries."""
    mask = rng.random(shape) >= p
    mask.flat[0], mask.flat[-1] = True, False
    return read_only(rng.normal(0.0, 1.0, shape)), read_only(mask), p


def _public_dropout() -> list[tuple]:
    rng = np.random.default_rng(20260415)
    return [dropout_case(rng, (4, 6), 0.2), dropout_case(rng, (3, 2, 5), 0.75), dropout_case(rng, (7,), 0.1)]


DROPOUT_CASES = _public_dropout()


@pytest.mark.part("dropout_forward")
def test_dropout_forward(student):
    check_dropout(student, "forward", DROPOUT_CASES)


@pytest.mark.part("dropout_backward")
def test_dropout_backward(student):
    """The upstream gradient is random (never all ones)."""
    check_dropout(student, "backward", DROPOUT_CASES)


# --- l2_penalty ---------------------------------------------------------------------------------------------

def l2_mistakes(weights: list[np.ndarray], lam: float) -> list[tuple[Mistake, float, list[np.ndarray]]]:
    """(mistake, predicted penalty, predicted gradients)."""
    total = sum(float(np.sum(w * w)) for w in weights)
    return [
        (Mistake("Strafterm ohne den Faktor 1/2 (λ · Σw²)", None,
                 "Mit λ/2 · Σw² ist die Ableitung genau λ · w.", id="penalty_without_half"),
         lam * total, [lam * w for w in weights]),
        (Mistake("Gradient 2 · λ · w statt λ · w", None,
                 "Die Ableitung von λ/2 · w² ist λ · w: der Faktor 1/2 hebt die 2 aus der Ableitung auf.",
                 id="two_lam_gradient"),
         0.5 * lam * total, [2 * lam * w for w in weights]),
        (Mistake("λ · Σw² mit Gradient 2 · λ · w (die andere Konvention)", None,
                 "Hier gilt wie bei PyTorchs weight_decay: Strafterm λ/2 · Σw², Gradient λ · w.", id="two_lam"),
         lam * total, [2 * lam * w for w in weights]),
        (Mistake("Mittelwert statt Summe der Quadrate", None, "Summieren Sie alle quadrierten Einträge aller Arrays.",
                 id="l2_mean_not_sum"),
         0.5 * lam * total / sum(w.size for w in weights), [lam * w for w in weights]),
    ]


def l2_driver(cases):
    import regularization

    return [regularization.l2_penalty(weights, lam) for weights, lam in cases]


def check_l2(student, cases: list[tuple[list[np.ndarray], float]]) -> None:
    results = student.run(l2_driver, cases)
    with Cases("l2_penalty") as verdict:
        for i, ((weights, lam), got) in enumerate(zip(cases, results)):
            shapes = ", ".join(fmt_num(tuple(w.shape)) for w in weights)
            what = (f"l2_penalty(weights, lam={fmt_num(lam)})" if reveal() else "l2_penalty(weights, lam)") + \
                f" für Arrays der Formen {shapes}"
            label = f"Fall {i + 1}"
            try:
                if not isinstance(got, (tuple, list)) or len(got) != 2:
                    raise CheckFailed(f"{what} lieferte {describe(got)}, erwartet war ein Paar (penalty, gradients).",
                                      cause="type")
                penalty = expect_float(got[0], what=f"penalty aus {what}")
                grads = got[1]
                if not isinstance(grads, (list, tuple)) or len(grads) != len(weights):
                    raise CheckFailed(f"gradients aus {what} ist {describe(grads)}, erwartet war eine Liste von "
                                      f"{len(weights)} Arrays (eines pro Gewichts-Array).", cause="type")
                grads = [expect_array(g, shape=w.shape, what=f"gradients[{j}] aus {what}")
                         for j, (g, w) in enumerate(zip(grads, weights))]
            except CheckFailed as exc:
                verdict.fail(str(exc), label=label)
                continue
            predictions = l2_mistakes(weights, lam)
            verdict.what = f"penalty aus {what}"
            verdict.scalar(penalty, 0.5 * lam * sum(float(np.sum(w * w)) for w in weights),
                           mistakes=[Mistake(m.name, pen, m.hint, id=m.key) for m, pen, _ in predictions],
                           label=f"{label}, penalty")
            for j, (g, w) in enumerate(zip(grads, weights)):
                verdict.what = f"gradients[{j}] aus {what}"
                mistakes = [Mistake(m.name, gs[j], m.hint, id=m.key) for m, _, gs in predictions]
                verdict.close(g, lam * w, mistakes=mistakes, label=f"{label}, gradients[{j}]")
        verdict.what = "l2_penalty"


def l2_case(rng: np.random.Generator, shapes: list[tuple[int, ...]], lam: float) -> tuple[list[np.ndarray], float]:
    return [read_only(rng.normal(0.0, 1.0, s)) for s in shapes], lam


def _public_l2() -> list[tuple]:
    rng = np.random.default_rng(20260416)
    return [l2_case(rng, [(3, 4), (4,)], 0.1), l2_case(rng, [(2, 3, 2)], 0.01),
            l2_case(rng, [(5, 2), (2,), (1, 3)], 1.5)]


L2_CASES = _public_l2()


@pytest.mark.part("l2_penalty")
def test_l2_penalty(student):
    check_l2(student, L2_CASES)


# --- early_stopping -----------------------------------------------------------------------------------------

def stopping_variant(losses: list[float], patience: int, min_delta: float = 0.0, *, late: bool = False,
                     last: bool = False, no_delta: bool = False, ties: bool = False,
                     previous: bool = False, running_min: bool = False, difference: bool = False) -> tuple[int, int]:
    """The contract's rule, or a known mistake: late (count > patience), last (best = stop),
    no_delta (min_delta ignored), ties (<= counts as improving), previous (compare with the last epoch).

    running_min is not a mistake but another reading of "best" (the lowest loss so far, updated also by
    epochs that do not improve by min_delta), and difference the same rule written as best - loss > min_delta
    (equal in exact arithmetic, not always in floats); test cases are chosen where all of these agree.
    """
    delta = 0.0 if no_delta else min_delta
    best, best_epoch, waited = losses[0], 0, 0
    stop = len(losses) - 1
    for epoch in range(1, len(losses)):
        ref = losses[epoch - 1] if previous else best
        if difference:
            better = ref - losses[epoch] > delta
        else:
            better = losses[epoch] <= ref - delta if ties else losses[epoch] < ref - delta
        if running_min:
            best = min(best, losses[epoch])
        if better:
            best, best_epoch, waited = losses[epoch], epoch, 0
        else:
            waited += 1
            if waited >= patience + (1 if late else 0):
                stop = epoch
                break
    return stop, (stop if last else best_epoch)


STOPPING_MISTAKES = {
    "patience_off_by_one": ("patience um eins verschoben (Abbruch erst eine Epoche zu spät)",
                            "Abgebrochen wird in der Epoche, in der die Zahl der Epochen ohne Verbesserung "
                            "patience ERREICHT (>=), nicht erst, wenn sie patience übersteigt.", {"late": True}),
    "last_not_best": ("letzte statt beste Epoche als best_epoch",
                      "best_epoch ist die letzte Epoche mit Verbesserung: deren Gewichte stellt man wieder her.",
                      {"last": True}),
    "min_delta_ignored": ("min_delta ignoriert",
                          "Eine Epoche verbessert nur, wenn ihr Verlust kleiner als best − min_delta ist.",
                          {"no_delta": True}),
    "tie_improves": ("Gleichstand zählt als Verbesserung (<= statt <)",
                     "Verbessert ist eine Epoche nur bei loss < best − min_delta (strikt kleiner).", {"ties": True}),
    "compared_to_previous": ("mit der vorigen Epoche statt mit dem besten Verlust verglichen",
                             "best ist der Verlust der letzten Epoche mit Verbesserung, nicht der vorigen Epoche.",
                             {"previous": True}),
}


def stopping_driver(cases):
    import numpy as np

    import regularization

    out = []
    for losses, patience, min_delta in cases:
        r = regularization.early_stopping(losses, patience, min_delta)
        ok = isinstance(r, (tuple, list)) and len(r) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in r)
        out.append([int(v) for v in r] if ok else
                   (type(r).__name__, [type(v).__name__ for v in r] if isinstance(r, (tuple, list)) else []))
    return out


def stopping_call(losses: list[float], patience: int, min_delta: float) -> str:
    if reveal():
        return (f"early_stopping([{', '.join(fmt_num(v) for v in losses)}], patience={patience}, "
                f"min_delta={fmt_num(min_delta)})")
    return f"early_stopping(val_losses, patience, min_delta) mit {len(losses)} Epochen"


def check_stopping(student, cases: list[tuple[list[float], int, float]]) -> None:
    results = student.run(stopping_driver, cases)
    with Cases("early_stopping") as verdict:
        for i, ((losses, patience, min_delta), got) in enumerate(zip(cases, results)):
            call = stopping_call(losses, patience, min_delta)
            if isinstance(got, tuple):
                kind, items = got
                desc = safe_type(kind) + (f" ({', '.join(safe_type(v) for v in items)})" if items else "")
                verdict.fail(f"{call} lieferte {desc}, erwartet war ein Paar ganzer Zahlen (stop_epoch, best_epoch).",
                             label=f"Fall {i + 1}")
                continue
            verdict.what = f"(stop_epoch, best_epoch) aus {call}"
            mistakes = [Mistake(name, np.array(stopping_variant(losses, patience, min_delta, **flags)), hint, id=key)
                        for key, (name, hint, flags) in STOPPING_MISTAKES.items()]
            verdict.close(np.array(got), np.array(stopping_variant(losses, patience, min_delta)), mistakes=mistakes,
                          label=f"Fall {i + 1}")
        verdict.what = "early_stopping"


def check_stopping_empty(student) -> None:
    with raises("ValueError", what="early_stopping([], patience=2)"):
        student.regularization.early_stopping([], 2)


#: (val_losses, patience, min_delta): the task's example first; every known mistake shows in some case.
STOPPING_CASES = [
    ([1.0, 0.9, 0.95, 0.96], 2, 0.0),
    ([1.0, 0.8, 0.85, 0.7, 0.75, 0.72, 0.71, 0.9, 0.6], 3, 0.0),
    ([1.0, 0.9, 0.88, 0.87, 0.8, 0.79, 0.785, 0.784, 0.6], 3, 0.05),
    ([0.5, 0.4, 0.3, 0.35, 0.2], 2, 0.0),
    ([2.0, 1.5, 1.6, 1.0], 1, 0.0),
    ([1.0, 0.7, 0.7, 0.7, 0.6], 2, 0.0),
    ([0.3], 3, 0.0),
    ([0.9, 0.7, 0.695, 0.6905, 0.5, 0.495, 0.49, 0.3], 2, 0.01),
]


def unambiguous(case: tuple[list[float], int, float]) -> bool:
    """Whether both readings of "best" (last improving loss, or lowest loss so far) and both ways to write the
    comparison give the same answer (no case rests on a float rounding at the min_delta boundary)."""
    want = stopping_variant(*case)
    return all(stopping_variant(*case, **flags) == want
               for flags in ({"running_min": True}, {"difference": True}, {"running_min": True, "difference": True}))


assert all(unambiguous(c) for c in STOPPING_CASES), "test setup: a public case depends on the reading of best"


@pytest.mark.part("early_stopping")
def test_early_stopping(student):
    check_stopping(student, STOPPING_CASES)
    check_stopping_empty(student)
