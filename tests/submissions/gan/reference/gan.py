"""Minimax game, optimal discriminator and WGAN losses (reference solution, numpy only)."""

from __future__ import annotations

import numpy as np


def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) elementwise; 0.5 where both densities are 0.

    p_data, p_g: non-negative densities of the same shape; returns that shape.
    """
    total = p_data + p_g
    out = np.full(total.shape, 0.5)
    np.divide(p_data, total, out=out, where=total > 0)
    return out


def gan_value(d_real: np.ndarray, d_fake: np.ndarray) -> float:
    """Monte-Carlo estimate V(D, G) = mean(log D(x)) + mean(log(1 - D(G(z)))).

    d_real: (n,) discriminator outputs on real samples, d_fake: (m,) on
    generated samples, all in (0, 1). Natural logarithm.
    """
    return float(np.mean(np.log(d_real)) + np.mean(np.log1p(-d_fake)))


def _kl_to_mixture(p: np.ndarray, q: np.ndarray, dx: float) -> float:
    """KL(p || m) with m = (p + q) / 2 on a grid; terms with p = 0 contribute 0.

    log(p / m) is computed as log(2p / (p + q)): p + q >= p > 0 wherever p > 0,
    so the ratio stays finite even for the tiniest p, where 0.5 * (p + q)
    could round to 0.
    """
    mask = p > 0
    return float(np.sum(p[mask] * np.log(2 * p[mask] / (p[mask] + q[mask]))) * dx)


def js_divergence(p: np.ndarray, q: np.ndarray, dx: float) -> float:
    """Jensen-Shannon divergence (natural log) of two densities sampled with spacing dx.

    JSD(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m) with m = (p + q) / 2.
    """
    return 0.5 * _kl_to_mixture(p, q, dx) + 0.5 * _kl_to_mixture(q, p, dx)


def wgan_critic_loss(critic_real: np.ndarray, critic_fake: np.ndarray) -> float:
    """Critic loss mean(f(G(z))) - mean(f(x)): minimising it maximises the gap real - fake."""
    return float(np.mean(critic_fake) - np.mean(critic_real))


def wgan_generator_loss(critic_fake: np.ndarray) -> float:
    """Generator loss -mean(f(G(z))): the generator pushes the critic's score on fakes up."""
    return float(-np.mean(critic_fake))


def clip_weights(weights: list[np.ndarray], c: float) -> list[np.ndarray]:
    """New arrays with every entry clipped to [-c, c]; the inputs stay unchanged."""
    return [np.clip(w, -c, c) for w in weights]
