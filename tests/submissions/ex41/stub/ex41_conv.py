"""Aufgabe 41: a differentiable 2-D convolution (parts a-d).

Shapes used throughout (stride 1, no padding, dilation 1):

    image:       (B, C, H, W)
    kernel:      (O, C, kh, kw)
    output:      (B, O, H - kh + 1, W - kw + 1)

    out[b, o, i, j] = sum_{c, u, v} image[b, c, i + u, j + v] * kernel[o, c, u, v]

This is cross-correlation (the kernel is NOT flipped), exactly what
`torch.nn.functional.conv2d` computes. Parts a and b use NumPy only; parts c
and d use the course framework `autodiff` (read exercises/autodiff/engine.py
and the class Linear in exercises/autodiff/nn.py first).

Run the public tests with:  grade ex41
"""

from __future__ import annotations

import numpy as np

from autodiff import Function, Module, Parameter, Tensor, rng


def h_conv2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Part a: cross-correlation of a batch of images with a bank of kernels.

    image: (B, C, H, W), kernel: (O, C, kh, kw) -> (B, O, H - kh + 1, W - kw + 1).
    Do not modify the inputs; float64 inputs give a float64 result.
    """
    raise NotImplementedError("Teil a: h_conv2d ist noch nicht implementiert.")


def h_conv2d_grad(image: np.ndarray, kernel: np.ndarray,
                  grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Part b: gradients of L = sum(h_conv2d(image, kernel) * grad_output).

    image: (B, C, H, W), kernel: (O, C, kh, kw), grad_output: (B, O, H - kh + 1, W - kw + 1).
    Returns (grad_image (B, C, H, W), grad_kernel (O, C, kh, kw)), in this order.
    """
    raise NotImplementedError("Teil b: h_conv2d_grad ist noch nicht implementiert.")


class Conv2dFunction(Function):
    """Part c: the convolution as a Function of the course framework.

    forward gets the plain arrays (image, kernel) and returns h_conv2d's
    result; backward gets dL/d(output) and returns (dL/d(image), dL/d(kernel)).
    """

    @staticmethod
    def forward(ctx, image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        raise NotImplementedError("Teil c: Conv2dFunction.forward ist noch nicht implementiert.")

    @staticmethod
    def backward(ctx, grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError("Teil c: Conv2dFunction.backward ist noch nicht implementiert.")


def conv2d(image: Tensor, kernel: Tensor) -> Tensor:
    """Part c: differentiable cross-correlation of Tensors.

    image (B, C, H, W), kernel (O, C, kh, kw) -> (B, O, H - kh + 1, W - kw + 1);
    after backward() both image.grad and kernel.grad are set.
    """
    raise NotImplementedError("Teil c: conv2d ist noch nicht implementiert (Tipp: Conv2dFunction.apply).")


class Conv2D(Module):
    """Part d: y = conv2d(x, weight) + bias.  x: (B, in, H, W) -> y: (B, out, H - k + 1, W - k + 1).

    weight: (out, in, k, k), bias: (out,) or None; both Parameters, uniform in
    [-1/sqrt(fan_in), 1/sqrt(fan_in)] with fan_in = in * k * k, drawn from
    the framework's generator rng() (as in Linear).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True) -> None:
        super().__init__()
        raise NotImplementedError("Teil d: Conv2D.__init__ ist noch nicht implementiert.")

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError("Teil d: Conv2D.forward ist noch nicht implementiert.")
