"""Corpus variant 'loops': correct, elementwise Python loops."""

from __future__ import annotations

import math

import numpy as np


def optimal_discriminator(p_data, p_g):
    out = np.empty(p_data.shape)
    for idx in np.ndindex(p_data.shape):
        total = p_data[idx] + p_g[idx]
        out[idx] = 0.5 if total == 0 else p_data[idx] / total
    return out


def gan_value(d_real, d_fake):
    real = sum(math.log(d) for d in d_real) / len(d_real)
    fake = sum(math.log(1 - d) for d in d_fake) / len(d_fake)
    return real + fake


def js_divergence(p, q, dx):
    total = 0.0
    for pi, qi in zip(p, q):
        mi = (pi + qi) / 2
        if pi > 0:
            total += 0.5 * pi * math.log(pi / mi)
        if qi > 0:
            total += 0.5 * qi * math.log(qi / mi)
    return total * dx


def wgan_critic_loss(critic_real, critic_fake):
    return sum(critic_fake) / len(critic_fake) - sum(critic_real) / len(critic_real)


def wgan_generator_loss(critic_fake):
    return -sum(critic_fake) / len(critic_fake)


def clip_weights(weights, c):
    out = []
    for w in weights:
        new = w.copy()
        new[new > c] = c
        new[new < -c] = -c
        out.append(new)
    return out
