"""conv_shapes in plain loops (a correct second style)."""
import math

import numpy as np


def conv_output_size(n, k, padding=0, stride=1):
    if k < 1:
        raise ValueError("k < 1")
    if stride < 1:
        raise ValueError("stride < 1")
    if padding < 0:
        raise ValueError("padding < 0")
    if k > n + 2 * padding:
        raise ValueError("kernel too large")
    return int(math.floor((n + 2 * padding - k) / stride)) + 1


def _two(v):
    if isinstance(v, int):
        return v, v
    return v[0], v[1]


def conv2d_strided(image, kernel, stride=1, padding=0):
    sh, sw = _two(stride)
    ph, pw = _two(padding)
    B, C, H, W = image.shape
    O, _, kh, kw = kernel.shape
    x = np.zeros((B, C, H + 2 * ph, W + 2 * pw))
    x[:, :, ph:ph + H, pw:pw + W] = image
    Ho = conv_output_size(H, kh, ph, sh)
    Wo = conv_output_size(W, kw, pw, sw)
    out = np.zeros((B, O, Ho, Wo))
    for b in range(B):
        for o in range(O):
            for i in range(Ho):
                for j in range(Wo):
                    patch = x[b, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
                    out[b, o, i, j] = np.sum(patch * kernel[o])
    return out


def _pool(x, kernel_size, stride, reduce):
    kh, kw = _two(kernel_size)
    sh, sw = _two(kernel_size if stride is None else stride)
    B, C, H, W = x.shape
    Ho, Wo = (H - kh) // sh + 1, (W - kw) // sw + 1
    out = np.zeros((B, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = reduce(x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw], axis=(2, 3))
    return out


def max_pool2d(x, kernel_size, stride=None):
    return _pool(x, kernel_size, stride, np.max)


def avg_pool2d(x, kernel_size, stride=None):
    return _pool(x, kernel_size, stride, np.mean)
