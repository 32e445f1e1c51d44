"""Aufgabe GAN: the minimax game, the optimal discriminator and WGAN losses.

Only numpy may be used. See tasks/gan.md for the full task.
All logarithms are natural logarithms (np.log). Never modify input arrays.
"""

from __future__ import annotations

import numpy as np


def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """D*(x) = p_data / (p_data + p_g) elementwise, 0.5 where both are 0. Same shape as the inputs."""
    # TODO
    raise NotImplementedError("optimal_discriminator ist noch nicht implementiert (Aufgabe GAN)")


def gan_value(d_real: np.ndarray, d_fake: np.ndarray) -> float:
    """V(D, G) = mean(log d_real) + mean(log(1 - d_fake)); d_real (n,), d_fake (m,) in (0, 1)."""
    # TODO
    raise NotImplementedError("gan_value ist noch nicht implementiert (Aufgabe GAN)")


def js_divergence(p: np.ndarray, q: np.ndarray, dx: float) -> float:
    """JSD(p || q) of two densities sampled on a grid with spacing dx; 0 * log(0) counts as 0."""
    # TODO: m = (p + q) / 2, JSD = 1/2 KL(p || m) + 1/2 KL(q || m), integrals as sums times dx
    raise NotImplementedError("js_divergence ist noch nicht implementiert (Aufgabe GAN)")


def wgan_critic_loss(critic_real: np.ndarray, critic_fake: np.ndarray) -> float:
    """WGAN critic loss mean(critic_fake) - mean(critic_real) (the critic minimises it)."""
    # TODO
    raise NotImplementedError("wgan_critic_loss ist noch nicht implementiert (Aufgabe GAN)")


def wgan_generator_loss(critic_fake: np.ndarray) -> float:
    """WGAN generator loss -mean(critic_fake) (the generator minimises it)."""
    # TODO
    raise NotImplementedError("wgan_generator_loss ist noch nicht implementiert (Aufgabe GAN)")


def clip_weights(weights: list[np.ndarray], c: float) -> list[np.ndarray]:
    """New arrays with every entry clipped to [-c, c]; the input arrays stay unchanged."""
    # TODO
    raise NotImplementedError("clip_weights ist noch nicht implementiert (Aufgabe GAN)")
