"""Wrong (part b only): grad_kernel is returned as (C, O, kh, kw).

Part c wires h_conv2d_grad correctly and keeps its point although the engine would reject this shape.
"""

from __future__ import annotations

import numpy as np

from autodiff import Function, Module, Parameter, Tensor, rng


def _patches(image: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """im2col: every kh x kw window of image as one column.

    image: (B, C, H, W) -> (C * kh * kw, B * H' * W') with H' = H - kh + 1,
    W' = W - kw + 1; row (c, u, v), column (b, i, j) holds
    image[b, c, i + u, j + v]. Copying the windows in this order keeps the
    copy's inner loop on long image rows (fast).
    """
    windows = np.lib.stride_tricks.sliding_window_view(image, (kh, kw), axis=(2, 3))  # (B, C, H', W', kh, kw)
    B, C, H_out, W_out = windows.shape[:4]
    return windows.transpose(1, 4, 5, 0, 2, 3).reshape(C * kh * kw, B * H_out * W_out)


def h_conv2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Cross-correlation of a batch of images with a bank of kernels.

    image: (B, C, H, W), kernel: (O, C, kh, kw) -> (B, O, H - kh + 1, W - kw + 1).

    With P = _patches(image): out[b, o, i, j] = sum_{(c, u, v)} kernel[o, (c, u, v)] * P[(c, u, v), (b, i, j)],
    one matrix product (O, C*kh*kw) @ (C*kh*kw, B*H'*W').
    """
    O, C, kh, kw = kernel.shape
    B, H_out, W_out = image.shape[0], image.shape[2] - kh + 1, image.shape[3] - kw + 1
    image = image.astype(np.result_type(image, kernel), copy=False)  # copy the windows once, in the result's dtype
    out = kernel.reshape(O, C * kh * kw) @ _patches(image, kh, kw)     # (O, B * H' * W')
    return out.reshape(O, B, H_out, W_out).transpose(1, 0, 2, 3)


def h_conv2d_grad(image: np.ndarray, kernel: np.ndarray,
                  grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of L = sum(h_conv2d(image, kernel) * grad_output).

    image: (B, C, H, W), kernel: (O, C, kh, kw), grad_output: (B, O, H', W').
    Returns (grad_image (B, C, H, W), grad_kernel (O, C, kh, kw)).

    grad_kernel[o, c, u, v] = sum_{b, i, j} image[b, c, i + u, j + v] * grad_output[b, o, i, j]
        (every output position contributes, summed over the batch): one
        matrix product (O, B*H'*W') @ P^T with P = _patches(image);
    grad_image[b, c, y, x]  = sum_{o, u, v} grad_output[b, o, y - u, x - v] * kernel[o, c, u, v]
        (a "full" cross-correlation of the zero-padded grad_output with the
        kernel rotated by 180 degrees, its in and out channels swapped).
    """
    O, C, kh, kw = kernel.shape
    grad_rows = grad_output.transpose(1, 0, 2, 3).reshape(O, -1)                 # (O, B * H' * W')
    grad_kernel = (grad_rows @ _patches(image, kh, kw).T).reshape(O, C, kh, kw).transpose(1, 0, 2, 3)

    padded = np.pad(grad_output, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    rotated = kernel[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)                     # (C, O, kh, kw)
    grad_image = h_conv2d(padded, rotated)
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
