"""A correct submission written with plain Python loops (the slowest style that must pass)."""

import numpy as np

from autodiff import Function, Module, Parameter, Tensor, rng


def h_conv2d(image, kernel):
    B, C, H, W = image.shape
    O, _, kh, kw = kernel.shape
    Ho, Wo = H - kh + 1, W - kw + 1
    out = np.zeros((B, O, Ho, Wo))
    for b in range(B):
        for o in range(O):
            for i in range(Ho):
                for j in range(Wo):
                    total = 0.0
                    for c in range(C):
                        for u in range(kh):
                            for v in range(kw):
                                total += image[b, c, i + u, j + v] * kernel[o, c, u, v]
                    out[b, o, i, j] = total
    return out


def h_conv2d_grad(image, kernel, grad_output):
    B, C, H, W = image.shape
    O, _, kh, kw = kernel.shape
    Ho, Wo = H - kh + 1, W - kw + 1
    grad_image = np.zeros(image.shape)
    grad_kernel = np.zeros(kernel.shape)
    for b in range(B):
        for o in range(O):
            for i in range(Ho):
                for j in range(Wo):
                    g = grad_output[b, o, i, j]
                    for c in range(C):
                        for u in range(kh):
                            for v in range(kw):
                                grad_image[b, c, i + u, j + v] += g * kernel[o, c, u, v]
                                grad_kernel[o, c, u, v] += g * image[b, c, i + u, j + v]
    return grad_image, grad_kernel


class Conv2dFunction(Function):
    @staticmethod
    def forward(ctx, image, kernel):
        ctx.save_for_backward(image, kernel)
        return h_conv2d(image, kernel)

    @staticmethod
    def backward(ctx, grad_output):
        image, kernel = ctx.saved_values
        grad_image, grad_kernel = h_conv2d_grad(image, kernel, grad_output)
        return grad_image, grad_kernel


def conv2d(image, kernel):
    return Conv2dFunction.apply(image, kernel)


class Conv2D(Module):
    def __init__(self, in_channels, out_channels, kernel_size, bias=True):
        super().__init__()
        bound = 1 / np.sqrt(in_channels * kernel_size * kernel_size)
        self.weight = Parameter(rng().uniform(-bound, bound, (out_channels, in_channels, kernel_size, kernel_size)))
        if bias:
            self.bias = Parameter(rng().uniform(-bound, bound, (out_channels,)))
        else:
            self.bias = None

    def forward(self, x):
        out = conv2d(x, self.weight)
        if self.bias is not None:
            out = out + self.bias.reshape((1, -1, 1, 1))
        return out
