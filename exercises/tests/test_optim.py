"""Public tests for optim (optimiser steps and learning-rate schedules).

Each step function is checked over sequences of 20 to 40 steps: the grader
runs torch.optim's update functions (the ones SGD, Adam and AdamW call;
float64) in its own process on a gradient sequence and feeds the same
gradients to your step function, one sequence per case, all in one call into
your code. Compared after every step: the
parameter and the optimiser state you return (velocity, or m and v).
Schedules are compared with the closed forms of torch's StepLR and
CosineAnnealingLR for every epoch. A known mistake (no bias correction, eps
inside the square root, t counted from 0, dampening, L2 instead of decoupled
weight decay, epochs off by one, ...) is named only when it explains every
case. The helpers are shared with the hidden tests (other sequences).

Run with:  grade optim
"""

from __future__ import annotations

from functools import partial
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

from grader.trusted.checks import Cases, CheckFailed, Mistake, expect_array, fmt_num, reveal
from exercises.tests.support.student_text import safe_type


def read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float64)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class StepCase:
    """A gradient sequence for one optimiser: start parameter p0, grads (T, *shape), keyword arguments."""

    kind: str                   # "sgd" | "adam" | "adamw"
    p0: np.ndarray
    grads: np.ndarray
    kwargs: dict = field(default_factory=dict)

    def describe(self) -> str:
        steps, shape = self.grads.shape[0], fmt_num(tuple(self.p0.shape))
        if not reveal():
            return f"{steps} Schritte, param der Form {shape}"
        args = ", ".join(f"{k}={fmt_num(v)}" for k, v in self.kwargs.items()) or "Standardwerte"
        return f"{steps} Schritte, param der Form {shape}, {args}"


FUNCTIONS = {"sgd": "sgd_momentum_step", "adam": "adam_step", "adamw": "adamw_step"}
STATE = {"sgd": "(param', v)", "adam": "(param', m', v')", "adamw": "(param', m', v')"}
LAYOUT = {"sgd": "Index: (Schritt, 0 = param / 1 = v, Position)",
          "adam": "Index: (Schritt, 0 = param / 1 = m / 2 = v, Position)"}


# --- oracle: torch.optim -------------------------------------------------------------------------------
#
# torch.optim.SGD/Adam/AdamW.step call the functional API torch.optim.sgd.sgd, adam.adam and adamw.adamw
# (single-tensor path, foreach=False). The oracle calls those functions directly: the optimiser classes
# import torch._dynamo on construction (seconds in every fresh grading process), the functions do not.
# Should a torch version change their signatures, the oracle falls back to the classes.

def _functional_steps(case: StepCase) -> np.ndarray:
    kw = dict(case.kwargs)
    p = torch.tensor(np.array(case.p0))
    rows = []
    if case.kind == "sgd":
        from torch.optim.sgd import sgd

        buf = [None]
        for g in case.grads:
            before = p.numpy().copy()
            sgd([p], [torch.tensor(np.array(g))], buf, weight_decay=kw.get("weight_decay", 0.0),
                momentum=kw.get("momentum", 0.0), lr=kw["lr"], dampening=0.0, nesterov=False, maximize=False,
                foreach=False, fused=None, grad_scale=None, found_inf=None)
            v = buf[0].numpy().copy() if buf[0] is not None else g + kw.get("weight_decay", 0.0) * before
            rows.append([p.numpy().copy(), v])
        return np.array(rows)
    from torch.optim.adam import adam
    from torch.optim.adamw import adamw

    b1, b2 = kw.get("betas", (0.9, 0.999))
    m, v, step = torch.zeros_like(p), torch.zeros_like(p), torch.tensor(0.0, dtype=torch.float64)
    fn = adam if case.kind == "adam" else adamw
    for g in case.grads:
        fn([p], [torch.tensor(np.array(g))], [m], [v], [], [step], foreach=False, capturable=False,
           differentiable=False, fused=None, grad_scale=None, found_inf=None, has_complex=False, amsgrad=False,
           beta1=b1, beta2=b2, lr=kw.get("lr", 1e-3),
           weight_decay=kw.get("weight_decay", 0.0 if case.kind == "adam" else 1e-2), eps=kw.get("eps", 1e-8),
           maximize=False)
        rows.append([p.numpy().copy(), m.numpy().copy(), v.numpy().copy()])
    return np.array(rows)


def _class_steps(case: StepCase) -> np.ndarray:
    p = torch.tensor(np.array(case.p0), requires_grad=True)
    kwargs = dict(case.kwargs)
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[case.kind]
    opt = cls([p], foreach=False, **kwargs)
    rows = []
    for g in case.grads:
        before = p.detach().numpy().copy()
        p.grad = torch.tensor(np.array(g))
        opt.step()
        state = opt.state[p]
        if case.kind == "sgd":
            buf = state.get("momentum_buffer")
            v = buf.numpy().copy() if buf is not None else g + kwargs.get("weight_decay", 0.0) * before
            rows.append([p.detach().numpy().copy(), v])
        else:
            rows.append([p.detach().numpy().copy(), state["exp_avg"].numpy().copy(),
                         state["exp_avg_sq"].numpy().copy()])
    return np.array(rows)


def torch_steps(case: StepCase) -> np.ndarray:
    """Parameter and state after every step, stacked: (T, 2 or 3, *shape)."""
    try:
        return _functional_steps(case)
    except TypeError:        # another torch version: the optimiser classes compute the same
        return _class_steps(case)


# --- known mistakes (NumPy variants) ----------------------------------------------------------------------

def sgd_variant(case: StepCase, *, dampening: bool = False, decay: bool = True) -> np.ndarray:
    kw = case.kwargs
    lr, mom, wd = kw["lr"], kw.get("momentum", 0.0), kw.get("weight_decay", 0.0) if decay else 0.0
    p, v, rows = np.array(case.p0), np.zeros_like(case.p0), []
    for g in case.grads:
        g = g + wd * p
        v = mom * v + ((1 - mom) * g if dampening else g)
        p = p - lr * v
        rows.append([p, v])
    return np.array(rows)


def adam_variant(case: StepCase, *, decay: str, bias_correction: bool = True, eps_inside: bool = False,
                 t_offset: int = 0) -> np.ndarray:
    """decay: "l2" (Adam), "decoupled" (AdamW), "none", "no_lr" (param * (1 - wd)), "after" (after the step)."""
    kw = case.kwargs
    lr, (b1, b2) = kw.get("lr", 1e-3), kw.get("betas", (0.9, 0.999))
    eps, wd = kw.get("eps", 1e-8), kw.get("weight_decay", 0.0 if case.kind == "adam" else 1e-2)
    p, m, v, rows = np.array(case.p0), np.zeros_like(case.p0), np.zeros_like(case.p0), []
    for step, grad in enumerate(case.grads, start=1):
        t = step + t_offset
        g = grad + wd * p if decay == "l2" else grad
        if decay == "decoupled":
            p = p * (1 - lr * wd)
        elif decay == "no_lr":
            p = p * (1 - wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if bias_correction else (m, v)
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        p = p - lr * m_hat / denom
        if decay == "after":
            p = p * (1 - lr * wd)
        rows.append([p, m, v])
    return np.array(rows)


ADAM_COMMON = {
    "no_bias_correction": ("keine Bias-Korrektur (m und v statt m / (1 − β1^t) und v / (1 − β2^t))",
                           "m und v starten bei 0 und sind in den ersten Schritten zu klein; Adam teilt deshalb durch "
                           "1 − β1^t bzw. 1 − β2^t.", {"bias_correction": False}),
    "eps_inside_sqrt": ("eps unter der Wurzel (sqrt(v_hat + eps) statt sqrt(v_hat) + eps)",
                        "PyTorch addiert eps nach der Wurzel: param − lr · m_hat / (sqrt(v_hat) + eps). Bei kleinen "
                        "Gradienten macht das einen großen Unterschied.", {"eps_inside": True}),
    "t_from_zero": ("t um eins verschoben (t + 1 statt t in der Bias-Korrektur)",
                    "t ist die Nummer dieses Schritts und beginnt bei 1 (der erste Aufruf bekommt t = 1); verwenden "
                    "Sie t direkt.", {"t_offset": 1}),
}


def step_mistakes(case: StepCase) -> list[Mistake]:
    if case.kind == "sgd":
        out = [Mistake("Dämpfung (v = momentum · v + (1 − momentum) · g)", sgd_variant(case, dampening=True),
                       "torch.optim.SGD dämpft standardmäßig nicht (dampening = 0): v = momentum · v + g.",
                       id="dampening")]
        if case.kwargs.get("weight_decay", 0.0):
            out.append(Mistake("weight_decay ignoriert", sgd_variant(case, decay=False),
                               "Weight Decay addiert weight_decay · param zum Gradienten, bevor v berechnet wird.",
                               id="sgd_weight_decay_ignored"))
        return out
    own = "l2" if case.kind == "adam" else "decoupled"
    out = [Mistake(name, adam_variant(case, decay=own, **flags), hint, id=key)
           for key, (name, hint, flags) in ADAM_COMMON.items()]
    wd = case.kwargs.get("weight_decay", 0.0 if case.kind == "adam" else 1e-2)
    if case.kind == "adam" and wd:
        out += [Mistake("weight_decay ignoriert", adam_variant(case, decay="none"),
                        "torch.optim.Adam addiert weight_decay · param zum Gradienten (L2).",
                        id="adam_weight_decay_ignored"),
                Mistake("entkoppelter Weight Decay in adam_step (das ist AdamW)", adam_variant(case, decay="decoupled"),
                        "torch.optim.Adam addiert weight_decay · param zum Gradienten (L2-Strafterm), erst AdamW "
                        "entkoppelt den Decay.", id="adam_decoupled_decay")]
    if case.kind == "adamw":
        out += [Mistake("L2-Strafterm statt entkoppeltem Weight Decay", adam_variant(case, decay="l2"),
                        "AdamW addiert weight_decay · param nicht zum Gradienten, sondern schrumpft param vorher "
                        "direkt: param · (1 − lr · weight_decay); danach Adam mit dem reinen Gradienten.",
                        id="l2_instead_of_decoupled"),
                Mistake("Decay ohne lr (param · (1 − weight_decay))", adam_variant(case, decay="no_lr"),
                        "PyTorch skaliert den Decay mit der Lernrate: param · (1 − lr · weight_decay).",
                        id="decay_without_lr"),
                Mistake("Decay nach dem Adam-Schritt statt davor", adam_variant(case, decay="after"),
                        "PyTorch schrumpft param zuerst und zieht dann das Adam-Update ab.", id="decay_after_step"),
                Mistake("weight_decay ignoriert", adam_variant(case, decay="none"),
                        "AdamW schrumpft param in jedem Schritt um den Faktor (1 − lr · weight_decay).",
                        id="adamw_weight_decay_ignored")]
    return out


# --- driver and check ----------------------------------------------------------------------------------------

def steps_driver(kind, cases):
    """Runs in the sandbox: each gradient sequence through the student's step function.

    Returns per case either the stacked (T, 2 or 3, *shape) history of (param, state...) or
    ("bad", step, description) for the first return that is not a tuple of arrays of param's shape.
    """
    import numpy as np

    import optim

    fn = {"sgd": optim.sgd_momentum_step, "adam": optim.adam_step, "adamw": optim.adamw_step}[kind]
    size = 2 if kind == "sgd" else 3
    out = []
    for p0, grads, kwargs in cases:
        state = [p0]
        for _ in range(size - 1):            # fresh zeros per state array, read-only like every input
            zeros = np.zeros(p0.shape)
            zeros.flags.writeable = False
            state.append(zeros)
        rows, bad = [], None
        for t in range(len(grads)):
            args = (state[0], grads[t], state[1]) if kind == "sgd" else (state[0], grads[t], state[1], state[2], t + 1)
            result = fn(*args, **kwargs)
            if not isinstance(result, (tuple, list)) or len(result) != size:
                bad = ("bad", t + 1, type(result).__name__, len(result) if isinstance(result, (tuple, list)) else -1)
                break
            wrong = [a for a in result if not (isinstance(a, np.ndarray) and a.shape == p0.shape)]
            if wrong:
                item = wrong[0]
                bad = ("bad", t + 1, "item:" + type(item).__name__,
                       tuple(item.shape) if isinstance(item, np.ndarray) else -1)
                break
            state = []
            for a in result:
                a = np.array(a)
                a.flags.writeable = False
                state.append(a)
            rows.append(np.stack(state))
        out.append(bad if bad is not None else np.stack(rows))
    return out


def bad_step_text(type_name: str, extra) -> str:
    """What a step function returned instead of a tuple of arrays (names from the sandbox made safe)."""
    if type_name.startswith("item:"):
        name = type_name[len("item:"):]
        if name == "ndarray":
            return f"ein Element der Form {fmt_num(tuple(extra))}"
        return f"ein Element vom Typ {safe_type(name)}"
    return f"einen Wert vom Typ {safe_type(type_name)}" + (f" der Länge {extra}" if extra >= 0 else "")


def check_steps(student, kind: str, cases: list[StepCase], wants: list[np.ndarray] | None = None) -> None:
    wants = wants if wants is not None else [torch_steps(c) for c in cases]
    name = FUNCTIONS[kind]
    results = student.run(steps_driver, kind, [(c.p0, c.grads, c.kwargs) for c in cases])
    with Cases(name) as verdict:
        for i, (case, got, want) in enumerate(zip(cases, results, wants)):
            label = f"Fall {i + 1}"
            what = f"{name} über {case.describe()}"
            if isinstance(got, tuple):
                desc = bad_step_text(*got[2:])
                step = got[1]
                verdict.fail(f"{what}: Schritt {step} lieferte {desc}, erwartet war ein Tupel {STATE[kind]} aus "
                             f"Arrays der Form {fmt_num(tuple(case.p0.shape))}.", label=label)
                continue
            history = f"{what} (Verlauf nach jedem Schritt, {LAYOUT['sgd' if kind == 'sgd' else 'adam']})"
            try:
                got = expect_array(got, shape=want.shape, what=history)
            except CheckFailed as exc:
                verdict.fail(str(exc), label=label)
                continue
            verdict.what = history
            verdict.close(got, want, mistakes=partial(step_mistakes, case), label=label)
        verdict.what = name


# --- schedules ------------------------------------------------------------------------------------------------

def torch_closed_form(name: str, args: tuple) -> np.ndarray | None:
    """torch's own closed forms (StepLR / CosineAnnealingLR._get_closed_form_lr) for epochs 0..n-1.

    Called on a stand-in for the scheduler: a scheduler needs an optimizer, and constructing one imports
    torch._dynamo (seconds per grading process). None if this torch version has no such method.
    """
    from types import SimpleNamespace

    from torch.optim.lr_scheduler import CosineAnnealingLR, StepLR

    base_lr, size, third, epochs = args
    cls, fields = ((StepLR, {"step_size": size, "gamma": third}) if name == "step_lr" else
                   (CosineAnnealingLR, {"T_max": size, "eta_min": third}))
    closed = getattr(cls, "_get_closed_form_lr", None)
    if closed is None:
        return None
    try:
        return np.array([closed(SimpleNamespace(base_lrs=[base_lr], last_epoch=e, **fields))[0]
                         for e in range(epochs)], dtype=np.float64)
    except (AttributeError, TypeError):
        return None


def cosine_closed(base_lr: float, t_max: int, eta_min: float, epochs: np.ndarray) -> np.ndarray:
    return eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * epochs / t_max)) / 2


def schedule_mistakes(name: str, args: tuple) -> list[Mistake]:
    if name == "step_lr":
        base_lr, step_size, gamma, epochs = args
        e = np.arange(epochs)
        return [Mistake("Epochen um eins verschoben (epoch + 1)", base_lr * gamma ** ((e + 1) // step_size),
                        "epoch zählt ab 0: In den Epochen 0 bis step_size − 1 gilt noch base_lr.",
                        id="step_lr_off_by_one"),
                Mistake("ohne Abrunden (gamma ** (epoch / step_size))", base_lr * gamma ** (e / step_size),
                        "StepLR ändert die Lernrate stufenweise: gamma ** (epoch // step_size).",
                        id="step_lr_no_floor")]
    base_lr, t_max, eta_min, epochs = args
    e = np.arange(epochs)
    return [Mistake("Epochen um eins verschoben (epoch + 1)", cosine_closed(base_lr, t_max, eta_min, e + 1),
                    "In Epoche 0 gilt base_lr, in Epoche t_max gilt eta_min.", id="cosine_off_by_one"),
            Mistake("eta_min ignoriert", cosine_closed(base_lr, t_max, 0.0, e),
                    "Die Lernrate läuft von base_lr nach eta_min: eta_min + (base_lr − eta_min) · "
                    "(1 + cos(π · epoch / t_max)) / 2.", id="cosine_eta_min_ignored")]


def schedule_driver(name, cases):
    """Runs in the sandbox: the schedule for every epoch of every case; floats or the type name of a bad return."""
    import numpy as np

    import optim

    fn = getattr(optim, name)
    out = []
    for args, epochs in cases:
        row = []
        for epoch in range(epochs):
            r = fn(epoch, *args)
            ok = isinstance(r, (float, int, np.floating, np.integer)) and not isinstance(r, (bool, np.bool_))
            row.append(float(r) if ok else type(r).__name__)
        out.append(row)
    return out


def schedule_want(name: str, args: tuple) -> np.ndarray:
    """torch's closed form, or (another torch version) the contract's formula."""
    want = torch_closed_form(name, args)
    if want is not None:
        return want
    base_lr, size, third, epochs = args
    e = np.arange(epochs)
    return base_lr * third ** (e // size) if name == "step_lr" else cosine_closed(base_lr, size, third, e)


def schedule_call(name: str, args: tuple) -> str:
    if not reveal():
        return f"{name}(epoch, ...)"
    if name == "step_lr":
        return (f"step_lr(epoch, base_lr={fmt_num(args[0])}, step_size={args[1]}, gamma={fmt_num(args[2])}) "
                f"für epoch = 0 bis {args[3] - 1}")
    return (f"cosine_lr(epoch, base_lr={fmt_num(args[0])}, t_max={args[1]}, eta_min={fmt_num(args[2])}) "
            f"für epoch = 0 bis {args[3] - 1}")


def check_schedule(student, name: str, cases: list[tuple]) -> None:
    """cases: (args without epoch..., number of epochs); all epochs of a case form one array."""
    results = student.run(schedule_driver, name, [(args[:-1], args[-1]) for args in cases])
    with Cases(name) as verdict:
        for i, (args, got) in enumerate(zip(cases, results)):
            call = schedule_call(name, args)
            bad = [v for v in got if isinstance(v, str)]
            if bad:
                verdict.fail(f"{call}: ein Ergebnis hat den Typ {safe_type(bad[0])}, erwartet war eine Zahl (float).",
                             label=f"Fall {i + 1}")
                continue
            verdict.what = f"{call} (Index = epoch)"
            verdict.close(np.array(got), schedule_want(name, args), mistakes=partial(schedule_mistakes, name, args),
                          label=f"Fall {i + 1}")
        verdict.what = name


# --- public cases, oracles at import -----------------------------------------------------------------------------

def make_steps(rng: np.random.Generator, kind: str, shape: tuple, steps: int, scale: float, kwargs: dict,
               drift: float = 0.3) -> StepCase:
    """Gradients with a common drift (so momentum and m matter) plus noise, times scale."""
    base = rng.normal(0.0, 1.0, shape)
    grads = scale * (drift * base + rng.normal(0.0, 1.0, (steps, *shape)))
    return StepCase(kind, read_only(rng.normal(0.0, 1.0, shape)), read_only(grads), kwargs)


def _public() -> dict[str, list[StepCase]]:
    rng = np.random.default_rng(20260414)
    return {
        "sgd": [make_steps(rng, "sgd", (3, 4), 25, 1.0, {"lr": 0.1, "momentum": 0.9}),
                make_steps(rng, "sgd", (5,), 30, 1.0, {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.3}),
                make_steps(rng, "sgd", (2, 3), 20, 1.0, {"lr": 0.2, "weight_decay": 0.1}),
                make_steps(rng, "sgd", (4,), 20, 1.0, {"lr": 0.01})],
        "adam": [make_steps(rng, "adam", (3, 4), 25, 1e-5, {}),
                 make_steps(rng, "adam", (5,), 30, 1.0, {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6,
                                                         "weight_decay": 0.5}),
                 make_steps(rng, "adam", (2, 3, 2), 20, 1e-5, {"lr": 0.02, "eps": 1e-6}),
                 make_steps(rng, "adam", (4,), 20, 1.0, {})],
        "adamw": [make_steps(rng, "adamw", (3, 4), 25, 1.0, {"lr": 0.05, "weight_decay": 2.0}),
                  make_steps(rng, "adamw", (5,), 20, 1.0, {}),
                  make_steps(rng, "adamw", (2, 3), 30, 1e-5, {"lr": 0.01, "betas": (0.85, 0.995), "eps": 1e-7,
                                                              "weight_decay": 1.0})],
    }


PUBLIC = _public()
WANTS = {kind: [torch_steps(c) for c in cases] for kind, cases in PUBLIC.items()}

#: (base_lr, step_size, gamma, epochs) and (base_lr, t_max, eta_min, epochs), epochs counted from 0.
STEP_LR_CASES = [(0.1, 3, 0.1, 12), (0.5, 1, 0.5, 6), (0.05, 4, 0.7, 13)]
COSINE_CASES = [(0.1, 10, 0.0, 11), (0.3, 7, 0.01, 8), (1.0, 3, 0.2, 4)]


@pytest.mark.part("sgd_momentum_step")
def test_sgd_momentum_step(student):
    check_steps(student, "sgd", PUBLIC["sgd"], WANTS["sgd"])


@pytest.mark.part("adam_step")
def test_adam_step(student):
    """Gradients around 1e-5 (eps matters), weight decay, other betas, and the default arguments."""
    check_steps(student, "adam", PUBLIC["adam"], WANTS["adam"])


@pytest.mark.part("adamw_step")
def test_adamw_step(student):
    """lr * weight_decay = 0.1 (decoupled decay vs L2 differ a lot), the defaults, and tiny gradients."""
    check_steps(student, "adamw", PUBLIC["adamw"], WANTS["adamw"])


@pytest.mark.part("schedules")
def test_step_lr(student):
    check_schedule(student, "step_lr", STEP_LR_CASES)


@pytest.mark.part("schedules")
def test_cosine_lr(student):
    check_schedule(student, "cosine_lr", COSINE_CASES)
