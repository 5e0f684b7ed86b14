r"""Diffusion losses as weighted ELBOs (Kingma & Gao 2023, "Understanding Diffusion Objectives as the ELBO
with Simple Data Augmentation", sec. 2-4, Table 1).

With log-SNR lambda_t = -gamma(t) (decreasing in t), z = alpha x + sigma eps, alpha^2 = sigmoid(lambda), the
weighted loss implemented here is

    L_w(x) = 1/2 E_{t ~ U(0,1), eps} [ w(lambda_t) (-d lambda / dt) ||eps - eps_hat(z_t; lambda_t)||^2 ]
           = 1/2 int w(lambda) E_eps ||eps - eps_hat||^2 d lambda,

a per-example sum over dimensions, in nats. w = 1 is VDM's continuous-time diffusion loss
(`vcore.bounds.vdm.diffusion_loss`, since -d lambda/dt = gamma'(t)), i.e. the ELBO up to its prior and
reconstruction terms. The integral form shows the loss depends on the schedule only through w and the
range of lambda; any proposal q over t or lambda with q > 0 where w > 0 gives the unbiased estimators

    (t ~ q(t))            1/2 w(lambda_t) (-d lambda / dt) / q(t) ||eps - eps_hat||^2   (`weighted_loss`)
    (lambda ~ q(lambda))  1/2 w(lambda) / q(lambda) ||eps - eps_hat||^2                (`weighted_loss_lambda`)

(t ~ U(0, 1) is q(t) = 1, the schedule's own density of lambda, p(lambda) = -dt / d lambda).

Weightings (Kingma & Gao, Table 1; functions of lambda, positive constants dropped where the table drops
them, the exact constants stated):

- ELBO (Kingma et al. 2021; Song et al. 2021):         w = 1.
- eps-MSE with the cosine schedule (Nichol & Dhariwal): w = sech(lambda / 2). For that schedule
  (lambda = -2 log tan(pi t / 2)) p(lambda) = sech(lambda / 2) / (2 pi), and E_t ||eps - eps_hat||^2 / 2 is
  exactly L_w with w = sech(lambda / 2) / (2 pi).
- v-MSE with the cosine schedule (Salimans & Ho 2022): w = exp(-lambda / 2); E_t ||v - v_hat||^2 / 2 is L_w
  with w = exp(-lambda / 2) / pi, since ||v - v_hat||^2 = (1 + exp(-lambda)) ||eps - eps_hat||^2.
- EDM (Karras et al. 2022): w = p_EDM(lambda) (exp(-lambda) + sigma_data^2) / sigma_data^2 with EDM's
  training distribution log sigma ~ N(P_mean, P_std^2), sigma = exp(-lambda / 2), i.e.
  p_EDM(lambda) = N(lambda; -2 P_mean, (2 P_std)^2) = N(lambda; 2.4, 2.4^2) for P_mean = -1.2, P_std = 1.2,
  sigma_data = 0.5. With lambda ~ p_EDM the estimator is EDM's loss lambda(sigma) ||D - x||^2 / 2.
- sigmoid (Kingma & Gao's proposal, monotone): w = sigmoid(-lambda + b), b a tuning constant.

`implied_weight` gives w for any schedule density and target (eps, x0, v): w = p(lambda) r(lambda), with
r = 1, exp(-lambda), 1 + exp(-lambda) respectively.

Proposals over lambda: `truncated_normal_lambda` (e.g. EDM's p_EDM restricted to the schedule's range) and
`sigmoid_lambda` (density proportional to the sigmoid weighting, drawn exactly by inverse CDF); for
anything else use `vcore.bounds.time_sampling.PiecewiseConstantDensity`. Each takes uniforms u in [0, 1),
so they compose with the antithetic and low-discrepancy samplers of `time_sampling`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from vcore.diffusion.gaussian import Prediction

_LOG_2PI = math.log(2.0 * math.pi)


def _flat_sum(x: Tensor) -> Tensor:
    return x.reshape(x.shape[0], -1).sum(dim=1)


def elbo_weight(lam: Tensor) -> Tensor:
    """w(lambda) = 1: the ELBO (VDM's diffusion loss)."""
    return torch.ones_like(lam)


def sigmoid_weight(lam: Tensor, bias: float) -> Tensor:
    """w(lambda) = sigmoid(-lambda + b), monotone decreasing in lambda (Kingma & Gao sec. 5)."""
    return torch.sigmoid(bias - lam)


def eps_cosine_weight(lam: Tensor) -> Tensor:
    """w(lambda) = sech(lambda / 2): eps-MSE under the cosine schedule (2 pi times the exact weight)."""
    return 1.0 / torch.cosh(0.5 * lam)


def v_cosine_weight(lam: Tensor) -> Tensor:
    """w(lambda) = exp(-lambda / 2): v-MSE under the cosine schedule (pi times the exact weight)."""
    return torch.exp(-0.5 * lam)


def normal_log_density(x: Tensor, mean: float, std: float) -> Tensor:
    """log N(x; mean, std^2)."""
    return -0.5 * (_LOG_2PI + 2.0 * math.log(std) + ((x - mean) / std) ** 2)


def edm_weight(lam: Tensor, sigma_data: float = 0.5, p_mean: float = -1.2, p_std: float = 1.2) -> Tensor:
    """w(lambda) = N(lambda; -2 P_mean, (2 P_std)^2) (exp(-lambda) + sigma_data^2) / sigma_data^2 (EDM)."""
    density = torch.exp(normal_log_density(lam, -2.0 * p_mean, 2.0 * p_std))
    return density * (torch.exp(-lam) + sigma_data**2) / sigma_data**2


def implied_weight(lam: Tensor, kind: Prediction, lam_density: Tensor) -> Tensor:
    """w(lambda) of the plain MSE on target `kind` with lambda drawn from density `lam_density` (at lam).

    1/2 E ||target - target_hat||^2 = L_w with w = p(lambda) r(lambda), r = 1 (eps), exp(-lambda) (x0),
    1 + exp(-lambda) (v), when every prediction is converted to eps_hat at the same z.
    """
    if kind == "eps":
        ratio = torch.ones_like(lam)
    elif kind == "x0":
        ratio = torch.exp(-lam)
    elif kind == "v":
        ratio = 1.0 + torch.exp(-lam)
    else:
        raise ValueError(f"unknown prediction type {kind!r}; expected 'eps', 'x0' or 'v'")
    return lam_density * ratio


def weighted_loss(
    eps: Tensor, eps_hat: Tensor, weight: Tensor, neg_dlam_dt: Tensor, time_density: Tensor | None = None
) -> Tensor:
    """Per-example [B] 1/2 w(lambda_t) (-d lambda/dt) / q(t) ||eps - eps_hat||^2, for t ~ q (default U(0, 1))."""
    scale = 0.5 * weight * neg_dlam_dt
    if time_density is not None:
        scale = scale / time_density
    return scale * _flat_sum((eps - eps_hat) ** 2)


def weighted_loss_lambda(eps: Tensor, eps_hat: Tensor, weight: Tensor, lam_density: Tensor) -> Tensor:
    """Per-example [B] 1/2 w(lambda) / q(lambda) ||eps - eps_hat||^2, for lambda drawn from the density q."""
    return 0.5 * weight / lam_density * _flat_sum((eps - eps_hat) ** 2)


def truncated_normal_lambda(
    u: Tensor, mean: float, std: float, lam_min: float, lam_max: float
) -> tuple[Tensor, Tensor]:
    """lambda ~ N(mean, std^2) restricted to [lam_min, lam_max], by inverse CDF of u in [0, 1): (lambda, pdf)."""
    if not lam_max > lam_min:
        raise ValueError(f"need lam_max > lam_min, got {lam_min}, {lam_max}")
    u64 = u.to(torch.float64)
    lo = torch.special.ndtr(torch.tensor((lam_min - mean) / std, dtype=torch.float64))
    hi = torch.special.ndtr(torch.tensor((lam_max - mean) / std, dtype=torch.float64))
    z = torch.special.ndtri(lo + u64 * (hi - lo))
    lam = torch.clamp(mean + std * z, lam_min, lam_max)
    pdf = torch.exp(normal_log_density(lam, mean, std)) / (hi - lo)
    return lam.to(u.dtype), pdf.to(u.dtype)


def _softplus_inverse(y: Tensor) -> Tensor:
    """x with softplus(x) = y > 0: log(expm1(y)) = y + log(-expm1(-y))."""
    return y + torch.log(-torch.expm1(-y))


def sigmoid_lambda(u: Tensor, bias: float, lam_min: float, lam_max: float) -> tuple[Tensor, Tensor]:
    """lambda with density sigmoid(b - lambda) / Z on [lam_min, lam_max], by inverse CDF: (lambda, pdf).

    The CDF is (softplus(b - lam_min) - softplus(b - lambda)) / Z, Z = softplus(b - lam_min) -
    softplus(b - lam_max).
    """
    if not lam_max > lam_min:
        raise ValueError(f"need lam_max > lam_min, got {lam_min}, {lam_max}")
    u64 = u.to(torch.float64)
    sp = torch.nn.functional.softplus
    top = sp(torch.tensor(bias - lam_min, dtype=torch.float64))
    bottom = sp(torch.tensor(bias - lam_max, dtype=torch.float64))
    z_norm = top - bottom
    lam = torch.clamp(bias - _softplus_inverse(top - u64 * z_norm), lam_min, lam_max)
    pdf = torch.sigmoid(bias - lam) / z_norm
    return lam.to(u.dtype), pdf.to(u.dtype)
