"""Stride, padding and pooling (see tasks/conv_shapes.md).

Only NumPy may be used. Shapes: image/x (B, C, H, W), kernel (O, C, kh, kw).
stride, padding and kernel_size are an int or a pair (rows, cols) given as a
tuple or list. Every function returns a new array (float64 for float64 input)
and leaves its inputs unchanged; results equal PyTorch's
(torch.nn.functional.conv2d, max_pool2d, avg_pool2d).

Run the public tests with:  grade conv_shapes
"""

from __future__ import annotations

import numpy as np


def conv_output_size(n: int, k: int, padding: int = 0, stride: int = 1) -> int:
    """Output length of one spatial axis: floor((n + 2 * padding - k) / stride) + 1.

    Raises ValueError if k > n + 2 * padding, k < 1, stride < 1 or padding < 0.
    """
    # TODO
    raise NotImplementedError("conv_output_size ist noch nicht implementiert.")


def conv2d_strided(image: np.ndarray, kernel: np.ndarray, stride=1, padding=0) -> np.ndarray:
    """Cross-correlation with stride and zero padding on both sides, as torch.nn.functional.conv2d.

    image (B, C, H, W), kernel (O, C, kh, kw) -> (B, O, H', W') with
    H' = conv_output_size(H, kh, padding rows, stride rows), W' likewise for the columns.
    """
    # TODO
    raise NotImplementedError("conv2d_strided ist noch nicht implementiert.")


def max_pool2d(x: np.ndarray, kernel_size, stride=None) -> np.ndarray:
    """Maximum of every kernel_size window; stride None means stride = kernel_size; no padding, floor mode."""
    # TODO
    raise NotImplementedError("max_pool2d ist noch nicht implementiert.")


def avg_pool2d(x: np.ndarray, kernel_size, stride=None) -> np.ndarray:
    """Mean of every kernel_size window; stride None means stride = kernel_size; no padding, floor mode."""
    # TODO
    raise NotImplementedError("avg_pool2d ist noch nicht implementiert.")
