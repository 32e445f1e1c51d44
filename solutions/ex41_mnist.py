"""Aufgabe 41 e: classify MNIST digits with a CNN built from your Conv2D.

`build_model()` defines the network; `ex41_mnist_experiment.py` trains
exactly this model and saves its weights to `ex41_mnist_weights.npz` next to
this file. `predict` loads those weights and labels new images. Hand in
this file, `ex41_conv.py` and the weights file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autodiff import Flatten, Linear, MaxPool2D, ReLU, Sequential, Tensor
from ex41_conv import Conv2D

WEIGHTS_PATH = Path(__file__).with_name("ex41_mnist_weights.npz")
BATCH_SIZE = 500          # images per forward pass: bounds the memory predict needs


def build_model() -> Sequential:
    """The CNN for 28 x 28 grey images; x: (B, 1, 28, 28) -> logits (B, 10).

    conv 5x5 (1 -> 8)  -> ReLU -> 2x2 max-pool : (B, 8, 12, 12)
    conv 5x5 (8 -> 16) -> ReLU -> 2x2 max-pool : (B, 16, 4, 4)
    flatten -> linear 256 -> 64 -> ReLU -> linear 64 -> 10
    """
    return Sequential(
        Conv2D(1, 8, 5), ReLU(), MaxPool2D(2),
        Conv2D(8, 16, 5), ReLU(), MaxPool2D(2),
        Flatten(),
        Linear(16 * 4 * 4, 64), ReLU(),
        Linear(64, 10),
    )


_model: Sequential | None = None


def _load_model() -> Sequential:
    """Build the network once and fill it with the trained weights."""
    global _model
    if _model is None:
        if not WEIGHTS_PATH.is_file():
            raise FileNotFoundError(
                f"{WEIGHTS_PATH.name} fehlt neben ex41_mnist.py: Trainieren Sie das Modell mit "
                "ex41_mnist_experiment.py und geben Sie die Gewichtsdatei mit Ihrer Lösung ab."
            )
        model = build_model()
        with np.load(WEIGHTS_PATH, allow_pickle=False) as weights:
            model.load_state_dict({name: weights[name] for name in weights.files})
        _model = model.eval()
    return _model


def predict(images: np.ndarray) -> np.ndarray:
    """Predicted digits for a batch of images.

    images: (N, 1, 28, 28) float32 in [0, 1] (0 = background, as in training).
    Returns (N,) int64 labels in 0..9, the argmax of the network's logits.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1:] != (1, 28, 28):
        raise ValueError(f"predict: images muss die Form (N, 1, 28, 28) haben, nicht {images.shape}")
    model = _load_model()
    labels = np.empty(len(images), dtype=np.int64)
    for start in range(0, len(images), BATCH_SIZE):
        logits = model(Tensor(images[start:start + BATCH_SIZE])).data
        labels[start:start + BATCH_SIZE] = logits.argmax(axis=1)
    return labels
