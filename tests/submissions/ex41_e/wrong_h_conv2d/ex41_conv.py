"""Wrong (part a): h_conv2d flips the kernel; the weights were trained with a correct one.

Part e must name part a as the likely root cause, not advise longer training.

Aufgabe 41: a differentiable 2-D convolution.

Shapes used throughout (stride 1, no padding, dilation 1):

    image:       (B, C, H, W)
    kernel:      (O, C, kh, kw)
    output:      (B, O, H - kh + 1, W - kw + 1)

    out[b, o, i, j] = sum_{c, u, v} image[b, c, i + u, j + v] * kernel[o, c, u, v]

This is cross-correlation, exactly `torch.nn.functional.conv2d`. The helpers
are vectorised (sliding windows + einsum) because the MNIST reference
model of part e is trained with them.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autodiff import Function, Module, Parameter, Tensor, rng


def h_conv2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Cross-correlation of a batch of images with a bank of kernels.

    image: (B, C, H, W), kernel: (O, C, kh, kw) -> (B, O, H - kh + 1, W - kw + 1).
    """
    kh, kw = kernel.shape[2:]
    windows = sliding_window_view(image, (kh, kw), axis=(2, 3))     # (B, C, H', W', kh, kw)
    return np.einsum("bcijuv,ocuv->boij", windows, kernel[:, :, ::-1, ::-1], optimize=True)  # flipped: wrong


def h_conv2d_grad(image: np.ndarray, kernel: np.ndarray,
                  grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of L = sum(h_conv2d(image, kernel) * grad_output).

    image: (B, C, H, W), kernel: (O, C, kh, kw), grad_output: (B, O, H', W').
    Returns (grad_image (B, C, H, W), grad_kernel (O, C, kh, kw)).

    grad_kernel[o, c, u, v] = sum_{b, i, j} image[b, c, i + u, j + v] * grad_output[b, o, i, j]
        (every output position contributes, summed over the batch);
    grad_image[b, c, y, x]  = sum_{o, u, v} grad_output[b, o, y - u, x - v] * kernel[o, c, u, v]
        (a "full" cross-correlation of the zero-padded grad_output with the
        kernel rotated by 180 degrees).
    """
    kh, kw = kernel.shape[2:]
    windows = sliding_window_view(image, (kh, kw), axis=(2, 3))       # (B, C, H', W', kh, kw)
    grad_kernel = np.einsum("boij,bcijuv->ocuv", grad_output, windows, optimize=True)

    padded = np.pad(grad_output, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    g_windows = sliding_window_view(padded, (kh, kw), axis=(2, 3))    # (B, O, H, W, kh, kw)
    flipped = kernel[:, :, ::-1, ::-1]
    grad_image = np.einsum("boyxuv,ocuv->bcyx", g_windows, flipped, optimize=True)
    return grad_image, grad_kernel


class Conv2dFunction(Function):
    """The convolution as a Function of the course framework: forward and
    backward are h_conv2d and h_conv2d_grad."""

    @staticmethod
    def forward(ctx, image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(image, kernel)
        return h_conv2d(image, kernel)

    @staticmethod
    def backward(ctx, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        image, kernel = ctx.saved_values
        return h_conv2d_grad(image, kernel, grad_output)


def conv2d(image: Tensor, kernel: Tensor) -> Tensor:
    """Differentiable cross-correlation: image (B, C, H, W), kernel (O, C, kh, kw)
    -> (B, O, H - kh + 1, W - kw + 1); backward reaches both inputs."""
    return Conv2dFunction.apply(image, kernel)


class Conv2D(Module):
    """y = conv2d(x, weight) + bias.  x: (B, in, H, W) -> y: (B, out, H - k + 1, W - k + 1).

    weight: (out, in, k, k), bias: (out,) or None; both uniform in
    [-1/sqrt(fan_in), 1/sqrt(fan_in)] with fan_in = in * k * k (as Linear).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True) -> None:
        super().__init__()
        fan_in = in_channels * kernel_size * kernel_size
        bound = 1 / np.sqrt(fan_in)
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = Parameter(rng().uniform(-bound, bound, size=shape))
        self.bias = Parameter(rng().uniform(-bound, bound, size=(out_channels,))) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        y = conv2d(x, self.weight)
        return y + self.bias.reshape(1, -1, 1, 1) if self.bias is not None else y
