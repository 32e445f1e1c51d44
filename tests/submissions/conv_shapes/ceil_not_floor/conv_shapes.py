"""Stride, padding and pooling (reference solution).

Shapes: image (B, C, H, W), kernel (O, C, kh, kw). Every function computes
exactly what PyTorch computes (torch.nn.functional.conv2d, max_pool2d,
avg_pool2d) and returns a new float64 array for float64 inputs.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(value: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """An int or a (rows, cols) pair as a pair of ints."""
    if isinstance(value, (tuple, list)):
        rows, cols = value
        return int(rows), int(cols)
    return int(value), int(value)


def conv_output_size(n: int, k: int, padding: int = 0, stride: int = 1) -> int:
    """floor((n + 2 * padding - k) / stride) + 1 for one spatial axis."""
    if k < 1 or stride < 1 or padding < 0 or k > n + 2 * padding:
        raise ValueError(f"ungültige Größen: n={n}, k={k}, padding={padding}, stride={stride}")
    return -((k - n - 2 * padding) // stride) + 1


def _windows(x: np.ndarray, kh: int, kw: int, sh: int, sw: int) -> np.ndarray:
    """Windows (B, C, H', W', kh, kw) of x at the given strides (a view, nothing copied)."""
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]


def conv2d_strided(image: np.ndarray, kernel: np.ndarray, stride=1, padding=0) -> np.ndarray:
    """Cross-correlation with stride and zero padding on both sides, as torch.nn.functional.conv2d."""
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    padded = np.pad(image, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    _, _, kh, kw = kernel.shape
    windows = _windows(padded, kh, kw, sh, sw)
    return np.einsum("bcijuv,ocuv->boij", windows, kernel)


def _pool(x: np.ndarray, kernel_size, stride) -> np.ndarray:
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(kernel_size if stride is None else stride)
    return _windows(x, kh, kw, sh, sw)


def max_pool2d(x: np.ndarray, kernel_size, stride=None) -> np.ndarray:
    """Max pooling without padding, floor mode; stride None means stride = kernel_size."""
    return _pool(x, kernel_size, stride).max(axis=(-2, -1))


def avg_pool2d(x: np.ndarray, kernel_size, stride=None) -> np.ndarray:
    """Average pooling without padding, floor mode; stride None means stride = kernel_size."""
    return _pool(x, kernel_size, stride).mean(axis=(-2, -1))
