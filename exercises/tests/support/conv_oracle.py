"""Trusted side of exercise ex41 parts a-d: oracle, known mistakes, checks, drivers.

Everything the grader believes about a convolution comes from torch (float64)
or from central differences computed here, never from the student's process.
The public and the hidden tests share these helpers, so both recognise the
same mistakes with the same messages:

- part a: flipped kernel (true convolution), transposed output (H'/W' or
  B/O swapped), wrong output size ('same'/'full' padding);
- part b: batch not summed in grad_kernel (one sample only, or the mean),
  grad_image computed with the unflipped kernel, the two results swapped;
- part c: conv2d not differentiable, or not returning a Tensor;
- part d: parameters not registered or misnamed, initialisation bound,
  output not conv2d(x, weight) + bias.

The `drive_*` functions are sent as source code into the sandbox; they only
build Tensors, call the student's code and hand back what it computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from grader.checks import Mistake, assert_close, expect_array

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
                square_output: bool = False) -> ConvCase:
    """A random case that exposes every known mistake: B >= 2, B != O,
    kh != kw (both odd, at least one > 1), H != W.

    ``square_output`` (part c): H - kh == W - kw, so a transposed part a still
    wires up and part c grades only conv2d itself.
    """
    B = int(rng.integers(2, 5))
    O = int(rng.choice([o for o in range(1, 6) if o != B]))
    C = int(rng.integers(1, 5))
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


def torch_conv2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The expected forward result (cross-correlation), in float64."""
    with torch.no_grad():
        return torch.nn.functional.conv2d(_t(image), _t(kernel)).numpy()


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


# ------------------------------------------------------------ known mistakes
FLIPPED_HINT = ("h_conv2d computes cross-correlation, like torch.nn.functional.conv2d: "
                "out[b, o, i, j] = sum image[b, c, i + u, j + v] * kernel[o, c, u, v]. Do not flip the kernel.")
TRANSPOSED_HINT = ("The result is (B, O, H - kh + 1, W - kw + 1): rows (height) first, then columns. "
                   "Check the order of the output axes and of the loop indices.")
BATCH_OUT_HINT = "The result is (B, O, H', W'): batch first, then output channels."
PADDING_HINT = ("h_conv2d uses no padding ('valid'): the output is (B, O, H - kh + 1, W - kw + 1), "
                "with one position for every place the whole kernel fits into the image.")
FROM_A_HINT = " conv2d's forward should be h_conv2d from part a: call it in Conv2dFunction.forward."
FROM_B_HINT = " conv2d's backward should be h_conv2d_grad from part b: call it in Conv2dFunction.backward."
BATCH_SUM_HINT = ("grad_kernel must add the contributions of all samples of the batch "
                  "(L sums over the batch): sum over b, not the mean and not a single sample.")
UNFLIPPED_HINT = ("grad_image[b, c, y, x] = sum grad_output[b, o, y - u, x - v] * kernel[o, c, u, v]: a full "
                  "cross-correlation of the zero-padded grad_output with the kernel rotated by 180 degrees.")
SWAPPED_HINT = "Return (grad_image, grad_kernel) in this order."


def forward_mistakes(image: np.ndarray, kernel: np.ndarray, hint_suffix: str = "") -> list[Mistake]:
    """Known wrong forward results that have the right shape."""
    want = torch_conv2d(image, kernel)
    mistakes = [Mistake("flipped kernel (true convolution instead of cross-correlation)",
                        torch_conv2d(image, kernel[:, :, ::-1, ::-1]), FLIPPED_HINT + hint_suffix)]
    if want.shape[2] == want.shape[3]:
        mistakes.append(Mistake("transposed output (the axes H' and W' are swapped)",
                                want.transpose(0, 1, 3, 2), TRANSPOSED_HINT + hint_suffix))
    if want.shape[0] == want.shape[1]:
        mistakes.append(Mistake("transposed output (the batch and output-channel axes are swapped)",
                                want.transpose(1, 0, 2, 3), BATCH_OUT_HINT + hint_suffix))
    return mistakes


def forward_shape_mistakes(image_shape: Sequence[int], kernel_shape: Sequence[int]) -> dict[tuple, str]:
    """Wrong result shapes that a known mistake produces, with the message for each."""
    B, _, H, W = image_shape
    O, _, kh, kw = kernel_shape
    Ho, Wo = H - kh + 1, W - kw + 1
    known = {
        (B, O, H + kh - 1, W + kw - 1): "'full' padding (the output is larger than the image). " + PADDING_HINT,
        (B, O, H, W): "'same' padding (the output is as large as the image). " + PADDING_HINT,
        (O, B, Ho, Wo): "transposed output (the batch and output-channel axes are swapped). " + BATCH_OUT_HINT,
        (B, O, Wo, Ho): "transposed output (the axes H' and W' are swapped). " + TRANSPOSED_HINT,
        (B, O, H - kw + 1, W - kh + 1): "kh and kw swapped (the kernel's height used along the width). "
                                        + TRANSPOSED_HINT,
    }
    known.pop((B, O, Ho, Wo), None)        # a coincidence with the right shape is no mistake
    return known


def grad_image_mistakes(image: np.ndarray, kernel: np.ndarray, grad_output: np.ndarray,
                        hint_suffix: str = "") -> list[Mistake]:
    """Known wrong grad_image results with the right shape."""
    unflipped, _ = torch_conv2d_grad(image, kernel[:, :, ::-1, ::-1], grad_output)
    mistakes = [Mistake("grad_image computed with the unflipped kernel", unflipped, UNFLIPPED_HINT + hint_suffix)]
    if image.shape == kernel.shape:
        _, grad_kernel = torch_conv2d_grad(image, kernel, grad_output)
        mistakes.append(Mistake("swapped return order (grad_kernel returned first)", grad_kernel,
                                SWAPPED_HINT + hint_suffix))
    return mistakes


def grad_kernel_mistakes(image: np.ndarray, kernel: np.ndarray, grad_output: np.ndarray,
                         hint_suffix: str = "") -> list[Mistake]:
    """Known wrong grad_kernel results with the right shape."""
    grad_image, grad_kernel = torch_conv2d_grad(image, kernel, grad_output)
    B = image.shape[0]
    _, first = torch_conv2d_grad(image[:1], kernel, grad_output[:1])
    _, last = torch_conv2d_grad(image[-1:], kernel, grad_output[-1:])
    mistakes = [
        Mistake("batch not summed in grad_kernel (only the first sample is used)", first, BATCH_SUM_HINT + hint_suffix),
        Mistake("batch not summed in grad_kernel (only the last sample is used)", last, BATCH_SUM_HINT + hint_suffix),
        Mistake("batch not summed in grad_kernel (mean over the batch instead of the sum)", grad_kernel / B,
                BATCH_SUM_HINT + hint_suffix),
        Mistake("grad_kernel flipped (computed for a true convolution)", grad_kernel[:, :, ::-1, ::-1],
                "grad_kernel[o, c, u, v] = sum image[b, c, i + u, j + v] * grad_output[b, o, i, j]." + hint_suffix),
    ]
    if image.shape == kernel.shape:
        mistakes.append(Mistake("swapped return order (grad_image returned second)", grad_image,
                                SWAPPED_HINT + hint_suffix))
    return mistakes


# -------------------------------------------------------------------- checks
def _shapes(image: np.ndarray, kernel: np.ndarray, **more: np.ndarray) -> dict[str, np.ndarray]:
    return {"image": image, "kernel": kernel, **more}


def expect_conv_output(got: Any, image: np.ndarray, kernel: np.ndarray, *, what: str,
                       dtypes: Sequence[str] = FLOAT64, hint_suffix: str = "") -> np.ndarray:
    """Type, shape (naming known shape mistakes), dtype and finiteness of a forward result."""
    want_shape = (image.shape[0], kernel.shape[0], image.shape[2] - kernel.shape[2] + 1,
                  image.shape[3] - kernel.shape[3] + 1)
    inputs = _shapes(image, kernel)
    if isinstance(got, np.ndarray) and tuple(got.shape) != want_shape:
        named = forward_shape_mistakes(image.shape, kernel.shape).get(tuple(got.shape))
        if named is not None:
            raise AssertionError(f"{what} for image {image.shape}, kernel {kernel.shape} returned shape "
                                 f"{got.shape}, expected {want_shape}.\nThis looks like {named}{hint_suffix}")
    if dtypes == FLOAT64 and isinstance(got, np.ndarray) and got.dtype == np.float32:
        raise AssertionError(f"{what} for image {image.shape}, kernel {kernel.shape} returned dtype float32 "
                             f"for float64 inputs, expected float64 (float32 loses about half of the digits). "
                             f"Create result arrays with the input's dtype, e.g. np.zeros(shape) or "
                             f"np.zeros(shape, dtype=image.dtype).{hint_suffix}")
    return expect_array(got, shape=want_shape, what=what, dtypes=dtypes, inputs=inputs)


def check_forward(got: Any, image: np.ndarray, kernel: np.ndarray, *, what: str = "h_conv2d(image, kernel)",
                  hint_suffix: str = "") -> None:
    """Part a (and c's forward value): the result equals torch's conv2d."""
    float32_inputs = image.dtype == np.float32
    dtypes = ("float32", "float64") if float32_inputs else FLOAT64
    got = expect_conv_output(got, image, kernel, what=what, dtypes=dtypes, hint_suffix=hint_suffix)
    tolerance = {"rtol": 1e-4, "atol": 1e-5} if float32_inputs else {}
    assert_close(got, torch_conv2d(image, kernel), what=what, inputs=_shapes(image, kernel),
                 mistakes=forward_mistakes(image, kernel, hint_suffix), **tolerance)


def check_gradients(got_image: Any, got_kernel: Any, image: np.ndarray, kernel: np.ndarray,
                    grad_output: np.ndarray, *, what: str, reference: str = "torch",
                    hint_suffix: str = "") -> None:
    """Part b (and c's gradients): grad_image and grad_kernel equal the reference.

    reference: "torch" (autograd) or "numeric" (central differences).
    """
    inputs = _shapes(image, kernel, grad_output=grad_output)
    if (isinstance(got_image, np.ndarray) and isinstance(got_kernel, np.ndarray)
            and image.shape != kernel.shape
            and got_image.shape == kernel.shape and got_kernel.shape == image.shape):
        raise AssertionError(f"{what} for image {image.shape}, kernel {kernel.shape} returned shapes "
                             f"({got_image.shape}, {got_kernel.shape}), expected ({image.shape}, {kernel.shape}).\n"
                             f"This looks like swapped return order (grad_kernel returned first). "
                             f"{SWAPPED_HINT}{hint_suffix}")
    if reference == "numeric":
        want_image, want_kernel = numeric_conv2d_grad(image, kernel, grad_output)
        source = " (compared with a numeric gradient by central differences)"
    else:
        want_image, want_kernel = torch_conv2d_grad(image, kernel, grad_output)
        source = ""
    what_image, what_kernel = f"grad_image from {what}", f"grad_kernel from {what}"
    got_image = expect_array(got_image, shape=image.shape, what=what_image, inputs=inputs)
    got_kernel = expect_array(got_kernel, shape=kernel.shape, what=what_kernel, inputs=inputs)
    assert_close(got_image, want_image, what=what_image + source, inputs=inputs,
                 mistakes=grad_image_mistakes(image, kernel, grad_output, hint_suffix))
    assert_close(got_kernel, want_kernel, what=what_kernel + source, inputs=inputs,
                 mistakes=grad_kernel_mistakes(image, kernel, grad_output, hint_suffix))


def check_h_conv2d_grad_result(got: Any, image: np.ndarray, kernel: np.ndarray, grad_output: np.ndarray,
                               reference: str = "torch") -> None:
    """Part b: h_conv2d_grad returns a pair (grad_image, grad_kernel) of correct arrays."""
    what = "h_conv2d_grad(image, kernel, grad_output)"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        size = f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""
        raise AssertionError(f"{what} for image {image.shape}, kernel {kernel.shape} returned "
                             f"{type(got).__name__}{size}, expected a tuple (grad_image, grad_kernel).")
    check_gradients(got[0], got[1], image, kernel, grad_output, what=what, reference=reference)


# ------------------------------------------------------------------ part c
def drive_conv2d(image, kernel, grad_output):
    """In the sandbox: y = conv2d(image, kernel), then backward of sum(y * grad_output).

    Also returns the student's own h_conv2d and h_conv2d_grad results, so part
    c can grade the wiring (conv2d built on parts a and b) on its own.
    """
    import ex41_conv
    from autodiff import Tensor

    def own(fn, *args):
        try:
            return fn(*args)
        except Exception:  # noqa: BLE001 - graded in parts a and b
            return None

    x = Tensor(image, requires_grad=True)
    k = Tensor(kernel, requires_grad=True)
    y = ex41_conv.conv2d(x, k)
    if not isinstance(y, Tensor):
        return {"type": type(y).__name__}
    g = grad_output
    if tuple(y.data.shape) == tuple(g.shape[:2]) + tuple(g.shape[:1:-1]) != tuple(g.shape):
        g = g.swapaxes(2, 3).copy()  # a transposed part a: still check the wiring, in its shape
    result = {"type": "Tensor", "y": y.data, "requires_grad": bool(y.requires_grad),
              "image_grad": None, "kernel_grad": None,
              "own_y": own(ex41_conv.h_conv2d, image, kernel),
              # the upstream gradient reaches backward in y's dtype
              "own_grads": own(ex41_conv.h_conv2d_grad, image, kernel, g.astype(y.data.dtype))}
    if y.requires_grad and tuple(y.data.shape) == tuple(g.shape):
        (y * Tensor(g)).sum().backward()
        result["image_grad"], result["kernel_grad"] = x.grad, k.grad
    return result


def _same(got: Any, own: Any) -> bool:
    """``got`` equals the student's own part a/b result (an array of float dtype)."""
    return (isinstance(got, np.ndarray) and isinstance(own, np.ndarray) and got.shape == own.shape
            and got.dtype.kind == "f" and own.dtype.kind == "f" and bool(np.allclose(got, own, rtol=1e-6, atol=1e-8)))


def check_conv2d(student: Any, image: np.ndarray, kernel: np.ndarray, grad_output: np.ndarray) -> None:
    """Part c: conv2d returns a Tensor with the right value, and backward
    gives both inputs the right gradients."""
    what = "conv2d(Tensor(image), Tensor(kernel))"
    got = student.run(drive_conv2d, image, kernel, grad_output)
    if got.get("type") != "Tensor":
        raise AssertionError(f"{what} returned {got.get('type')}, expected an autodiff Tensor "
                             f"(return Conv2dFunction.apply(image, kernel)).")
    if not _same(got["y"], got.get("own_y")):  # else: consistent with part a, graded there
        check_forward(got["y"], image, kernel, what=f"{what}.data", hint_suffix=FROM_A_HINT)
    if not got["requires_grad"]:
        raise AssertionError(f"{what} returned a Tensor with requires_grad=False although both inputs require "
                             f"gradients, so backward() cannot reach image and kernel. Build the result with "
                             f"Conv2dFunction.apply(image, kernel) (not Tensor(h_conv2d(...))).")
    for name in ("image", "kernel"):
        if got[f"{name}_grad"] is None:
            raise AssertionError(f"After backward() through {what}, {name}.grad is None: the gradient does not "
                                 f"reach the {name}. Conv2dFunction.backward must return "
                                 f"(grad_image, grad_kernel), one gradient per input of forward.")
    own_grads = got.get("own_grads")
    if isinstance(own_grads, (tuple, list)) and len(own_grads) == 2 and \
            _same(got["image_grad"], own_grads[0]) and _same(got["kernel_grad"], own_grads[1]):
        return  # backward is the student's h_conv2d_grad: its values are graded in part b
    check_gradients(got["image_grad"], got["kernel_grad"], image, kernel, grad_output,
                    what=f"backward() through {what}", hint_suffix=FROM_B_HINT)


# ------------------------------------------------------------------ part d
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
    def out_shape(self) -> tuple[int, int, int, int]:
        k = self.small[2]
        return (self.batch, self.small[1], self.size - k + 1, self.size - k + 1)

    def __str__(self) -> str:
        return f"Conv2D{self.small}-x{self.x_shape}".replace(" ", "")


def drive_conv2d_module(seed, init, small, x, grad_output):
    """In the sandbox: build Conv2D modules, run one forward/backward, and run
    the student's own conv2d on the same weights for comparison."""
    import autodiff
    import ex41_conv
    from autodiff import Tensor

    def parameters(module):
        return [(str(name), p.data if isinstance(p, Tensor) else None) for name, p in module.named_parameters()]

    def error(exc):
        return f"{type(exc).__name__}: {exc}"[:500]

    autodiff.manual_seed(seed)
    big = ex41_conv.Conv2D(*init)
    no_bias = ex41_conv.Conv2D(*small, bias=False)
    result = {"init": parameters(big), "no_bias": parameters(no_bias),
              "no_bias_attr": "None" if getattr(no_bias, "bias", "missing") is None else
              ("missing" if not hasattr(no_bias, "bias") else type(no_bias.bias).__name__)}

    module = ex41_conv.Conv2D(*small)
    result["params"] = parameters(module)
    weight = getattr(module, "weight", None)
    bias = getattr(module, "bias", None)
    if not isinstance(weight, Tensor) or not isinstance(bias, Tensor):
        return result
    xt = Tensor(x, requires_grad=True)
    y = module(xt)
    result["type"] = type(y).__name__
    if not isinstance(y, Tensor):
        return result
    result["y"] = y.data
    result["weight"], result["bias"] = weight.data, bias.data

    # The student's own conv2d on copies of the same arrays: the reference for the module.
    # Its errors are graded in parts a-c; here they only mean "no reference from conv2d".
    x_ref, w_ref = Tensor(x, requires_grad=True), Tensor(weight.data.copy(), requires_grad=True)
    result["y_ref"] = result["ref_error"] = result["error"] = None
    try:
        y_ref = ex41_conv.conv2d(x_ref, w_ref)
        result["y_ref"] = y_ref.data if isinstance(y_ref, Tensor) else None
        if isinstance(y_ref, Tensor) and y_ref.requires_grad and tuple(y_ref.shape) == tuple(grad_output.shape):
            (y_ref * Tensor(grad_output)).sum().backward()
    except Exception as exc:
        result["ref_error"] = error(exc)
    result["x_grad_ref"], result["weight_grad_ref"] = x_ref.grad, w_ref.grad

    if y.requires_grad and tuple(y.data.shape) == tuple(grad_output.shape):
        try:
            (y * Tensor(grad_output)).sum().backward()
        except Exception as exc:
            result["error"] = error(exc)
    result["x_grad"], result["weight_grad"], result["bias_grad"] = xt.grad, weight.grad, bias.grad
    return result


INIT_HINT = ("Initialise weight and bias like Linear: rng().uniform(-bound, bound, size) with "
             "bound = 1 / sqrt(fan_in) and fan_in = in_channels * kernel_size * kernel_size.")
REGISTER_HINT = ("Assign them as Parameters in __init__ (self.weight = Parameter(...), self.bias = "
                 "Parameter(...) or None), as in Linear, so that named_parameters() finds them.")


def _check_parameter_names(params: list, sizes: tuple[int, int, int], bias: bool) -> dict[str, np.ndarray]:
    in_ch, out_ch, k = sizes
    call = f"Conv2D({in_ch}, {out_ch}, {k}{'' if bias else ', bias=False'})"
    want = {"weight": (out_ch, in_ch, k, k)}
    if bias:
        want["bias"] = (out_ch,)
    names = [name for name, _ in params]
    if sorted(names) != sorted(want):
        missing = [n for n in want if n not in names]
        problem = ("'bias' is not registered as a Parameter" if missing == ["bias"] else
                   f"expected the names {sorted(want)}")
        if not bias and "bias" in names:
            problem = "with bias=False there must be no bias parameter (set self.bias = None)"
        raise AssertionError(f"{call}.named_parameters() gives the names {names}: {problem}. {REGISTER_HINT}")
    arrays = dict(params)
    for name, shape in want.items():
        value = arrays[name]
        if not isinstance(value, np.ndarray) or tuple(value.shape) != shape:
            got = describe_shape(value)
            raise AssertionError(f"{call}: parameter {name!r} has {got}, expected shape {shape}.")
    return arrays


def describe_shape(value: Any) -> str:
    return f"shape {value.shape}" if isinstance(value, np.ndarray) else type(value).__name__


def check_initialisation(weight: np.ndarray, bias: np.ndarray, sizes: tuple[int, int, int]) -> None:
    """uniform(-b, b) with b = 1/sqrt(in * k * k), for weight and bias.

    Every value must lie within the bound. For the weights, mean and mean
    square must match uniform(-b, b) within 5.5 standard errors (a correct
    initialisation fails with probability below 1e-7); a fan_in off by the
    factor out/in, k*k or a missing sqrt lands far outside. The biases are
    too few for statistics; they must not all be close to zero.
    """
    in_ch, out_ch, k = sizes
    call = f"Conv2D({in_ch}, {out_ch}, {k})"
    fan_in = in_ch * k * k
    bound = 1 / np.sqrt(fan_in)
    slack = 1e-12
    for name, values in (("weight", weight), ("bias", bias)):
        largest = float(np.max(np.abs(values)))
        if largest > bound + slack:
            raise AssertionError(f"{call}: {name} has values up to {largest:.4g} in absolute value, but "
                                 f"uniform initialisation allows at most 1/sqrt(fan_in) = 1/sqrt({fan_in}) = "
                                 f"{bound:.4g}: the initialisation bound is too large (fan_in wrong?). {INIT_HINT}")
    n = weight.size
    z = 5.5
    mean_square = float(np.mean(weight.astype(np.float64) ** 2))
    ratio = mean_square / (bound ** 2 / 3)
    tolerance = z * 3 * np.sqrt(4 / 45) / np.sqrt(n)        # relative std of mean(w^2) is 0.894/sqrt(n)
    if abs(ratio - 1) > tolerance:
        raise AssertionError(f"{call}: the {n} weights have mean square {mean_square:.4g}, but uniform(-b, b) with "
                             f"b = 1/sqrt({fan_in}) gives b^2/3 = {bound ** 2 / 3:.4g} (ratio {ratio:.3g}; allowed "
                             f"1 +- {tolerance:.3g}): the weights are spread too "
                             f"{'narrowly' if ratio < 1 else 'widely'} (wrong bound or distribution?). {INIT_HINT}")
    mean = float(np.mean(weight))
    if abs(mean) > z * bound / np.sqrt(3 * n):
        raise AssertionError(f"{call}: the weights have mean {mean:.4g}, far from 0: the interval must be "
                             f"symmetric, [-b, b]. {INIT_HINT}")
    floor = 10 ** (-7 / bias.size)       # all |bias| below floor * bound: probability 1e-7 if right
    if float(np.max(np.abs(bias))) < floor * bound:
        raise AssertionError(f"{call}: all {bias.size} bias values are smaller than {floor:.2g} * 1/sqrt(fan_in) "
                             f"in absolute value (zeros, or a too small bound?). {INIT_HINT}")


def _close(a: Any, b: Any) -> bool:
    return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
            and a.dtype.kind == "f" and bool(np.allclose(a, b, rtol=1e-6, atol=1e-8)))


def check_conv2d_module(student: Any, case: ModuleCase, rng: np.random.Generator) -> None:
    """Part d: registration, initialisation, and forward/backward of Conv2D.

    The module is right if it computes conv2d(x, weight) + bias with either
    the true convolution (torch) or the student's own conv2d, and if its
    gradients agree with the same: part d grades the module around conv2d,
    conv2d itself is graded in part c, so a mistake in parts a-c is not
    charged twice. The bias gradient must be the sum of the upstream
    gradient. Inputs are square (H == W) so that even a transposed h_conv2d
    stays consistent here.
    """
    x = read_only(rng.standard_normal(case.x_shape))
    grad_output = read_only(rng.standard_normal(case.out_shape))
    got = student.run(drive_conv2d_module, case.seed, list(case.init), list(case.small), x, grad_output)

    init_params = _check_parameter_names(got["init"], case.init, bias=True)
    _check_parameter_names(got["no_bias"], case.small, bias=False)
    if got["no_bias_attr"] != "None":
        raise AssertionError(f"Conv2D({case.small[0]}, {case.small[1]}, {case.small[2]}, bias=False): "
                             f"module.bias is {got['no_bias_attr']}, expected None (as in Linear).")
    check_initialisation(init_params["weight"], init_params["bias"], case.init)
    _check_parameter_names(got["params"], case.small, bias=True)

    in_ch, out_ch, k = case.small
    call = f"Conv2D({in_ch}, {out_ch}, {k})(x) for x {case.x_shape}"
    if got.get("type") != "Tensor":
        raise AssertionError(f"{call} returned {got.get('type')}, expected an autodiff Tensor.")
    weight, bias = got["weight"], got["bias"]
    per_channel = bias.reshape(1, -1, 1, 1)
    want_true = torch_conv2d(x, weight) + per_channel
    y_ref = got["y_ref"]
    own_ok = (isinstance(y_ref, np.ndarray) and y_ref.ndim == 4 and y_ref.shape[1] == out_ch
              and y_ref.dtype.kind == "f")
    want_own = y_ref + per_channel if own_ok else None
    y = got["y"]
    if not (_close(y, want_true) or _close(y, want_own)):
        want, source = (want_own, "your conv2d(x, module.weight)") if own_ok else (want_true, "conv2d(x, weight)")
        conv = want - per_channel
        y = expect_array(y, shape=want.shape, what=call, dtypes=("float32", "float64"))
        assert_close(y, want, what=f"{call} (compared with {source} + module.bias per output channel)", mistakes=[
            Mistake("bias not added", conv, "Add self.bias to every output channel: reshape it to (1, out, 1, 1) "
                    "(Tensor.reshape) before adding."),
            Mistake("bias added twice", conv + 2 * per_channel, "")])

    # Gradients, checked against the same two references.
    if got["error"] is not None:
        if got["ref_error"] is not None:
            return                           # your conv2d fails too: graded in parts b and c
        raise AssertionError(f"backward() through {call} raised {got['error']}, although backward() through "
                             f"your conv2d works.")
    bias_grad = got["bias_grad"]
    if bias_grad is None:
        raise AssertionError(f"After backward() through {call}, bias.grad is None: the bias must be added to "
                             f"the output as a Tensor (y + self.bias.reshape(1, -1, 1, 1)).")
    bias_grad = expect_array(bias_grad, shape=(out_ch,), what=f"bias.grad after backward() through {call}")
    assert_close(bias_grad, np.asarray(grad_output).sum(axis=(0, 2, 3)),
                 what=f"bias.grad after backward() through {call}",
                 mistakes=[Mistake("bias gradient averaged instead of summed",
                                   np.asarray(grad_output).mean(axis=(0, 2, 3)), "")])
    true_grads = dict(zip(("x", "weight"), torch_conv2d_grad(x, weight, grad_output)))
    for name in ("weight", "x"):
        mine, ref, truth = got[f"{name}_grad"], got[f"{name}_grad_ref"], true_grads[name]
        what = f"{name}.grad after backward() through {call}"
        if _close(mine, truth) or (got["ref_error"] is None and (_close(mine, ref) or (mine is None and ref is None))):
            continue
        if mine is None:
            raise AssertionError(f"{what} is None: the gradient does not reach {name}. Use the Parameter "
                                 f"self.weight itself in conv2d (not a copy or its .data).")
        want = ref if isinstance(ref, np.ndarray) and got["ref_error"] is None else truth
        mine = expect_array(mine, shape=want.shape, what=what, dtypes=("float32", "float64"))
        assert_close(mine, want, what=f"{what} (compared with backward() through "
                     f"{'your conv2d' if want is ref else 'conv2d'})")
