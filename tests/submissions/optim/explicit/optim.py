"""Optimisers written out per function, schedules by loops (a correct second style)."""
import numpy as np


def sgd_momentum_step(param, grad, velocity, lr, momentum=0.0, weight_decay=0.0):
    d_p = np.add(grad, np.multiply(weight_decay, param))
    buf = np.add(np.multiply(momentum, velocity), d_p)
    new = np.subtract(param, np.multiply(lr, buf))
    return new, buf


def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    beta1, beta2 = betas
    if weight_decay != 0:
        grad = grad + weight_decay * param
    exp_avg = m * beta1 + grad * (1 - beta1)
    exp_avg_sq = v * beta2 + grad ** 2 * (1 - beta2)
    bias_correction1 = 1 - beta1 ** t
    bias_correction2 = 1 - beta2 ** t
    step_size = lr / bias_correction1
    denom = np.sqrt(exp_avg_sq) / np.sqrt(bias_correction2) + eps
    return param - step_size * exp_avg / denom, exp_avg, exp_avg_sq


def adamw_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    shrunk = param * (1.0 - lr * weight_decay)
    return adam_step(shrunk, grad, m, v, t, lr=lr, betas=betas, eps=eps, weight_decay=0.0)


def step_lr(epoch, base_lr, step_size, gamma=0.1):
    lr = base_lr
    for e in range(1, epoch + 1):
        if e % step_size == 0:
            lr *= gamma
    return lr


def cosine_lr(epoch, base_lr, t_max, eta_min=0.0):
    return float(eta_min + 0.5 * (base_lr - eta_min) * (1.0 + np.cos(np.pi * epoch / t_max)))
