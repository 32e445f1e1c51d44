"""Hidden tests for the GAN exercise: the public checks on other, random inputs.

Inputs come from the `rng` fixture (seeded with the course's secret seed), so
hard-coding the public answers does not pay. Oracles and known mistakes are
the public test module's; messages hide input and expected values.
"""

from functools import partial
import numpy as np
import pytest

from grader.trusted.checks import assert_float_close
from exercises.tests.test_gan import (_densities_with_zeros, check_clip_weights, check_gan_value,
                                      check_one_js_divergence, check_optimal_discriminator, clip_case, gaussian_grid,
                                      wgan_critic_mistakes, wgan_generator_mistakes)


@pytest.mark.part("optimal_discriminator")
@pytest.mark.parametrize("case", range(3))
def test_optimal_discriminator_hidden(student, rng, case):
    shape = (int(rng.integers(4, 9)),) + tuple(int(n) for n in rng.integers(2, 9, size=case))
    p_data, p_g = _densities_with_zeros(rng, shape)
    p_data *= rng.uniform(0.1, 10.0)
    check_optimal_discriminator(student.gan.optimal_discriminator(p_data, p_g), p_data, p_g)


@pytest.mark.part("optimal_discriminator")
def test_optimal_discriminator_gaussians_hidden(student, rng):
    x = np.linspace(-80.0, 80.0, int(rng.integers(400, 800)))
    p_data = gaussian_grid(rng.uniform(-3, 3), rng.uniform(0.5, 1.5), x)
    p_g = gaussian_grid(rng.uniform(-3, 3), rng.uniform(0.5, 1.5), x)
    check_optimal_discriminator(student.gan.optimal_discriminator(p_data, p_g), p_data, p_g)


@pytest.mark.part("gan_value")
@pytest.mark.parametrize("case", range(3))
def test_gan_value_hidden(student, rng, case):
    n, m = (int(v) for v in rng.integers(2, 60, size=2))
    d_real, d_fake = rng.uniform(0.01, 0.99, n), rng.uniform(0.01, 0.99, m)
    check_gan_value(student.gan.gan_value(d_real, d_fake), d_real, d_fake)


@pytest.mark.part("js_divergence")
@pytest.mark.parametrize("case", range(3))
def test_js_divergence_gaussians_hidden(student, rng, case):
    """p narrower than q, so p is exactly 0 at the grid's ends and q > 0 wherever p > 0."""
    x = np.linspace(-50.0, 50.0, int(rng.integers(1500, 3500)))
    dx = float(x[1] - x[0])
    s_p = rng.uniform(0.6, 1.1)
    p = gaussian_grid(rng.uniform(-2, 2), s_p, x)
    q = gaussian_grid(rng.uniform(-2, 2), s_p + rng.uniform(0.4, 1.0), x)
    check_one_js_divergence(student.gan.js_divergence(p, q, dx), p, q, dx,
                            f"js_divergence(p, q, dx) für zwei Normalverteilungen auf {x.size} Gitterpunkten")


@pytest.mark.part("js_divergence")
def test_js_divergence_overlap_hidden(student, rng):
    dx = 0.1
    x = np.arange(0.0, 10.0, dx)
    a, b = sorted(rng.uniform(0.5, 6.0, 2))
    p = np.where((x >= 1.0) & (x < 1.0 + a), 1.0, 0.0)
    q = np.where((x >= b) & (x < b + 3.0), 1.0, 0.0)
    p, q = p / (p.sum() * dx), q / (q.sum() * dx)
    check_one_js_divergence(student.gan.js_divergence(p, q, dx), p, q, dx,
                            "js_divergence(p, q, dx) für zwei Gleichverteilungen auf Intervallen")


@pytest.mark.part("wgan_losses", weight=0.5)
@pytest.mark.parametrize("case", range(2))
def test_wgan_critic_loss_hidden(student, rng, case):
    n, m = (int(v) for v in rng.integers(2, 50, size=2))
    real, fake = rng.normal(rng.uniform(-2, 2), 1.0, n), rng.normal(rng.uniform(-2, 2), 1.0, m)
    assert_float_close(student.gan.wgan_critic_loss(real, fake), float(np.mean(fake) - np.mean(real)),
                       what="wgan_critic_loss(critic_real, critic_fake)", mistakes=partial(wgan_critic_mistakes, real, fake))


@pytest.mark.part("wgan_losses", weight=0.5)
@pytest.mark.parametrize("case", range(2))
def test_wgan_generator_loss_hidden(student, rng, case):
    fake = rng.normal(rng.uniform(0.3, 2.0) * rng.choice([-1, 1]), 1.0, int(rng.integers(2, 50)))
    assert_float_close(student.gan.wgan_generator_loss(fake), float(-np.mean(fake)),
                       what="wgan_generator_loss(critic_fake)", mistakes=partial(wgan_generator_mistakes, fake))


@pytest.mark.part("wgan_losses")
@pytest.mark.parametrize("case", range(2))
def test_clip_weights_hidden(student, rng, case):
    c = float(rng.choice([0.01, 0.05, 0.1, 1.0]))
    shapes = [tuple(int(n) for n in rng.integers(2, 6, size=int(rng.integers(1, 4)))) for _ in range(3)]
    check_clip_weights(student, clip_case(rng, shapes, c), c)
