"""Corpus variant 'where_style': correct, np.where with suppressed warnings, min/max clipping."""

from __future__ import annotations

import numpy as np


def optimal_discriminator(p_data, p_g):
    with np.errstate(divide="ignore", invalid="ignore"):
        d = p_data / (p_data + p_g)
    return np.where((p_data == 0) & (p_g == 0), 0.5, d)


def gan_value(d_real, d_fake):
    return np.log(d_real).mean() + np.log(1.0 - d_fake).mean()


def js_divergence(p, q, dx):
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_pm = np.where(p > 0, p * np.log(p / m), 0.0).sum() * dx
        kl_qm = np.where(q > 0, q * np.log(q / m), 0.0).sum() * dx
    return 0.5 * (kl_pm + kl_qm)


def wgan_critic_loss(critic_real, critic_fake):
    return critic_fake.mean() - critic_real.mean()


def wgan_generator_loss(critic_fake):
    return -critic_fake.mean()


def clip_weights(weights, c):
    return [np.minimum(np.maximum(w, -c), c) for w in weights]
