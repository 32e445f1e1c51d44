"""Trusted side of exercise ex41 parts a-e: oracle, known mistakes, checks, drivers.

Everything the grader believes about a convolution comes from torch (float64)
or from central differences computed here, never from the student's process.
The public and the hidden tests share these helpers, so both recognise the
same mistakes with the same (German) messages.

A mistake costs exactly its own part:

- a grades h_conv2d, b grades h_conv2d_grad, each against torch;
- c grades only the wiring into the framework. Its first run replaces the
  student's h_conv2d and h_conv2d_grad (inside the sandbox) by trusted
  stand-ins, so conv2d's value and the gradients reaching image and kernel
  show what Conv2dFunction/conv2d do with them, whatever parts a and b
  return. A second run without stand-ins accepts a conv2d that does not call
  h_conv2d/h_conv2d_grad by name but agrees with the student's own functions
  (driven with an upstream gradient of the student's own output shape);
- d grades the module the same way (stand-in conv2d first, the student's
  own conv2d second): registration, shapes, initialisation, bias;
- e (end to end) names a wrong part a or b as the likely root cause.

Every check of several cases collects them in one `Cases`: a known mistake is
named only when it explains every case, and a finding is reported once.

The `drive_*` functions that run in the sandbox live in conv_drivers.py
(no torch there): they only build Tensors, call the student's code and hand
back what it computed; this module decides what that means.
"""

from __future__ import annotations

from functools import partial
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from grader.trusted.checks import Cases, CheckFailed, Mistake, expect_array, fmt_num, reveal
from grader.trusted.errors import StudentException

from exercises.tests.support.conv_drivers import (drive_conv2d, drive_conv2d_module, drive_h_conv2d_grad,
                                                  drive_parts_probe)

FLOAT64 = ("float64",)


# --------------------------------------------------------------------- cases
@dataclass(frozen=True)
class ConvCase:
    """One convolution problem: image (B, C, H, W), kernel (O, C, kh, kw)."""

    B: int
    C: int
    H: int
    W: int
    O: int
    kh: int
    kw: int

    @property
    def image_shape(self) -> tuple[int, int, int, int]:
        return (self.B, self.C, self.H, self.W)

    @property
    def kernel_shape(self) -> tuple[int, int, int, int]:
        return (self.O, self.C, self.kh, self.kw)

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        return (self.B, self.O, self.H - self.kh + 1, self.W - self.kw + 1)

    def __str__(self) -> str:
        return f"image{self.image_shape}-kernel{self.kernel_shape}".replace(" ", "")


def read_only(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


def make_inputs(rng: np.random.Generator, case: ConvCase,
                dtype: str | type = np.float64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random (image, kernel, grad_output) for a case, all read-only.

    Standard normal entries: kernels are never symmetric and the upstream
    gradient is never all ones, so flipped kernels and ignored upstream
    gradients cannot pass.
    """
    image = rng.standard_normal(case.image_shape).astype(dtype)
    kernel = rng.standard_normal(case.kernel_shape).astype(dtype)
    grad_output = rng.standard_normal(case.out_shape).astype(dtype)
    return read_only(image), read_only(kernel), read_only(grad_output)


def random_case(rng: np.random.Generator, *, max_kernel: int = 5, max_extra: int = 5,
                square_output: bool = False, same_channels: bool = False) -> ConvCase:
    """A random case that exposes every known mistake: B >= 2, B != O,
    kh != kw (both odd, at least one > 1), H != W.

    ``square_output``: H - kh == W - kw (a transposed output keeps its shape).
    ``same_channels``: C == O >= 2, so that a rotated kernel whose channel axes
    were not swapped gives values (with C != O it raises or changes shapes);
    with one channel the two axes could not be told apart.
    """
    B = int(rng.integers(2, 5))
    O = int(rng.choice([o for o in range(2 if same_channels else 1, 6) if o != B]))
    C = O if same_channels else int(rng.integers(1, 5))
    sizes = [k for k in range(1, max_kernel + 1, 2)]
    kh, kw = (int(k) for k in rng.choice(sizes, size=2, replace=False))
    H = kh + int(rng.integers(1, max_extra + 1))
    W = kw + int(rng.integers(1, max_extra + 1))
    if square_output:
        W = H - kh + kw
    elif H == W:
        W += 1
    return ConvCase(B, C, H, W, O, kh, kw)


# -------------------------------------------------------------------- oracle
def _t(array: np.ndarray, requires_grad: bool = False) -> torch.Tensor:
    # Always a copy: torch rejects negative strides (flipped kernels) and read-only arrays.
    return torch.tensor(np.array(array, dtype=np.float64), requires_grad=requires_grad)


def torch_conv2d(image: np.ndarray, kernel: np.ndarray, padding: tuple[int, int] = (0, 0)) -> np.ndarray:
    """The expected forward result (cross-correlation), in float64; padding only for known mistakes."""
    with torch.no_grad():
        return torch.nn.functional.conv2d(_t(image), _t(kernel), padding=padding).numpy()


def torch_conv2d_grad(image: np.ndarray, kernel: np.ndarray,
                      grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(grad_image, grad_kernel) of sum(conv2d(image, kernel) * grad_output), by torch.

    torch.nn.grad computes exactly what autograd's convolution backward
    computes, without starting the autograd engine (its first backward in a
    process costs ~0.4 s, paid again by every forked grading).
    """
    x, k, g = _t(image), _t(kernel), _t(grad_output)
    with torch.no_grad():
        return (torch.nn.grad.conv2d_input(x.shape, k, g).numpy(),
                torch.nn.grad.conv2d_weight(x, k.shape, g).numpy())


def numeric_conv2d_grad(image: np.ndarray, kernel: np.ndarray, grad_output: np.ndarray,
                        eps: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """(grad_image, grad_kernel) by central differences of L = sum(conv2d * grad_output).

    L is linear in each argument, so central differences are exact up to
    rounding (about 1e-12 here): the result can be compared with the same
    tolerance as torch's. All perturbed copies of an argument go through one
    batched forward pass (the copies stacked along the batch or the
    output-channel axis), so this stays fast for the small cases it is used on.
    """
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    g = np.asarray(grad_output, dtype=np.float64)
    B, O = image.shape[0], kernel.shape[0]

    def perturbed(array: np.ndarray, sign: float) -> np.ndarray:
        """(n, *array.shape): copy i has entry i (flat index) moved by sign * eps."""
        n = array.size
        copies = np.repeat(array[None], n, axis=0).reshape(n, n)
        copies[np.arange(n), np.arange(n)] += sign * eps
        return copies.reshape((n,) + array.shape)

    def image_losses(images: np.ndarray) -> np.ndarray:      # (n, B, C, H, W) -> (n,)
        n = len(images)
        out = torch_conv2d(images.reshape((n * B,) + image.shape[1:]), kernel)
        return (out.reshape((n,) + g.shape) * g).sum(axis=(1, 2, 3, 4))

    def kernel_losses(kernels: np.ndarray) -> np.ndarray:    # (n, O, C, kh, kw) -> (n,)
        n = len(kernels)
        out = torch_conv2d(image, kernels.reshape((n * O,) + kernel.shape[1:]))
        out = out.reshape((B, n, O) + g.shape[2:]).transpose(1, 0, 2, 3, 4)
        return (out * g).sum(axis=(1, 2, 3, 4))

    grad_image = (image_losses(perturbed(image, 1)) - image_losses(perturbed(image, -1))) / (2 * eps)
    grad_kernel = (kernel_losses(perturbed(kernel, 1)) - kernel_losses(perturbed(kernel, -1))) / (2 * eps)
    return grad_image.reshape(image.shape), grad_kernel.reshape(kernel.shape)




# ------------------------------------------------------------------ helpers
def shp(shape: Sequence[int]) -> str:
    """A shape as plain text: (2, 3, 7, 9)."""
    return fmt_num(tuple(int(s) for s in shape))


def shape_mistake(name: str, hint: str, shape: Sequence[int], actual: Any, id: str) -> Mistake | None:
    """A mistake known only by the shape it produces: it predicts whatever values come in that shape."""
    shape = tuple(int(s) for s in shape)
    if min(shape) < 0:
        return None
    if isinstance(actual, np.ndarray) and tuple(actual.shape) == shape and actual.dtype.kind in "fc":
        value = np.array(actual)
    else:
        value = np.full(shape, np.nan)
    return Mistake(name, value, hint, id=id)


def verdicts(*groups: Cases) -> None:
    """Judge several groups; raise one CheckFailed with every distinct finding."""
    errors: list[CheckFailed] = []
    for group in groups:
        try:
            group.verdict()
        except CheckFailed as exc:
            if not exc.mistake_id or exc.mistake_id not in {e.mistake_id for e in errors}:
                errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise CheckFailed("\n\n".join(str(e) for e in errors), mistake=errors[0].mistake,
                          cause=errors[0].cause, failed=errors[0].failed, total=errors[0].total)


def student_error(exc: StudentException) -> str:
    """The engine's message for an exception of the student's code (in hidden tests only its type)."""
    return exc.student_message() if reveal() else f"Ihr Code löste {exc.type} aus."


def error_text(error: dict) -> str:
    """'ValueError: message' of an exception a driver caught (in hidden tests only the type)."""
    return f"{error['type']}: {error['message']}" if reveal() else error["type"]


# ------------------------------------------------------------ known mistakes
FLIPPED_HINT = ("h_conv2d berechnet die Kreuzkorrelation wie torch.nn.functional.conv2d: out[b, o, i, j] = "
                "Summe über c, u, v von image[b, c, i + u, j + v] * kernel[o, c, u, v]. Der Kernel wird "
                "nicht gespiegelt.")
TRANSPOSED_HINT = ("Das Ergebnis hat die Form (B, O, H - kh + 1, W - kw + 1): erst die Zeilen (Höhe), dann die "
                   "Spalten. Prüfen Sie die Reihenfolge der Achsen und der Schleifenindizes.")
BATCH_OUT_HINT = "Das Ergebnis hat die Form (B, O, H', W'): zuerst der Batch, dann die Ausgangskanäle."
PADDING_HINT = ("h_conv2d verwendet kein Padding („valid“): Das Ergebnis hat die Form (B, O, H - kh + 1, "
                "W - kw + 1), eine Position für jede Stelle, an der der ganze Kernel ins Bild passt.")
OFF_BY_ONE_HINT = ("Der Kernel passt an H - kh + 1 Zeilenpositionen ins Bild (i = 0, ..., H - kh), also "
                   "range(H - kh + 1) und nicht range(H - kh); ebenso W - kw + 1 Spaltenpositionen.")
FLOAT32_HINT = ("float32 verliert etwa die Hälfte der Stellen. Legen Sie Ergebnis-Arrays im dtype der Eingabe "
                "an, z. B. np.zeros(shape) oder np.zeros(shape, dtype=image.dtype).")
FROM_A_HINT = " Conv2dFunction.forward soll das Ergebnis von h_conv2d(image, kernel) aus Teil a zurückgeben."
FROM_B_HINT = (" Conv2dFunction.backward soll das Paar (grad_image, grad_kernel) von h_conv2d_grad aus Teil b "
               "zurückgeben, einen Gradienten pro Eingabe von forward.")
BATCH_SUM_HINT = ("grad_kernel muss die Beiträge aller Beispiele des Batches addieren (L summiert über den "
                  "Batch): Summe über b, nicht der Mittelwert und nicht ein einzelnes Beispiel.")
GRAD_KERNEL_HINT = ("grad_kernel hat die Form des Kernels (O, C, kh, kw): grad_kernel[o, c, u, v] = Summe über "
                    "b, i, j von image[b, c, i + u, j + v] * grad_output[b, o, i, j].")
UNFLIPPED_HINT = ("grad_image[b, c, y, x] = Summe über o, u, v von grad_output[b, o, y - u, x - v] * "
                  "kernel[o, c, u, v]: eine „volle“ Kreuzkorrelation des mit Nullen aufgefüllten grad_output "
                  "mit dem um 180 Grad gedrehten Kernel.")
CHANNELS_HINT = ("Für grad_image ist grad_output (O Kanäle) die Eingabe und das Ergebnis hat C Kanäle: Der um "
                 "180 Grad gedrehte Kernel braucht deshalb auch vertauschte Kanalachsen, "
                 "kernel[:, :, ::-1, ::-1].transpose(1, 0, 2, 3) mit der Form (C, O, kh, kw).")
SWAPPED_HINT = "Geben Sie (grad_image, grad_kernel) in dieser Reihenfolge zurück."

CHANNELS_NOT_SWAPPED = Mistake("im gedrehten Kernel für grad_image sind die Kanalachsen nicht vertauscht",
                               None, CHANNELS_HINT, id="rotated_kernel_channels_not_swapped")


def forward_mistakes(image: np.ndarray, kernel: np.ndarray, got: Any, hint_suffix: str = "") -> list[Mistake]:
    """Known wrong forward results (also those of the wrong shape, with their values)."""
    B, _, H, W = image.shape
    O, _, kh, kw = kernel.shape
    want = torch_conv2d(image, kernel)
    mistakes = [
        Mistake("gespiegelter Kernel (echte Faltung statt Kreuzkorrelation)",
                torch_conv2d(image, kernel[:, :, ::-1, ::-1]), FLIPPED_HINT + hint_suffix, id="flipped_kernel"),
        Mistake("Ausgabe um eine Zeile und eine Spalte zu klein (H - kh statt H - kh + 1)",
                want[:, :, :-1, :-1], OFF_BY_ONE_HINT + hint_suffix, id="output_off_by_one"),
        Mistake("vertauschte Achsen H' und W' im Ergebnis", want.transpose(0, 1, 3, 2),
                TRANSPOSED_HINT + hint_suffix, id="transposed_output_hw"),
        Mistake("vertauschte Achsen B und O im Ergebnis", want.transpose(1, 0, 2, 3),
                BATCH_OUT_HINT + hint_suffix, id="transposed_output_bo"),
        Mistake("„same“-Padding (Ergebnis so groß wie das Bild)", torch_conv2d(image, kernel, (kh // 2, kw // 2)),
                PADDING_HINT + hint_suffix, id="same_padding"),
        Mistake("„full“-Padding (Ergebnis größer als das Bild)", torch_conv2d(image, kernel, (kh - 1, kw - 1)),
                PADDING_HINT + hint_suffix, id="full_padding"),
    ]
    if kh != kw:
        swapped = shape_mistake("kh und kw vertauscht (die Kernelhöhe entlang der Breite verwendet)",
                                TRANSPOSED_HINT + hint_suffix, (B, O, H - kw + 1, W - kh + 1), got, "kh_kw_swapped")
        if swapped is not None:
            mistakes.append(swapped)
    return mistakes


def grad_image_mistakes(image: np.ndarray, kernel: np.ndarray, grad_output: np.ndarray,
                        got: Any) -> list[Mistake]:
    """Known wrong grad_image results (any shape)."""
    unflipped, _ = torch_conv2d_grad(image, kernel[:, :, ::-1, ::-1], grad_output)
    _, want_kernel = torch_conv2d_grad(image, kernel, grad_output)
    mistakes = [Mistake("grad_image mit dem nicht gedrehten Kernel berechnet", unflipped, UNFLIPPED_HINT,
                        id="grad_image_unflipped"),
                Mistake("vertauschte Rückgabereihenfolge (grad_kernel zuerst)", want_kernel, SWAPPED_HINT,
                        id="swapped_grad_order")]
    O, C = kernel.shape[:2]
    if C == O:
        wrong, _ = torch_conv2d_grad(image, kernel.transpose(1, 0, 2, 3), grad_output)
        mistakes.append(Mistake(CHANNELS_NOT_SWAPPED.name, wrong, CHANNELS_HINT, id=CHANNELS_NOT_SWAPPED.key))
    else:
        B, _, H, W = image.shape
        by_shape = shape_mistake(CHANNELS_NOT_SWAPPED.name, CHANNELS_HINT, (B, O, H, W), got, CHANNELS_NOT_SWAPPED.key)
        if by_shape is not None:
            mistakes.append(by_shape)
    return mistakes


def grad_kernel_mistakes(image: np.ndarray, kernel: np.ndarray, grad_output: np.ndarray) -> list[Mistake]:
    """Known wrong grad_kernel results (any shape)."""
    grad_image, grad_kernel = torch_conv2d_grad(image, kernel, grad_output)
    B = image.shape[0]
    _, first = torch_conv2d_grad(image[:1], kernel, grad_output[:1])
    _, last = torch_conv2d_grad(image[-1:], kernel, grad_output[-1:])
    return [
        Mistake("Batch in grad_kernel nicht aufsummiert (nur das erste Beispiel)", first, BATCH_SUM_HINT,
                id="grad_kernel_first_sample"),
        Mistake("Batch in grad_kernel nicht aufsummiert (nur das letzte Beispiel)", last, BATCH_SUM_HINT,
                id="grad_kernel_last_sample"),
        Mistake("Batch in grad_kernel gemittelt statt summiert", grad_kernel / B, BATCH_SUM_HINT,
                id="grad_kernel_mean"),
        Mistake("grad_kernel gespiegelt (für eine echte Faltung berechnet)", grad_kernel[:, :, ::-1, ::-1],
                GRAD_KERNEL_HINT, id="grad_kernel_flipped"),
        Mistake("grad_kernel mit vertauschten Kanalachsen (Form (C, O, kh, kw) statt (O, C, kh, kw))",
                grad_kernel.transpose(1, 0, 2, 3), GRAD_KERNEL_HINT, id="grad_kernel_channels_transposed"),
        Mistake("vertauschte Rückgabereihenfolge (grad_image an zweiter Stelle)", grad_image, SWAPPED_HINT,
                id="swapped_grad_order"),
    ]


# -------------------------------------------------------------------- part a
def _shapes(image: np.ndarray, kernel: np.ndarray, **more: np.ndarray) -> dict[str, np.ndarray]:
    return {"image": image, "kernel": kernel, **more}


def forward_cases(what: str = "h_conv2d(image, kernel)") -> Cases:
    return Cases(what)


def forward_case(cases: Cases, got: Any, image: np.ndarray, kernel: np.ndarray, *, label: str = "",
                 hint_suffix: str = "") -> None:
    """One case of part a: type, dtype and finiteness at once, then values (and shape) in the group."""
    float32_inputs = image.dtype == np.float32
    what = cases.what
    inputs = _shapes(image, kernel)
    if not float32_inputs and isinstance(got, np.ndarray) and got.dtype == np.float32:
        cases.fail(f"{what} für image {shp(image.shape)}, kernel {shp(kernel.shape)} lieferte dtype float32 "
                   f"für float64-Eingaben, erwartet war float64. {FLOAT32_HINT}", label)
        return
    try:
        got = expect_array(got, what=what, dtypes=("float32", "float64") if float32_inputs else FLOAT64,
                           inputs=inputs)
    except CheckFailed as exc:
        cases.fail(str(exc), label)
        return
    tolerance = {"rtol": 1e-4, "atol": 1e-5} if float32_inputs else {}
    cases.close(got, torch_conv2d(image, kernel), inputs=inputs, label=label,
                mistakes=partial(forward_mistakes, image, kernel, got, hint_suffix), **tolerance)


# -------------------------------------------------------------------- part b
class GradCases:
    """The two results of h_conv2d_grad, each judged over all cases of a test."""

    def __init__(self, what: str = "h_conv2d_grad(image, kernel, grad_output)", source: str = "") -> None:
        self.what = what
        self.image = Cases(f"grad_image von {what}{source}")
        self.kernel = Cases(f"grad_kernel von {what}{source}")

    def __enter__(self) -> "GradCases":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            verdicts(self.image, self.kernel)


def _grads_right(got: Any, want_image: np.ndarray, want_kernel: np.ndarray) -> bool:
    return (isinstance(got, (tuple, list)) and len(got) == 2 and _same(got[0], want_image)
            and _same(got[1], want_kernel))


def grad_case(cases: GradCases, student: Any, image: np.ndarray, kernel: np.ndarray, grad_output: np.ndarray, *,
              reference: str = "torch", label: str = "") -> None:
    """One case of part b: right if h_conv2d_grad is right with the student's own
    h_conv2d or with a correct one in its place (part b is graded on what it adds).

    A ValueError/IndexError with C != O is a case the channel mistake explains
    (its rotated kernel does not fit grad_output's channels); any other
    exception ends the test with the engine's message.
    """
    O, C = kernel.shape[:2]
    try:
        runs = student.run(drive_h_conv2d_grad, image, kernel, grad_output)
    except StudentException as exc:
        if C != O and exc.type in ("ValueError", "IndexError"):
            cases.image.fail(student_error(exc), label=label, explained_by=[CHANNELS_NOT_SWAPPED])
            return
        raise
    if reference == "numeric":
        want_image, want_kernel = numeric_conv2d_grad(image, kernel, grad_output)
    else:
        want_image, want_kernel = torch_conv2d_grad(image, kernel, grad_output)
    if any(_grads_right(runs.get(key), want_image, want_kernel) for key in ("standin", "own")):
        cases.image.passed(label)
        cases.kernel.passed(label)
        return
    got = runs["standin"] if "standin" in runs else runs["own"]
    inputs = _shapes(image, kernel, grad_output=grad_output)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        size = f" der Länge {len(got)}" if isinstance(got, (tuple, list)) else ""
        cases.image.fail(f"{cases.what} für image {shp(image.shape)}, kernel {shp(kernel.shape)} lieferte "
                         f"{type(got).__name__}{size}, erwartet war ein Tupel (grad_image, grad_kernel).", label)
        return
    for group, value, want, mistakes in (
            (cases.image, got[0], want_image, lambda v: grad_image_mistakes(image, kernel, grad_output, v)),
            (cases.kernel, got[1], want_kernel, lambda v: grad_kernel_mistakes(image, kernel, grad_output))):
        try:
            value = expect_array(value, what=group.what, inputs=inputs)
        except CheckFailed as exc:
            group.fail(str(exc), label)
            continue
        group.close(value, want, inputs=inputs, label=label, mistakes=partial(mistakes, value))


# -------------------------------------------------------------------- part c
def _same(got: Any, want: Any, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """Both float arrays of one shape and equal within the tolerance."""
    return (isinstance(got, np.ndarray) and isinstance(want, np.ndarray) and got.shape == want.shape
            and got.dtype.kind == "f" and want.dtype.kind == "f"
            and bool(np.allclose(got, want, rtol=rtol, atol=atol)))


def _own_consistent(own: dict) -> tuple[bool, bool]:
    """(forward, backward) of conv2d agree with the student's own h_conv2d/h_conv2d_grad."""
    grads = own.get("own_grads")
    forward = own.get("type") == "Tensor" and _same(own.get("y"), own.get("own_y"))
    backward = (forward and own.get("error") is None and isinstance(grads, tuple) and len(grads) == 2
                and _same(own.get("image_grad"), grads[0]) and _same(own.get("kernel_grad"), grads[1]))
    return forward, backward


CONV2D_WHAT = "conv2d(Tensor(image), Tensor(kernel))"


class Conv2dCases:
    """Part c over several inputs: forward value and the two gradients, each one group."""

    def __init__(self) -> None:
        self.forward = Cases(f"{CONV2D_WHAT}.data")
        self.image = Cases(f"image.grad nach backward() durch {CONV2D_WHAT}")
        self.kernel = Cases(f"kernel.grad nach backward() durch {CONV2D_WHAT}")

    def __enter__(self) -> "Conv2dCases":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            verdicts(self.forward, self.image, self.kernel)


def conv2d_case(cases: Conv2dCases, student: Any, image: np.ndarray, kernel: np.ndarray,
                grad_output: np.ndarray, grad_seed: int) -> None:
    """One input of part c: what conv2d and Conv2dFunction do with h_conv2d/h_conv2d_grad.

    Judged with the stand-ins (right whatever parts a and b return), or, for a
    conv2d that does not call them by name, against the student's own
    functions. Failures that are the same for every input (no Tensor,
    requires_grad=False, a backward returning the wrong number or order of
    gradients) end the test at once.
    """
    got = student.run(drive_conv2d, image, kernel, grad_output, grad_seed)
    run, own = got["standin"], got["own"]
    if run.get("type") != "Tensor":
        raise CheckFailed(f"{CONV2D_WHAT} lieferte ein Objekt vom Typ {run.get('type')}, erwartet war ein "
                          f"autodiff-Tensor (return Conv2dFunction.apply(image, kernel)).", cause="type")
    own_forward, own_backward = _own_consistent(own)
    inputs = _shapes(image, kernel, grad_output=grad_output)
    want_y = torch_conv2d(image, kernel)
    if _same(run["y"], want_y) or own_forward:
        cases.forward.passed()
    elif not isinstance(run["y"], np.ndarray) or run["y"].dtype.kind != "f":
        cases.forward.fail(f"{CONV2D_WHAT}.data ist kein Gleitkomma-Array.{FROM_A_HINT}")
    else:
        # True by construction: h_conv2d was the stand-in, and conv2d's value differs from it.
        cases.forward.close(run["y"], want_y, inputs=inputs, mistakes=[
            Mistake("conv2d gibt nicht das Ergebnis von h_conv2d zurück", np.array(run["y"]),
                    FROM_A_HINT.strip(), id="conv2d_not_h_conv2d")])
    if not run["requires_grad"]:
        raise CheckFailed(f"{CONV2D_WHAT} lieferte einen Tensor mit requires_grad=False, obwohl beide Eingaben "
                          f"Gradienten brauchen; backward() erreicht image und kernel deshalb nicht. Bilden Sie "
                          f"das Ergebnis mit Conv2dFunction.apply(image, kernel) (nicht Tensor(h_conv2d(...))).",
                          cause="no_grad")
    if own_backward:
        cases.image.passed()
        cases.kernel.passed()
        return
    if run["error"] is not None:
        raw = run["raw_shapes"]
        if raw is not None and len(raw) == 2 and raw[0] == tuple(kernel.shape) and raw[1] == tuple(image.shape) \
                and image.shape != kernel.shape:
            raise CheckFailed(f"Conv2dFunction.backward gibt Gradienten der Formen {shp(raw[0])} und {shp(raw[1])} "
                              f"zurück, erwartet waren {shp(image.shape)} (für image) und {shp(kernel.shape)} "
                              f"(für kernel): vertauschte Reihenfolge (grad_kernel zuerst).{FROM_B_HINT}",
                              mistake=Mistake("backward gibt (grad_kernel, grad_image) zurück", None, SWAPPED_HINT,
                                              id="backward_swapped_order"))
        if raw is not None and len(raw) != 2:
            raise CheckFailed(f"Conv2dFunction.backward gibt {len(raw)} Gradienten zurück, forward hat aber zwei "
                              f"Eingaben (image, kernel).{FROM_B_HINT}", cause="backward_count")
        raise CheckFailed(f"backward() durch {CONV2D_WHAT} löste {error_text(run['error'])} aus (mit korrekten "
                          f"h_conv2d und h_conv2d_grad an Stelle Ihrer eigenen).{FROM_B_HINT}",
                          cause="backward_error")
    want_image, want_kernel = torch_conv2d_grad(image, kernel, run["g"])
    for name, group, want in (("image", cases.image, want_image), ("kernel", cases.kernel, want_kernel)):
        value = run[f"{name}_grad"]
        if value is None:
            raise CheckFailed(f"Nach backward() durch {CONV2D_WHAT} ist {name}.grad None: Der Gradient erreicht "
                              f"{name} nicht.{FROM_B_HINT}", cause="grad_none")
        try:
            value = expect_array(value, what=group.what, inputs=inputs)
        except CheckFailed as exc:
            group.fail(str(exc))
            continue
        other = want_kernel if name == "image" else want_image
        group.close(value, want, inputs=inputs, mistakes=[
            Mistake("Gradienten vertauscht (grad_image und grad_kernel)", other, SWAPPED_HINT + FROM_B_HINT,
                    id="backward_swapped_order")])


# -------------------------------------------------------------------- part d
@dataclass(frozen=True)
class ModuleCase:
    """A Conv2D check: `init` sizes for the statistics (large), `small` sizes
    and an input batch shape for forward/backward."""

    init: tuple[int, int, int]             # (in, out, k) of the module whose initialisation is measured
    small: tuple[int, int, int]            # (in, out, k) of the module run forward and backward
    batch: int
    size: int                              # square input: x is (batch, in, size, size)
    seed: int = 0

    @property
    def x_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.small[0], self.size, self.size)

    @property
    def probe_shape(self) -> tuple[int, int, int, int]:
        """An input whose output has as many columns as channels: a bias added without
        reshape then broadcasts along the columns and gives values instead of an error."""
        in_ch, out_ch, k = self.small
        return (self.batch, in_ch, self.size + 1, out_ch + k - 1)

    def __str__(self) -> str:
        return f"Conv2D{self.small}-x{self.x_shape}".replace(" ", "")


INIT_HINT = ("Initialisieren Sie weight und bias wie in Linear: rng().uniform(-bound, bound, size) mit "
             "bound = 1 / sqrt(fan_in) und fan_in = in_channels * kernel_size * kernel_size.")
REGISTER_HINT = ("Weisen Sie sie in __init__ als Parameter zu (self.weight = Parameter(...), self.bias = "
                 "Parameter(...) oder None), wie in Linear, damit named_parameters() sie findet.")
BIAS_HINT = ("Addieren Sie self.bias zu jedem Ausgangskanal: Formen Sie ihn vorher mit Tensor.reshape in "
             "(1, out_channels, 1, 1) um (self.bias.reshape(1, -1, 1, 1)), dann verteilt Broadcasting ihn "
             "über Batch, Zeilen und Spalten.")


def _check_parameter_names(params: list, sizes: tuple[int, int, int], bias: bool) -> dict[str, np.ndarray]:
    in_ch, out_ch, k = sizes
    call = f"Conv2D({in_ch}, {out_ch}, {k}{'' if bias else ', bias=False'})"
    want = {"weight": (out_ch, in_ch, k, k)}
    if bias:
        want["bias"] = (out_ch,)
    names = [name for name, _ in params]
    if sorted(names) != sorted(want):
        missing = [n for n in want if n not in names]
        problem = ("'bias' ist nicht als Parameter registriert" if missing == ["bias"] else
                   f"erwartet waren die Namen {', '.join(sorted(want))}")
        if not bias and "bias" in names:
            problem = "mit bias=False darf es keinen Bias-Parameter geben (setzen Sie self.bias = None)"
        found = ", ".join(names) if names else "keine"
        raise CheckFailed(f"{call}.named_parameters() liefert die Namen: {found}. Problem: {problem}. "
                          f"{REGISTER_HINT}", cause="parameters")
    arrays = dict(params)
    for name, shape in want.items():
        value = arrays[name]
        if not isinstance(value, np.ndarray) or tuple(value.shape) != shape:
            got = f"die Form {shp(value.shape)}" if isinstance(value, np.ndarray) else type(value).__name__
            raise CheckFailed(f"{call}: Der Parameter {name} hat {got}, erwartet war die Form {shp(shape)}.",
                              cause="parameter_shape")
    return arrays


def check_initialisation(weight: np.ndarray, bias: np.ndarray, sizes: tuple[int, int, int]) -> None:
    """uniform(-b, b) with b = 1/sqrt(in * k * k), for weight and bias.

    First the distribution's shape: the kurtosis mean(w^4)/mean(w^2)^2 is 1.8
    for a uniform and 3 for a normal distribution (standard error below 0.2
    for the >= 1,000 weights used), so 2.4 separates them and names a normal
    initialisation whatever its scale. Then every value within the bound,
    and mean and mean square of the weights within 5.5 standard errors of
    uniform(-b, b) (a correct initialisation fails with probability below
    1e-7); a fan_in off by the factor out/in, k*k or a missing sqrt lands far
    outside. The biases are too few for statistics; they must not all be
    close to zero.
    """
    in_ch, out_ch, k = sizes
    call = f"Conv2D({in_ch}, {out_ch}, {k})"
    fan_in = in_ch * k * k
    bound = 1 / np.sqrt(fan_in)
    w = weight.astype(np.float64).ravel()
    n = w.size
    mean_square = float(np.mean(w ** 2))
    kurtosis = float(np.mean(w ** 4) / mean_square ** 2) if mean_square > 0 else 0.0
    if kurtosis > 2.4:
        raise CheckFailed(
            f"{call}: Die {n} Gewichte sehen normalverteilt aus (Kurtosis {kurtosis:.2f}; gleichverteilt wäre "
            f"1.8, normalverteilt 3), mit Standardabweichung {np.sqrt(mean_square):.4g}. Verlangt ist eine "
            f"Gleichverteilung in [-b, b] mit b = 1/sqrt({fan_in}) = {bound:.4g}. {INIT_HINT}",
            mistake=Mistake("Normalverteilung statt Gleichverteilung", None, INIT_HINT, id="normal_init"))
    slack = 1e-12
    for name, values in (("weight", weight), ("bias", bias)):
        largest = float(np.max(np.abs(values)))
        if largest > bound + slack:
            raise CheckFailed(f"{call}: {name} hat Werte bis {largest:.4g} (Betrag), die Gleichverteilung erlaubt "
                              f"höchstens 1/sqrt(fan_in) = 1/sqrt({fan_in}) = {bound:.4g}: Die Grenze der "
                              f"Initialisierung ist zu groß (fan_in falsch?). {INIT_HINT}",
                              mistake=Mistake("Grenze der Initialisierung zu groß", None, INIT_HINT,
                                              id="init_bound_too_large"))
    ratio = mean_square / (bound ** 2 / 3)
    tolerance = 5.5 * 3 * np.sqrt(4 / 45) / np.sqrt(n)        # relative std of mean(w^2) is 0.894/sqrt(n)
    if abs(ratio - 1) > tolerance:
        raise CheckFailed(f"{call}: Die {n} Gewichte haben das mittlere Quadrat {mean_square:.4g}, "
                          f"uniform(-b, b) mit b = 1/sqrt({fan_in}) ergibt b^2/3 = {bound ** 2 / 3:.4g} (Verhältnis "
                          f"{ratio:.3g}, erlaubt 1 ± {tolerance:.3g}): Die Gewichte streuen zu "
                          f"{'wenig' if ratio < 1 else 'stark'} (falsche Grenze oder Verteilung?). {INIT_HINT}",
                          cause="init_spread")
    mean = float(np.mean(w))
    if abs(mean) > 5.5 * bound / np.sqrt(3 * n):
        raise CheckFailed(f"{call}: Die Gewichte haben den Mittelwert {mean:.4g}, weit weg von 0: Das Intervall "
                          f"muss symmetrisch sein, [-b, b]. {INIT_HINT}", cause="init_mean")
    floor = 10 ** (-7 / bias.size)       # all |bias| below floor * bound: probability 1e-7 if right
    if float(np.max(np.abs(bias))) < floor * bound:
        raise CheckFailed(f"{call}: Alle {bias.size} Bias-Werte sind betragsmäßig kleiner als {floor:.2g} * "
                          f"1/sqrt(fan_in) (Nullen oder eine zu kleine Grenze?). {INIT_HINT}", cause="init_bias")


class ModuleCases:
    """Part d over several inputs: output, bias.grad, and the gradients of weight and x."""

    def __init__(self) -> None:
        self.forward = Cases("Conv2D(...)(x)")
        self.bias_grad = Cases("bias.grad nach backward() durch Conv2D(...)(x)")
        self.grads = Cases("weight.grad und x.grad nach backward() durch Conv2D(...)(x)")

    def __enter__(self) -> "ModuleCases":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            verdicts(self.forward, self.bias_grad, self.grads)


BIAS_NO_RESHAPE = Mistake("Bias ohne reshape addiert (pro Spalte statt pro Ausgangskanal)", None, BIAS_HINT,
                          id="bias_without_reshape")


def _bias_mistakes(conv: np.ndarray, bias: np.ndarray) -> list[Mistake]:
    per_channel = bias.reshape(1, -1, 1, 1)
    mistakes = [Mistake("Bias nicht addiert", conv, BIAS_HINT, id="bias_not_added"),
                Mistake("Bias doppelt addiert", conv + 2 * per_channel, BIAS_HINT, id="bias_added_twice")]
    if conv.shape[3] == bias.size:
        mistakes.append(Mistake(BIAS_NO_RESHAPE.name, conv + bias, BIAS_HINT, id=BIAS_NO_RESHAPE.key))
    return mistakes


def check_conv2d_module(student: Any, cases: Sequence[ModuleCase], rng: np.random.Generator) -> None:
    """Part d: registration, initialisation, and forward/backward of Conv2D.

    Part d grades the module around conv2d: its forward and gradients must
    equal conv2d(x, weight) + bias with the trusted stand-in conv2d, or with
    the student's own conv2d (for a module that does not call conv2d by
    name). A mistake in parts a-c therefore costs nothing here. The bias
    gradient must be the sum of the upstream gradient over batch, rows and
    columns.
    """
    with ModuleCases() as groups:
        for case in cases:
            inputs = [read_only(rng.standard_normal(case.x_shape)), read_only(rng.standard_normal(case.probe_shape))]
            got = student.run(drive_conv2d_module, case.seed, list(case.init), list(case.small), inputs,
                              int(rng.integers(2**31)))
            _check_module_case(groups, got, case, inputs)


def _check_module_case(groups: ModuleCases, got: dict, case: ModuleCase, inputs: list[np.ndarray]) -> None:
    init_params = _check_parameter_names(got["init"], case.init, bias=True)
    _check_parameter_names(got["no_bias"], case.small, bias=False)
    in_ch, out_ch, k = case.small
    if got["no_bias_attr"] != "None":
        what = {"missing": "nicht vorhanden"}.get(got["no_bias_attr"], f"vom Typ {got['no_bias_attr']}")
        raise CheckFailed(f"Conv2D({in_ch}, {out_ch}, {k}, bias=False): module.bias ist {what}, erwartet war None "
                          f"(wie in Linear).", cause="no_bias_attr")
    check_initialisation(init_params["weight"], init_params["bias"], case.init)
    _check_parameter_names(got["params"], case.small, bias=True)
    weight, bias = got["weight"], got["bias"]
    per_channel = bias.reshape(1, -1, 1, 1)
    for index, (x, run, own, ref) in enumerate(zip(inputs, got["standin"], got["own"], got["ref"])):
        call = f"Conv2D({in_ch}, {out_ch}, {k})(x) für x {shp(x.shape)}"
        conv = torch_conv2d(x, weight)
        want_y = conv + per_channel
        ref_y = ref.get("y")
        own_ok = (own.get("type") == "Tensor" and isinstance(ref_y, np.ndarray) and ref_y.ndim == 4
                  and ref_y.shape[1] == out_ch and _same(own.get("y"), ref_y + per_channel))
        # ---- forward
        if _same(run.get("y"), want_y) or own_ok:
            groups.forward.passed()
        elif run.get("type") == "error":
            broadcast = run["error"]["type"] == "ValueError" and "broadcast" in run["error"]["message"]
            groups.forward.fail(f"{call} löste {error_text(run['error'])} aus.",
                                  explained_by=[BIAS_NO_RESHAPE]
                                  if broadcast and x.shape[3] - k + 1 != out_ch else [])
            continue
        elif run.get("type") != "Tensor":
            raise CheckFailed(f"{call} lieferte ein Objekt vom Typ {run.get('type')}, erwartet war ein "
                              f"autodiff-Tensor.", cause="type")
        else:
            groups.forward.close(run["y"], want_y, inputs={"x": x}, mistakes=partial(_bias_mistakes, conv, bias))
        # ---- gradients (of the first input only: the second one is there for the bias's shape)
        if index > 0:
            continue
        if run.get("g") is None:
            raise CheckFailed(f"{call} lieferte einen Tensor mit requires_grad=False: Die Gradienten erreichen "
                              f"weight, bias und x nicht.", cause="no_grad")
        if own_ok and _own_module_grads_ok(own, ref):
            groups.bias_grad.passed()
            groups.grads.passed()
            continue
        if run["error"] is not None:
            groups.grads.fail(f"backward() durch {call} löste {error_text(run['error'])} aus.")
            continue
        g = run["g"]
        bias_grad = run["bias_grad"]
        if bias_grad is None:
            groups.bias_grad.fail(f"Nach backward() durch {call} ist bias.grad None: Der Bias muss als Tensor zum "
                                  f"Ergebnis addiert werden (y + self.bias.reshape(1, -1, 1, 1)).")
        else:
            try:
                bias_grad = expect_array(bias_grad, shape=(out_ch,), what=groups.bias_grad.what)
                mistakes = [Mistake("Bias-Gradient gemittelt statt summiert", g.mean(axis=(0, 2, 3)), BIAS_HINT,
                                    id="bias_grad_mean")]
                if g.shape[3] == out_ch:     # the bias broadcast along the columns: its gradient sums the rest
                    mistakes.append(Mistake(BIAS_NO_RESHAPE.name, g.sum(axis=(0, 1, 2)), BIAS_HINT,
                                            id=BIAS_NO_RESHAPE.key))
                groups.bias_grad.close(bias_grad, g.sum(axis=(0, 2, 3)), mistakes=mistakes)
            except CheckFailed as exc:
                groups.bias_grad.fail(str(exc))
        want_x, want_w = torch_conv2d_grad(x, weight, g)
        for name, value, want in (("weight", run["weight_grad"], want_w), ("x", run["x_grad"], want_x)):
            if value is None:
                groups.grads.fail(f"Nach backward() durch {call} ist {name}.grad None: Der Gradient erreicht "
                                  f"{name} nicht. Verwenden Sie den Parameter self.weight selbst in conv2d "
                                  f"(keine Kopie, nicht .data).")
            elif not _same(value, want):
                groups.grads.fail(f"{name}.grad nach backward() durch {call} stimmt nicht mit "
                                  f"conv2d(x, weight) + bias überein.")
            else:
                groups.grads.passed()


def _own_module_grads_ok(own: dict, ref: dict) -> bool:
    """The unpatched module's gradients equal those of the student's own conv2d (and bias.grad the sum)."""
    g = own.get("g")
    return (own.get("error") is None and g is not None and _same(own.get("x_grad"), ref.get("x_grad"))
            and _same(own.get("weight_grad"), ref.get("weight_grad"))
            and _same(own.get("bias_grad"), g.sum(axis=(0, 2, 3))))


# -------------------------------------------------------------------- part e
PROBE_CASE = ConvCase(2, 3, 7, 6, 4, 3, 5)


def failing_earlier_parts(student: Any) -> list[str]:
    """Which of parts a and b give wrong results on one small case: the likely root
    cause of a low accuracy in part e. One sandbox call (a few milliseconds).

    The case is fixed (seed 41): this is a diagnosis, it awards no points.
    An import failure of ex41_conv.py or a timeout gives no diagnosis.
    """
    from grader.trusted.errors import StudentError

    image, kernel, grad_output = make_inputs(np.random.default_rng(41), PROBE_CASE)
    try:
        got = student.run(drive_parts_probe, image, kernel, grad_output, timeout=20)
    except StudentError:
        return []
    parts = []
    if not _same(got.get("a"), torch_conv2d(image, kernel)):
        parts.append("a")
    want = torch_conv2d_grad(image, kernel, grad_output)
    grads = got.get("b")
    if not (isinstance(grads, tuple) and _same(grads[0], want[0]) and _same(grads[1], want[1])):
        parts.append("b")
    return parts


def root_cause_text(parts: Sequence[str]) -> str:
    """The student-facing pointer to failing earlier parts (empty if none)."""
    if not parts:
        return ""
    names = {"a": "Teil a (h_conv2d)", "b": "Teil b (h_conv2d_grad)"}
    listed = " und ".join(names[p] for p in parts)
    verb = "liefert" if len(parts) == 1 else "liefern"
    return (f"Vermutliche Ursache: {listed} {verb} schon bei einem kleinen Beispiel falsche Ergebnisse "
            f"(siehe dort). Beheben Sie zuerst {'diesen Teil' if len(parts) == 1 else 'diese Teile'} und "
            f"trainieren Sie danach neu; längeres Training hilft hier nicht.")
