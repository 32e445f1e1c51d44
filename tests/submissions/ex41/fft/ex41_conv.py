"""A correct submission computed with numpy.fft (circular correlation on an
H x W grid; the parts used never wrap around)."""

import numpy as np

from autodiff import Function, Module, Parameter, Tensor, rng


def _spectrum(a, H, W):
    return np.fft.rfft2(a, s=(H, W), axes=(2, 3))


def h_conv2d(image, kernel):
    B, C, H, W = image.shape
    O, _, kh, kw = kernel.shape
    prod = np.einsum("bchw,ochw->bohw", _spectrum(image, H, W), np.conj(_spectrum(kernel, H, W)))
    full = np.fft.irfft2(prod, s=(H, W), axes=(2, 3))
    return full[:, :, :H - kh + 1, :W - kw + 1].copy()


def h_conv2d_grad(image, kernel, grad_output):
    B, C, H, W = image.shape
    O, _, kh, kw = kernel.shape
    f_image, f_kernel, f_grad = _spectrum(image, H, W), _spectrum(kernel, H, W), _spectrum(grad_output, H, W)
    # grad_kernel: correlation of the image with grad_output, summed over the batch
    gk = np.fft.irfft2(np.einsum("bchw,bohw->ochw", f_image, np.conj(f_grad)), s=(H, W), axes=(2, 3))
    # grad_image: (linear) convolution of grad_output with the kernel
    gi = np.fft.irfft2(np.einsum("bohw,ochw->bchw", f_grad, f_kernel), s=(H, W), axes=(2, 3))
    return gi, gk[:, :, :kh, :kw].copy()


class Conv2dFunction(Function):
    @staticmethod
    def forward(ctx, image, kernel):
        ctx.save_for_backward(image, kernel)
        return h_conv2d(image, kernel)

    @staticmethod
    def backward(ctx, grad_output):
        image, kernel = ctx.saved_values
        return h_conv2d_grad(image, kernel, grad_output)


def conv2d(image, kernel):
    return Conv2dFunction.apply(image, kernel)


class Conv2D(Module):
    def __init__(self, in_channels, out_channels, kernel_size, bias=True):
        super().__init__()
        fan_in = in_channels * kernel_size ** 2
        b = 1.0 / np.sqrt(fan_in)
        self.weight = Parameter(rng().uniform(-b, b, size=(out_channels, in_channels, kernel_size, kernel_size)))
        self.bias = Parameter(rng().uniform(-b, b, size=(out_channels,))) if bias else None

    def forward(self, x):
        y = conv2d(x, self.weight)
        return y if self.bias is None else y + self.bias.reshape(1, -1, 1, 1)
