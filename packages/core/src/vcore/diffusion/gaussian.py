r"""Closed forms of the Gaussian forward process and its posteriors (Ho et al. 2020, "Denoising
Diffusion Probabilistic Models", eqs. 4, 6, 7; Kingma et al. 2021, "Variational Diffusion Models", eq. 2).

With cumulative signal level :math:`\bar\alpha_t`, the forward marginal is

    q(x_t | x_0) = N(sqrt(ab_t) x_0, (1 - ab_t) I).

For two levels s < t (ab_s > ab_t) the transition is q(x_t | x_s) = N(sqrt(a) x_s, (1 - a) I) with
a = ab_t / ab_s, and the posterior is

    q(x_s | x_t, x_0) = N(c0 x_0 + ct x_t, var),
    c0  = sqrt(ab_s) (1 - a) / (1 - ab_t),
    ct  = sqrt(a) (1 - ab_s) / (1 - ab_t),
    var = (1 - a)(1 - ab_s) / (1 - ab_t).

With consecutive steps (a = alpha_t = 1 - beta_t) these are DDPM's posterior coefficients; with
skipped or fractional steps they are the same formula on the chosen grid.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

Prediction = Literal["eps", "x0", "v"]


def q_sample(x0: Tensor, alpha_bar: Tensor, noise: Tensor) -> Tensor:
    """Draw x_t ~ q(x_t | x_0) = N(sqrt(ab) x0, (1 - ab) I) given standard-normal `noise`.

    `alpha_bar` broadcasts against `x0` (shape `[B, 1, ...]` or a scalar).
    """
    return alpha_bar.sqrt() * x0 + (1.0 - alpha_bar).sqrt() * noise


def posterior_coefficients(alpha_bar_t: Tensor, alpha_bar_s: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Coefficients (c0, ct, var) of q(x_s | x_t, x_0) = N(c0 x0 + ct x_t, var) for levels s < t."""
    a = alpha_bar_t / alpha_bar_s
    one_minus_t = 1.0 - alpha_bar_t
    c0 = alpha_bar_s.sqrt() * (1.0 - a) / one_minus_t
    ct = a.sqrt() * (1.0 - alpha_bar_s) / one_minus_t
    var = (1.0 - a) * (1.0 - alpha_bar_s) / one_minus_t
    return c0, ct, var


def split_prediction(
    prediction: Tensor, x_t: Tensor, alpha_bar_t: Tensor, kind: Prediction
) -> tuple[Tensor, Tensor]:
    r"""Turn a network output into the pair (x0_hat, eps_hat) at level ab_t.

    x_t = sqrt(ab) x0 + sqrt(1 - ab) eps, and v = sqrt(ab) eps - sqrt(1 - ab) x0 (Salimans & Ho 2022,
    "Progressive Distillation for Fast Sampling of Diffusion Models", sec. 4), so
    x0 = sqrt(ab) x_t - sqrt(1 - ab) v and eps = sqrt(1 - ab) x_t + sqrt(ab) v.
    """
    sqrt_ab = alpha_bar_t.sqrt()
    sqrt_1m = (1.0 - alpha_bar_t).sqrt()
    if kind == "eps":
        eps = prediction
        x0 = (x_t - sqrt_1m * eps) / sqrt_ab
    elif kind == "x0":
        x0 = prediction
        eps = (x_t - sqrt_ab * x0) / sqrt_1m
    elif kind == "v":
        x0 = sqrt_ab * x_t - sqrt_1m * prediction
        eps = sqrt_1m * x_t + sqrt_ab * prediction
    else:
        raise ValueError(f"unknown prediction type {kind!r}; expected 'eps', 'x0' or 'v'")
    return x0, eps


def broadcast_to(values: Tensor, like: Tensor) -> Tensor:
    """Reshape a per-sample vector `[B]` (or a scalar) to broadcast against `like` `[B, ...]`."""
    if values.dim() == 0:
        return values.to(like.dtype)
    return values.to(like.dtype).reshape(values.shape[0], *([1] * (like.dim() - 1)))


def gaussian_kl(mean_q: Tensor, var_q: Tensor, mean_p: Tensor, var_p: Tensor) -> Tensor:
    """Elementwise KL(N(mean_q, var_q) || N(mean_p, var_p)) in nats."""
    return 0.5 * (torch.log(var_p / var_q) + (var_q + (mean_q - mean_p) ** 2) / var_p - 1.0)
