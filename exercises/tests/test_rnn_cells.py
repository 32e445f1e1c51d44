"""Public tests for rnn_cells (LSTM and GRU in PyTorch's conventions).

Expected values come from torch (float64) in the grader's own process:
torch.nn.LSTMCell, torch.nn.GRUCell and a one-layer torch.nn.LSTM with
batch_first=True, loaded with the same weights. All cases of a test go to
your code in one call and are judged together; a known mistake (gate order,
z and 1 - z swapped, reset gate before the matrix product, cell state
returned as output, one bias vector only) is named only when it explains
every case. The helpers are shared with the hidden tests (other inputs).

lstm_forward is graded for the loop over time: if your lstm_cell has one of
the named mistakes and lstm_forward repeats exactly that cell, lstm_forward
still gets its points (the mistake costs points in lstm_cell only).

Run with:  grade rnn_cells
"""

from __future__ import annotations

from functools import partial
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

from grader.trusted.checks import Cases, CheckFailed, Mistake, describe, expect_array, reveal
from exercises.tests.support.student_text import safe_type


def read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float64)
    array.flags.writeable = False
    return array


# --- cases ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RnnCase:
    """Inputs of one cell or sequence problem (all read-only)."""

    xs: np.ndarray          # (B, T, I); the cells use xs[:, 0]
    h: np.ndarray           # (B, H)
    c: np.ndarray           # (B, H)
    W_ih: np.ndarray
    W_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray

    @property
    def x(self) -> np.ndarray:
        return read_only(self.xs[:, 0])

    @property
    def weights(self) -> tuple[np.ndarray, ...]:
        return self.W_ih, self.W_hh, self.b_ih, self.b_hh

    def inputs(self, **more: Any) -> dict[str, Any]:
        return {"W_ih": self.W_ih, "W_hh": self.W_hh, **more}


def make_case(rng: np.random.Generator, B: int, T: int, I: int, H: int, gates: int) -> RnnCase:
    """Random inputs; weights with spread 0.6 so that no gate saturates and every mistake shows."""
    def w(*shape):
        return read_only(rng.normal(0.0, 0.6, shape))
    return RnnCase(xs=read_only(rng.normal(0.0, 1.0, (B, T, I))), h=w(B, H), c=read_only(rng.normal(0, 1, (B, H))),
                   W_ih=w(gates * H, I), W_hh=w(gates * H, H), b_ih=w(gates * H), b_hh=w(gates * H))


# --- oracles (torch) -----------------------------------------------------------------------------------

def _load(module: torch.nn.Module, names: tuple[str, ...], case: RnnCase) -> torch.nn.Module:
    module = module.double()
    with torch.no_grad():
        for name, value in zip(names, case.weights):
            getattr(module, name).copy_(torch.from_numpy(np.array(value)))
    return module


def torch_lstm_cell(case: RnnCase) -> np.ndarray:
    """(h', c') stacked: (2, B, H)."""
    I, H = case.xs.shape[2], case.h.shape[1]
    cell = _load(torch.nn.LSTMCell(I, H), ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), case)
    with torch.no_grad():
        h, c = cell(torch.from_numpy(np.array(case.x)), (torch.from_numpy(np.array(case.h)),
                                                          torch.from_numpy(np.array(case.c))))
    return np.stack([h.numpy(), c.numpy()])


def torch_gru_cell(case: RnnCase) -> np.ndarray:
    I, H = case.xs.shape[2], case.h.shape[1]
    cell = _load(torch.nn.GRUCell(I, H), ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), case)
    with torch.no_grad():
        return cell(torch.from_numpy(np.array(case.x)), torch.from_numpy(np.array(case.h))).numpy()


def torch_lstm(case: RnnCase) -> tuple[np.ndarray, np.ndarray]:
    """(outputs (B, T, H), (h_T, c_T) stacked (2, B, H))."""
    I, H = case.xs.shape[2], case.h.shape[1]
    lstm = _load(torch.nn.LSTM(I, H, batch_first=True), ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
                 case)
    with torch.no_grad():
        out, (h, c) = lstm(torch.from_numpy(np.array(case.xs)), (torch.from_numpy(np.array(case.h))[None],
                                                                   torch.from_numpy(np.array(case.c))[None]))
    return out.numpy(), np.stack([h[0].numpy(), c[0].numpy()])


# --- known mistakes (NumPy variants) --------------------------------------------------------------------

def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def lstm_cell_variant(x, h, c, W_ih, W_hh, b_ih, b_hh, *, order: str = "ifgo", one_bias: bool = False,
                      swap_return: bool = False) -> tuple[np.ndarray, np.ndarray]:
    gates = x @ W_ih.T + b_ih + h @ W_hh.T + (0.0 if one_bias else b_hh)
    parts = dict(zip(order, np.split(gates, 4, axis=1)))
    c_new = sigmoid(parts["f"]) * c + sigmoid(parts["i"]) * np.tanh(parts["g"])
    h_new = sigmoid(parts["o"]) * np.tanh(c_new)
    return (c_new, h_new) if swap_return else (h_new, c_new)


GATE_ORDER_HINT = ("PyTorch stapelt die Gewichte in der Reihenfolge i, f, g, o: Zeilen 0:H gehören zum "
                   "Eingangstor i, H:2H zum Vergesstor f, 2H:3H zum Kandidaten g (tanh), 3H:4H zum Ausgangstor o.")
ONE_BIAS_HINT = ("PyTorch hat zwei Bias-Vektoren, b_ih und b_hh; beide werden addiert "
                 "(x W_ih^T + b_ih + h W_hh^T + b_hh).")

#: The named mistakes of lstm_cell: id -> (name, hint, variant flags).
LSTM_CELL_MISTAKES = {
    "lstm_gate_order": ("falsche Reihenfolge der Tore (i, f, o, g statt i, f, g, o)", GATE_ORDER_HINT,
                        {"order": "ifog"}),
    "lstm_gate_order_fig": ("falsche Reihenfolge der Tore (f, i, g, o statt i, f, g, o)", GATE_ORDER_HINT,
                            {"order": "figo"}),
    "cell_state_as_output": ("Zellzustand als Ausgabe zurückgegeben ((c', h') statt (h', c'))",
                             "lstm_cell gibt (h', c') zurück: zuerst die Ausgabe h' = o * tanh(c'), dann den "
                             "Zellzustand c'.", {"swap_return": True}),
    "one_bias_only": ("nur ein Bias-Vektor (b_hh fehlt)", ONE_BIAS_HINT, {"one_bias": True}),
}


def lstm_cell_mistakes(case: RnnCase) -> list[Mistake]:
    return [Mistake(name, np.stack(lstm_cell_variant(case.x, case.h, case.c, *case.weights, **flags)), hint, id=key)
            for key, (name, hint, flags) in LSTM_CELL_MISTAKES.items()]


def lstm_forward_variant(case: RnnCase, *, carry: bool = True, outputs_c: bool = False,
                         **cell_flags: Any) -> tuple[np.ndarray, np.ndarray]:
    """The loop over time around a (possibly wrong) cell, unpacking `h, c = cell(...)` as students do."""
    h, c = case.h, case.c
    outs = []
    for t in range(case.xs.shape[1]):
        h_in, c_in = (h, c) if carry else (case.h, case.c)
        h, c = lstm_cell_variant(case.xs[:, t], h_in, c_in, *case.weights, **cell_flags)
        outs.append(c if outputs_c else h)
    return np.stack(outs, axis=1), np.stack([h, c])


#: The final state comes back as nn.LSTM returns it.
STATE_ORDER_HINT = ("lstm_forward gibt (outputs, (h_T, c_T)) zurück, in der Reihenfolge von nn.LSTM: zuerst den "
                    "verdeckten Zustand h_T (er ist auch die letzte Ausgabe outputs[:, -1]), dann den Zellzustand c_T.")


def lstm_forward_mistakes(case: RnnCase) -> tuple[list[Mistake], list[Mistake]]:
    """Named mistakes of the loop itself, as predictions for (outputs, final state)."""
    loop = {
        "outputs_are_cell_states": ("Zellzustände c_t statt h_t als Ausgaben",
                                    "Die Ausgabe eines LSTM zum Zeitpunkt t ist h_t; c_t bleibt im Inneren.",
                                    {"outputs_c": True}),
        "state_not_carried": ("Zustand nicht weitergegeben (jeder Schritt beginnt mit h0, c0)",
                              "Jeder Schritt bekommt (h, c) des vorigen Schritts: h, c = lstm_cell(x_t, h, c, ...).",
                              {"carry": False}),
        "forward_one_bias_only": ("nur ein Bias-Vektor (b_hh fehlt)", ONE_BIAS_HINT, {"one_bias": True}),
        "forward_gate_order": ("falsche Reihenfolge der Tore (i, f, o, g statt i, f, g, o)", GATE_ORDER_HINT,
                               {"order": "ifog"}),
    }
    outs, finals = [], []
    for key, (name, hint, flags) in loop.items():
        o, f = lstm_forward_variant(case, **flags)
        outs.append(Mistake(name, o, hint, id=key))
        finals.append(Mistake(name, f, hint, id=key))
    return outs, finals


def gru_cell_variant(x, h, W_ih, W_hh, b_ih, b_hh, *, order: str = "rzn", z_swapped: bool = False,
                     reset_before: bool = False, one_bias: bool = False) -> np.ndarray:
    b_hh = np.zeros_like(b_hh) if one_bias else b_hh
    xg = dict(zip(order, np.split(x @ W_ih.T + b_ih, 3, axis=1)))
    Wh = dict(zip(order, np.split(W_hh, 3, axis=0)))
    bh = dict(zip(order, np.split(b_hh, 3)))
    r = sigmoid(xg["r"] + h @ Wh["r"].T + bh["r"])
    z = sigmoid(xg["z"] + h @ Wh["z"].T + bh["z"])
    hn = (r * h) @ Wh["n"].T + bh["n"] if reset_before else r * (h @ Wh["n"].T + bh["n"])
    n = np.tanh(xg["n"] + hn)
    return z * n + (1 - z) * h if z_swapped else (1 - z) * n + z * h


def gru_cell_mistakes(case: RnnCase) -> list[Mistake]:
    x, h, w = case.x, case.h, case.weights
    return [
        Mistake("Tore r und z vertauscht (Reihenfolge z, r, n statt r, z, n)", gru_cell_variant(x, h, *w, order="zrn"),
                "PyTorch stapelt die GRU-Gewichte als r, z, n: Zeilen 0:H für das Reset-Tor r, H:2H für das "
                "Update-Tor z, 2H:3H für den Kandidaten n.", id="gru_gate_order"),
        Mistake("z und 1 − z vertauscht (h' = z·n + (1 − z)·h)", gru_cell_variant(x, h, *w, z_swapped=True),
                "In PyTorch ist h' = (1 − z)·n + z·h: z nahe 1 behält den alten Zustand. Viele Lehrbücher "
                "schreiben es umgekehrt; hier gilt PyTorchs Form.", id="z_one_minus_z"),
        Mistake("Reset-Tor vor dem Matrixprodukt angewandt ((r·h) W_hn^T statt r·(h W_hn^T + b_hn))",
                gru_cell_variant(x, h, *w, reset_before=True),
                "PyTorch wendet r auf das fertige Produkt samt Bias an: n = tanh(x W_in^T + b_in + r·(h W_hn^T + "
                "b_hn)).", id="reset_before_matmul"),
        Mistake("nur ein Bias-Vektor (b_hh fehlt)", gru_cell_variant(x, h, *w, one_bias=True), ONE_BIAS_HINT,
                id="gru_one_bias_only"),
    ]


# --- drivers (run in the sandbox) ------------------------------------------------------------------------

def lstm_cell_driver(cases):
    import rnn_cells

    return [rnn_cells.lstm_cell(x, h, c, *w) for x, h, c, w in cases]


def gru_cell_driver(cases):
    import rnn_cells

    return [rnn_cells.gru_cell(x, h, *w) for x, h, w in cases]


def lstm_forward_driver(cases):
    """lstm_forward on every case, and the student's lstm_cell on each case's first step (or the error name)."""
    import rnn_cells

    out = []
    for xs, h0, c0, w in cases:
        result = rnn_cells.lstm_forward(xs, h0, c0, *w)
        try:
            first = rnn_cells.lstm_cell(xs[:, 0], h0, c0, *w)
        except Exception as exc:  # lstm_cell is graded elsewhere; here it only decides which oracle applies
            first = type(exc).__name__
        out.append((result, first))
    return out


# --- checks ----------------------------------------------------------------------------------------------

def _shape_text(case: RnnCase, T: bool = False) -> str:
    B, steps, I = case.xs.shape
    return f"B={B}, T={steps}, I={I}, H={case.h.shape[1]}" if T else f"B={B}, I={I}, H={case.h.shape[1]}"


def _pair(got: Any, what: str) -> tuple[Any, Any]:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CheckFailed(f"{what} lieferte {describe(got)}, erwartet war ein Paar (h', c') aus zwei Arrays.",
                          cause="type")
    return got[0], got[1]


def check_lstm_cell(student, cases: list[RnnCase], wants: list[np.ndarray] | None = None) -> None:
    wants = wants if wants is not None else [torch_lstm_cell(c) for c in cases]
    results = student.run(lstm_cell_driver, [(c.x, c.h, c.c, c.weights) for c in cases])
    with Cases("lstm_cell") as verdict:
        for i, (case, got, want) in enumerate(zip(cases, results, wants)):
            what = f"lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh) mit {_shape_text(case)}"
            B, H = case.h.shape
            try:
                h_new, c_new = _pair(got, what)
                pair = np.stack([expect_array(h_new, shape=(B, H), what=f"h' aus {what}"),
                                 expect_array(c_new, shape=(B, H), what=f"c' aus {what}")])
            except CheckFailed as exc:
                verdict.fail(str(exc), label=f"Fall {i + 1}")
                continue
            verdict.what = f"(h', c') aus {what} (Index: 0 = h' / 1 = c', Beispiel, Einheit)"
            verdict.close(pair, want, inputs=case.inputs(), mistakes=partial(lstm_cell_mistakes, case), label=f"Fall {i + 1}")
        verdict.what = "lstm_cell"


def check_gru_cell(student, cases: list[RnnCase], wants: list[np.ndarray] | None = None) -> None:
    wants = wants if wants is not None else [torch_gru_cell(c) for c in cases]
    results = student.run(gru_cell_driver, [(c.x, c.h, c.weights) for c in cases])
    with Cases("gru_cell") as verdict:
        for i, (case, got, want) in enumerate(zip(cases, results, wants)):
            what = f"gru_cell(x, h, W_ih, W_hh, b_ih, b_hh) mit {_shape_text(case)}"
            try:
                got = expect_array(got, shape=case.h.shape, what=what)
            except CheckFailed as exc:
                verdict.fail(str(exc), label=f"Fall {i + 1}")
                continue
            verdict.what = what
            verdict.close(got, want, inputs=case.inputs(), mistakes=partial(gru_cell_mistakes, case), label=f"Fall {i + 1}")
        verdict.what = "gru_cell"


def own_cell_oracle(case: RnnCase, first: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """If the student's lstm_cell on the first step is exactly one named mistake, the loop around that cell."""
    if not isinstance(first, (tuple, list)) or len(first) != 2:
        return None
    try:
        got = np.stack([np.asarray(first[0], dtype=np.float64), np.asarray(first[1], dtype=np.float64)])
    except (TypeError, ValueError):
        return None
    for _, _, flags in LSTM_CELL_MISTAKES.values():
        want = np.stack(lstm_cell_variant(case.x, case.h, case.c, *case.weights, **flags))
        if got.shape == want.shape and np.allclose(got, want, rtol=1e-6, atol=1e-8):
            return lstm_forward_variant(case, **flags)
    return None


def check_lstm_forward(student, cases: list[RnnCase], wants: list[tuple] | None = None) -> None:
    wants = wants if wants is not None else [torch_lstm(c) for c in cases]
    results = student.run(lstm_forward_driver, [(c.xs, c.h, c.c, c.weights) for c in cases])
    with Cases("lstm_forward") as verdict:
        for i, (case, (got, first), want) in enumerate(zip(cases, results, wants)):
            B, T, _ = case.xs.shape
            H = case.h.shape[1]
            what = f"lstm_forward(xs, h0, c0, W_ih, W_hh, b_ih, b_hh) mit {_shape_text(case, T=True)}"
            label = f"Fall {i + 1}"
            try:
                if not isinstance(got, (tuple, list)) or len(got) != 2:
                    raise CheckFailed(f"{what} lieferte {describe(got)}, erwartet war (outputs, (h_T, c_T)).",
                                      cause="type")
                outputs, final = got
                outputs = expect_array(outputs, shape=(B, T, H), what=f"outputs aus {what}")
                h_T, c_T = _pair(final, f"(h_T, c_T) aus {what}")
                final = np.stack([expect_array(h_T, shape=(B, H), what=f"h_T aus {what}"),
                                  expect_array(c_T, shape=(B, H), what=f"c_T aus {what}")])
            except CheckFailed as exc:
                verdict.fail(str(exc), label=label)
                continue
            own = own_cell_oracle(case, first)
            want_out, want_final = want
            if own is not None and np.allclose(outputs, own[0], rtol=1e-6, atol=1e-8) and \
                    np.allclose(final, own[1], rtol=1e-6, atol=1e-8):
                want_out, want_final = own     # the loop is right around the student's (wrong) cell
            out_mistakes, final_mistakes = lstm_forward_mistakes(case)
            final_mistakes.append(Mistake("h_T und c_T vertauscht ((c_T, h_T) zurückgegeben)", want_final[::-1],
                                          STATE_ORDER_HINT, id="final_state_swapped"))
            verdict.what = f"outputs aus {what}"
            verdict.close(outputs, want_out, inputs={"xs": case.xs}, mistakes=out_mistakes, label=f"{label}, outputs")
            verdict.what = f"(h_T, c_T) aus {what} (Index: 0 = h_T / 1 = c_T, Beispiel, Einheit)"
            verdict.close(final, want_final, inputs={"xs": case.xs}, mistakes=final_mistakes,
                          label=f"{label}, (h_T, c_T)")
        verdict.what = "lstm_forward"


# --- parameter counts --------------------------------------------------------------------------------------

def count_want(gates: int, I: int, H: int) -> int:
    return gates * (H * I + H * H + 2 * H)


def count_mistakes(I: int, H: int) -> list[Mistake]:
    return [
        Mistake("nur ein Bias-Vektor pro Tor gezählt", np.array([4 * (H * I + H * H + H), 3 * (H * I + H * H + H)]),
                "nn.LSTM und nn.GRU haben zwei Bias-Vektoren, b_ih und b_hh (je 4H bzw. 3H Einträge).",
                id="count_one_bias"),
        Mistake("Bias nicht gezählt", np.array([4 * (H * I + H * H), 3 * (H * I + H * H)]),
                "Auch b_ih und b_hh sind trainierbare Parameter.", id="count_no_bias"),
        Mistake("nur ein Tor gezählt (Faktor 4 bzw. 3 fehlt)", np.array([count_want(1, I, H)] * 2),
                "Das LSTM hat 4 Blöcke (i, f, g, o), die GRU 3 (r, z, n), jeder mit eigenen Gewichten.",
                id="count_one_gate"),
    ]


def count_driver(cases):
    import numpy as np

    import rnn_cells

    out = []
    for I, H in cases:
        pair = []
        for fn in (rnn_cells.lstm_param_count, rnn_cells.gru_param_count):
            r = fn(I, H)
            ok = isinstance(r, (int, np.integer)) and not isinstance(r, (bool, np.bool_))
            pair.append(int(r) if ok else type(r).__name__)
        out.append(pair)
    return out


def check_counts(student, cases: list[tuple[int, int]]) -> None:
    results = student.run(count_driver, cases)
    with Cases("lstm_param_count / gru_param_count") as verdict:
        for i, ((I, H), got) in enumerate(zip(cases, results)):
            call = (f"lstm_param_count({I}, {H}) und gru_param_count({I}, {H})" if reveal() else
                    "lstm_param_count(input_dim, hidden_dim) und gru_param_count(input_dim, hidden_dim)")
            bad = [v for v in got if isinstance(v, str)]
            if bad:
                verdict.fail(f"{call}: ein Ergebnis ist kein int ({safe_type(bad[0])}), erwartet war eine ganze Zahl.",
                             label=f"Fall {i + 1}")
                continue
            verdict.what = f"{call} (Index 0 = LSTM, 1 = GRU)"
            verdict.close(np.array(got), np.array([count_want(4, I, H), count_want(3, I, H)]),
                          mistakes=partial(count_mistakes, I, H), label=f"Fall {i + 1}")
        verdict.what = "lstm_param_count / gru_param_count"


# --- public cases, oracles at import ----------------------------------------------------------------------

def _public_cases() -> dict[str, list[RnnCase]]:
    rng = np.random.default_rng(20260413)
    return {
        "lstm": [make_case(rng, 3, 1, 4, 5, 4), make_case(rng, 2, 1, 6, 3, 4), make_case(rng, 4, 1, 1, 2, 4)],
        "gru": [make_case(rng, 3, 1, 4, 5, 3), make_case(rng, 2, 1, 6, 3, 3), make_case(rng, 4, 1, 1, 2, 3)],
        "forward": [make_case(rng, 3, 1, 4, 5, 4), make_case(rng, 2, 2, 3, 4, 4), make_case(rng, 2, 7, 5, 3, 4),
                    make_case(rng, 3, 50, 2, 4, 4)],
    }


PUBLIC = _public_cases()
LSTM_WANTS = [torch_lstm_cell(c) for c in PUBLIC["lstm"]]
GRU_WANTS = [torch_gru_cell(c) for c in PUBLIC["gru"]]
FORWARD_WANTS = [torch_lstm(c) for c in PUBLIC["forward"]]
#: (input_dim, hidden_dim): the seed's SimpleLSTM(10, 20, 1) first (2560 parameters in its LSTM).
COUNT_CASES = [(10, 20), (3, 7), (128, 64), (1, 1)]


@pytest.mark.part("lstm_cell")
def test_lstm_cell(student):
    check_lstm_cell(student, PUBLIC["lstm"], LSTM_WANTS)


@pytest.mark.part("gru_cell")
def test_gru_cell(student):
    check_gru_cell(student, PUBLIC["gru"], GRU_WANTS)


@pytest.mark.part("lstm_forward")
def test_lstm_forward(student):
    """T = 1, 2, 7 and 50 (batch_first: xs has the shape (B, T, I))."""
    check_lstm_forward(student, PUBLIC["forward"], FORWARD_WANTS)


@pytest.mark.part("param_count")
def test_param_count(student):
    """The seed's SimpleLSTM(10, 20, 1) has 2560 parameters in its LSTM."""
    check_counts(student, COUNT_CASES)
