"""Regularisation with binomial draws, np.where and an index-based early stop (a correct second style)."""
import numpy as np


def dropout_mask(shape, p, rng):
    return rng.binomial(1, 1.0 - p, size=shape).astype(bool)


def dropout_forward(x, keep_mask, p):
    scale = 1.0 / (1.0 - p)
    return np.where(keep_mask, x * scale, 0.0)


def dropout_backward(grad_out, keep_mask, p):
    return np.where(keep_mask, grad_out / (1.0 - p), 0.0)


def l2_penalty(weights, lam):
    total = 0.0
    grads = []
    for w in weights:
        flat = w.ravel()
        total += float(np.dot(flat, flat))
        grads.append(np.multiply(w, lam))
    return lam * total / 2.0, grads


def early_stopping(val_losses, patience, min_delta=0.0):
    if len(val_losses) == 0:
        raise ValueError("no losses")
    best_epoch = 0
    for epoch in range(1, len(val_losses)):
        if val_losses[epoch] < val_losses[best_epoch] - min_delta:
            best_epoch = epoch
        elif epoch - best_epoch >= patience:
            return epoch, best_epoch
    return len(val_losses) - 1, best_epoch
