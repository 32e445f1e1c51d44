"""Public tests for conv_shapes (stride, padding, pooling).

Expected values come from torch (float64) in the grader's own process:
torch.nn.functional.conv2d, max_pool2d and avg_pool2d with the same
arguments; conv_output_size is checked against the closed formula. All cases
of a test go to your code in one call (one sandbox round trip) and are judged
together: a known mistake is named only when it explains every case.
The helpers below are shared with the hidden tests, which use other inputs.

Run with:  grade conv_shapes
"""

from __future__ import annotations

from functools import partial
import math
from typing import Any

import numpy as np
import pytest
import torch

from grader.trusted.checks import Cases, CheckFailed, Mistake, expect_array, fmt_num, reveal
from exercises.tests.support.student_text import safe_exception, safe_type

Pair = Any  # an int, or a (rows, cols) tuple or list


# --- small helpers -------------------------------------------------------------------------------

def read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float64)
    array.flags.writeable = False
    return array


def pair(value: Pair) -> tuple[int, int]:
    return (int(value[0]), int(value[1])) if isinstance(value, (tuple, list)) else (int(value), int(value))


def show(value: Pair) -> str:
    """An argument as the student wrote it: 2, (2, 3) or [2, 3]."""
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return fmt_num(value) if not isinstance(value, tuple) else "(" + ", ".join(str(v) for v in value) + ")"


def kind(value: Pair) -> str:
    return "Liste" if isinstance(value, list) else ("Tupel" if isinstance(value, tuple) else "int")


# --- conv_output_size ------------------------------------------------------------------------------

def size_want(n: int, k: int, p: int, s: int) -> int:
    return (n + 2 * p - k) // s + 1


def size_mistakes(n: int, k: int, p: int, s: int) -> list[Mistake]:
    return [
        Mistake("„+ 1“ fehlt", (n + 2 * p - k) // s,
                "Die erste Fensterposition zählt mit: floor((n + 2·padding − k) / stride) + 1.",
                id="missing_plus_one"),
        Mistake("padding statt 2·padding", (n + p - k) // s + 1,
                "Zero-Padding kommt auf beide Seiten der Achse, die Länge wächst also um 2·padding.",
                id="padding_not_doubled"),
        Mistake("Aufrunden statt Abrunden", math.ceil((n + 2 * p - k) / s) + 1,
                "Ein Fenster, das über den (aufgefüllten) Rand hinausragt, wird nicht berechnet: abrunden "
                "(floor, in Python //).", id="ceil_not_floor"),
    ]


#: (n, k, padding, stride) with valid sizes: the seed's example first; strides that do not divide,
#: k = n + 2 * padding (output 1), and sizes that tell every mistake apart.
SIZE_CASES = [(7, 3, 1, 2), (10, 3, 0, 2), (8, 4, 1, 3), (5, 5, 0, 1), (28, 5, 2, 1), (9, 2, 0, 2), (6, 3, 2, 4),
              (224, 7, 3, 2), (3, 5, 1, 1)]

#: Invalid sizes and why they are invalid (the ValueError the contract asks for).
SIZE_ERRORS = [((3, 6, 1, 1), "k > n + 2·padding"), ((4, 5, 0, 1), "k > n + 2·padding"),
               ((5, 0, 0, 1), "k < 1"), ((5, 3, 0, 0), "stride < 1"), ((5, 3, -1, 1), "padding < 0")]


def size_driver(cases):
    """Runs in the sandbox: conv_output_size on every (n, k, padding, stride); results or exception names."""
    import numpy as np

    import conv_shapes

    out = []
    for n, k, p, s in cases:
        try:
            r = conv_shapes.conv_output_size(n, k, padding=p, stride=s)
        except NotImplementedError:
            raise
        except Exception as exc:  # the grader decides whether an exception was expected here
            out.append(("raised", type(exc).__name__, str(exc)[:200]))
            continue
        if isinstance(r, (int, np.integer)) and not isinstance(r, (bool, np.bool_)):
            out.append(("int", int(r), ""))
        elif isinstance(r, (float, np.floating)):
            out.append(("float", float(r), ""))
        else:
            out.append(("other", type(r).__name__, ""))
    return out


def typed(name: str) -> str:
    """'vom Typ list' for a common type name from the sandbox, else a neutral phrase."""
    safe = safe_type(name)
    return f"vom Typ {safe}" if safe == name else safe


def size_call(n: int, k: int, p: int, s: int) -> str:
    return f"conv_output_size({n}, {k}, padding={p}, stride={s})" if reveal() else \
        "conv_output_size(n, k, padding, stride)"


def check_size_values(student, cases: list[tuple[int, int, int, int]]) -> None:
    """Every case returns an int equal to the formula; mistakes named over all cases."""
    results = student.run(size_driver, cases)
    with Cases("conv_output_size") as verdict:
        for i, ((n, k, p, s), (tag, value, text)) in enumerate(zip(cases, results)):
            call, label = size_call(n, k, p, s), f"Fall {i + 1}"
            if tag == "raised":
                detail = f": {text}" if reveal() else ""
                verdict.fail(f"{call} löste {safe_exception(value)}{detail} aus; die Größen sind gültig.",
                             label=label)
            elif tag != "int":
                got = f"eine Gleitkommazahl ({float(value)!r})" if tag == "float" else f"einen Wert {typed(value)}"
                verdict.fail(f"{call} lieferte {got}, erwartet war eine ganze Zahl (int). Tipp: ganzzahlige "
                             "Division // statt / und np.floor.", label=label)
            else:
                verdict.what = call
                verdict.scalar(value, size_want(n, k, p, s), mistakes=partial(size_mistakes, n, k, p, s), label=label)
        verdict.what = "conv_output_size"


def check_size_errors(student, cases: list[tuple[tuple[int, int, int, int], str]]) -> None:
    """Every invalid case raises ValueError."""
    results = student.run(size_driver, [c for c, _ in cases])
    for ((n, k, p, s), why), (tag, value, text) in zip(cases, results):
        call = size_call(n, k, p, s)
        if tag != "raised":
            raise CheckFailed(f"{call} mit {why} hat keinen ValueError ausgelöst (sondern "
                              f"{fmt_num(value) if tag in ('int', 'float') else 'einen Wert ' + typed(value)} "
                              "geliefert). Solche Größen "
                              "ergeben keine sinnvolle Ausgabe: raise ValueError(...).", cause="exception")
        if value != "ValueError":
            raise CheckFailed(f"{call} mit {why} löste {safe_exception(value)}{': ' + text if reveal() else ''} aus, "
                              "erwartet war ValueError.",
                              cause="exception")


def check_size(student, values: list[tuple[int, int, int, int]],
               errors: list[tuple[tuple[int, int, int, int], str]]) -> None:
    """Valid sizes (values, judged together), then invalid ones (ValueError)."""
    check_size_values(student, values)
    check_size_errors(student, errors)


@pytest.mark.part("conv_output_size")
def test_conv_output_size(student):
    """The seed's example first (7 x 7, k = 3, padding 1, stride 2 gives 4), then more sizes and invalid ones."""
    check_size(student, SIZE_CASES, SIZE_ERRORS)


# --- conv2d_strided ---------------------------------------------------------------------------------

def torch_conv(image: np.ndarray, kernel: np.ndarray, stride: Pair, padding: Pair) -> np.ndarray:
    with torch.no_grad():
        return torch.nn.functional.conv2d(torch.tensor(np.array(image)), torch.tensor(np.array(kernel)),
                                          stride=pair(stride), padding=pair(padding)).numpy()


def conv_variant(image: np.ndarray, kernel: np.ndarray, stride: Pair, padding: Pair, *,
                 pad: tuple[str, str] = ("both", "both"), flip: bool = False, swap_stride: bool = False,
                 swap_padding: bool = False) -> np.ndarray:
    """A (possibly wrong) strided cross-correlation in NumPy, for the predictions of known mistakes."""
    sh, sw = pair(stride)[::-1] if swap_stride else pair(stride)
    ph, pw = pair(padding)[::-1] if swap_padding else pair(padding)
    sides = {"both": lambda q: (q, q), "start": lambda q: (q, 0), "end": lambda q: (0, q)}
    x = np.pad(image, ((0, 0), (0, 0), sides[pad[0]](ph), sides[pad[1]](pw)))
    k = kernel[:, :, ::-1, ::-1] if flip else kernel
    _, _, kh, kw = k.shape
    if x.shape[2] < kh or x.shape[3] < kw:
        return np.zeros((0,))
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    return np.einsum("bcijuv,ocuv->boij", win, k)


def conv_mistakes(image: np.ndarray, kernel: np.ndarray, stride: Pair, padding: Pair) -> list[Mistake]:
    args = (image, kernel, stride, padding)
    one_side = ("Padding nur auf einer Seite",
                "Zero-Padding kommt auf beide Seiten: oben und unten je padding[0] Zeilen, links und rechts je "
                "padding[1] Spalten (np.pad(image, ((0, 0), (0, 0), (ph, ph), (pw, pw)))).")
    return [
        Mistake(one_side[0], conv_variant(*args, pad=("end", "end")), one_side[1], id="pad_one_side"),
        Mistake(one_side[0], conv_variant(*args, pad=("start", "start")), one_side[1], id="pad_one_side_start"),
        Mistake("Kernel gespiegelt (echte Faltung statt Kreuzkorrelation)", conv_variant(*args, flip=True),
                "conv2d in PyTorch ist eine Kreuzkorrelation: den Kernel nicht spiegeln.", id="flipped_kernel"),
        Mistake("stride-Paar vertauscht", conv_variant(*args, swap_stride=True),
                "Ein Paar bedeutet (Zeilen, Spalten): stride[0] gilt für die Höhe H, stride[1] für die Breite W.",
                id="stride_pair_swapped"),
        Mistake("padding-Paar vertauscht", conv_variant(*args, swap_padding=True),
                "Ein Paar bedeutet (Zeilen, Spalten): padding[0] gilt für die Höhe H, padding[1] für die Breite W.",
                id="padding_pair_swapped"),
        Mistake("stride ignoriert (immer Schrittweite 1)", conv_variant(image, kernel, 1, padding),
                "Das Fenster springt um stride[0] Zeilen und stride[1] Spalten weiter.", id="stride_ignored"),
    ]


def conv_driver(cases):
    """Runs in the sandbox: conv2d_strided on every (image, kernel, stride, padding)."""
    import conv_shapes

    return [conv_shapes.conv2d_strided(image, kernel, stride, padding) for image, kernel, stride, padding in cases]


def conv_call(image: np.ndarray, kernel: np.ndarray, stride: Pair, padding: Pair) -> str:
    if reveal():
        return f"conv2d_strided(image, kernel, stride={show(stride)}, padding={show(padding)})"
    return f"conv2d_strided(image, kernel, stride, padding) mit stride als {kind(stride)}, padding als {kind(padding)}"


def check_conv(student, cases: list[tuple], wants: list[np.ndarray] | None = None,
               labels: list[str] = ()) -> None:
    """All cases in one call; type/dtype per case, then values (and shapes) judged together.

    labels: extra words for the first cases' labels (e.g. which worked example a case is).
    """
    wants = wants if wants is not None else [torch_conv(*c) for c in cases]
    results = student.run(conv_driver, cases)
    with Cases("conv2d_strided") as verdict:
        for i, (case, got, want) in enumerate(zip(cases, results, wants)):
            image, kernel, stride, padding = case
            what, inputs = conv_call(*case), {"image": image, "kernel": kernel}
            label = f"Fall {i + 1}" + (f": {labels[i]}" if i < len(labels) else "")
            try:
                got = expect_array(got, what=what, inputs=inputs)
            except CheckFailed as exc:
                verdict.fail(str(exc), label=label)
                continue
            verdict.what = what
            verdict.close(got, want, inputs=inputs, mistakes=partial(conv_mistakes, *case), label=label)
        verdict.what = "conv2d_strided"


def conv_inputs(rng: np.random.Generator, image_shape: tuple, kernel_shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    return read_only(rng.standard_normal(image_shape)), read_only(rng.standard_normal(kernel_shape))


#: The seed's 7 x 7 example (stride 1, padding 0): 16 at the top left.
SEED_IMAGE = read_only(np.array([[2, 0, 1, 3, 2, 1, 0], [1, 3, 2, 1, 0, 1, 2], [0, 1, 1, 3, 2, 0, 1],
                                 [1, 2, 3, 0, 1, 1, 0], [0, 1, 3, 2, 1, 0, 2], [1, 2, 0, 1, 3, 2, 1],
                                 [1, 0, 1, 2, 1, 0, 0]], dtype=np.float64)[None, None])
SEED_KERNEL = read_only(np.array([[1, 0, 2], [2, 3, 0], [1, 0, 1]], dtype=np.float64)[None, None])


def _public_conv_cases() -> list[tuple]:
    rng = np.random.default_rng(20260411)
    return [
        (*conv_inputs(rng, (2, 3, 9, 7), (4, 3, 3, 2)), 2, 1),
        (*conv_inputs(rng, (2, 2, 8, 11), (3, 2, 3, 4)), (2, 3), (1, 2)),
        (*conv_inputs(rng, (1, 3, 10, 6), (2, 3, 2, 3)), [3, 1], [0, 2]),
        (*conv_inputs(rng, (3, 1, 6, 5), (2, 1, 5, 3)), 1, 2),
        (*conv_inputs(rng, (2, 2, 12, 9), (3, 2, 3, 3)), (3, 2), 0),
    ]


#: Public inputs and their torch results, computed once at import.
CONV_CASES = _public_conv_cases()
CONV_WANTS = [torch_conv(*c) for c in CONV_CASES]
SEED_CASE = (SEED_IMAGE, SEED_KERNEL, 1, 0)
SEED_WANT = torch_conv(*SEED_CASE)


@pytest.mark.part("conv2d_strided")
def test_conv2d_strided(student):
    """The seed's 7 x 7 example (16 at the top left), then int, tuple and list arguments, unequal pairs,
    non-square images and kernels."""
    check_conv(student, [SEED_CASE] + CONV_CASES, [SEED_WANT] + CONV_WANTS,
               labels=["7x7-Beispiel der Vorlesung, oben links 16"])


# --- pooling -------------------------------------------------------------------------------------------

POOL_NAMES = ("max_pool2d", "avg_pool2d")
OMITTED = "omitted"   # the stride argument is left out of the call (its default None)


def torch_pool(name: str, x: np.ndarray, kernel_size: Pair, stride: Any) -> np.ndarray:
    fn = getattr(torch.nn.functional, name)
    stride = None if stride in (None, OMITTED) else pair(stride)
    with torch.no_grad():
        return fn(torch.tensor(np.array(x)), pair(kernel_size), stride).numpy()


def pool_variant(name: str, x: np.ndarray, kernel_size: Pair, stride: Pair) -> np.ndarray:
    kh, kw = pair(kernel_size)
    sh, sw = pair(stride)
    if x.shape[2] < kh or x.shape[3] < kw:
        return np.zeros((0,))
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    return win.max(axis=(-2, -1)) if name == "max_pool2d" else win.mean(axis=(-2, -1))


def pool_mistakes(name: str, x: np.ndarray, kernel_size: Pair, stride: Any) -> list[Mistake]:
    out = []
    if stride in (None, OMITTED):
        out.append(Mistake("stride 1 statt stride = kernel_size bei stride=None", pool_variant(name, x, kernel_size, 1),
                           "Wie in PyTorch bedeutet stride=None: Die Fenster liegen ohne Überlappung nebeneinander, "
                           "stride = kernel_size.", id="stride_none_as_one"))
    else:
        ks, st = pair(kernel_size), pair(stride)
        out.append(Mistake("stride ignoriert (stride = kernel_size)", pool_variant(name, x, ks, ks),
                           "Ist stride angegeben, springt das Fenster um stride weiter, nicht um kernel_size.",
                           id="pool_stride_ignored"))
        if st[0] != st[1]:
            out.append(Mistake("stride-Paar vertauscht", pool_variant(name, x, ks, st[::-1]),
                               "Ein Paar bedeutet (Zeilen, Spalten).", id="pool_stride_pair_swapped"))
    other = "avg_pool2d" if name == "max_pool2d" else "max_pool2d"
    st = pair(kernel_size if stride in (None, OMITTED) else stride)
    out.append(Mistake(f"{other} statt {name}", pool_variant(other, x, kernel_size, st),
                       "max_pool2d nimmt das Maximum jedes Fensters, avg_pool2d den Mittelwert.", id="max_avg_swapped"))
    return out


def pool_driver(name, cases):
    """Runs in the sandbox: max_pool2d or avg_pool2d on every (x, kernel_size, stride)."""
    import conv_shapes

    fn = getattr(conv_shapes, name)
    out = []
    for x, kernel_size, stride in cases:
        out.append(fn(x, kernel_size) if stride == "omitted" else fn(x, kernel_size, stride))
    return out


def pool_call(name: str, kernel_size: Pair, stride: Any) -> str:
    if reveal():
        tail = "" if stride == OMITTED else f", stride={show(stride) if stride is not None else 'None'}"
        return f"{name}(x, kernel_size={show(kernel_size)}{tail})"
    tail = " ohne stride" if stride == OMITTED else (" mit stride=None" if stride is None else
                                                     f" mit stride als {kind(stride)}")
    return f"{name}(x, kernel_size{'' if stride == OMITTED else ', stride'}){tail}"


def check_pool(student, name: str, cases: list[tuple], wants: list[np.ndarray] | None = None) -> None:
    wants = wants if wants is not None else [torch_pool(name, *c) for c in cases]
    results = student.run(pool_driver, name, cases)
    with Cases(name) as verdict:
        for i, (case, got, want) in enumerate(zip(cases, results, wants)):
            x, kernel_size, stride = case
            what = pool_call(name, kernel_size, stride)
            try:
                got = expect_array(got, what=what, inputs={"x": x})
            except CheckFailed as exc:
                verdict.fail(str(exc), label=f"Fall {i + 1}")
                continue
            verdict.what = what
            verdict.close(got, want, inputs={"x": x}, mistakes=partial(pool_mistakes, name, *case), label=f"Fall {i + 1}")
        verdict.what = name


def _public_pool_cases() -> list[tuple]:
    rng = np.random.default_rng(20260412)
    x = [read_only(rng.standard_normal(s)) for s in [(2, 3, 7, 9), (1, 2, 8, 11), (2, 2, 9, 6), (3, 1, 10, 7),
                                                       (2, 2, 6, 8)]]
    return [(x[0], 2, OMITTED), (x[1], (2, 3), OMITTED), (x[2], 3, 2), (x[3], (3, 2), (2, 1)), (x[4], [2, 3], None)]


POOL_CASES = _public_pool_cases()
POOL_WANTS = {name: [torch_pool(name, *c) for c in POOL_CASES] for name in POOL_NAMES}


@pytest.mark.part("pooling")
@pytest.mark.parametrize("name", POOL_NAMES)
def test_pooling(student, name):
    """stride left out, None, int and pair; kernel_size int, tuple and list; sizes that do not divide (floor)."""
    check_pool(student, name, POOL_CASES, POOL_WANTS[name])
