r"""The cosine schedule (Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models", eq. 17).

With offset s = 0.008 and f(t) = cos^2((t + s) / (1 + s) * pi / 2) for t in [0, 1],

    ab(t) = f(t) / f(0),

and the T discrete betas are beta_t = min(1 - ab(t / T) / ab((t - 1) / T), 0.999), t = 1..T. The clipping
at 0.999 prevents the singularity at t = 1, where ab(1) = 0 (diffusers calls this schedule
``squaredcos_cap_v2``).

The continuous log-SNR lambda(t) = log(ab / (1 - ab)) is computed without cancellation from
cos^2(a) - cos^2(b) = sin(b - a) sin(b + a):

    lambda(t) = 2 log cos(phi_t) - log sin(phi_t - phi_0) - log sin(phi_t + phi_0),
    phi_t = (t + s) / (1 + s) * pi / 2,

which decreases from +inf at t = 0 to -inf at t = 1.

Schedules are append-only once released: a trained model is tied to the exact numbers its
schedule produced, so never change a default here; add a new function or argument instead.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _phi(t: Tensor, s: float) -> Tensor:
    return (torch.as_tensor(t, dtype=torch.float64) + s) / (1.0 + s) * (math.pi / 2)


def cosine_alpha_bar(t: Tensor, s: float = 0.008) -> Tensor:
    """Continuous ab(t) = f(t) / f(0) with f(t) = cos^2((t + s) / (1 + s) pi / 2), t in [0, 1] (float64)."""
    return torch.cos(_phi(t, s)) ** 2 / math.cos(s / (1.0 + s) * math.pi / 2) ** 2


def cosine_log_snr(t: Tensor, s: float = 0.008) -> Tensor:
    """Continuous log-SNR lambda(t) = log(ab(t) / (1 - ab(t))) of the cosine schedule, t in [0, 1] (float64)."""
    phi = _phi(t, s)
    phi0 = s / (1.0 + s) * math.pi / 2
    return (
        2.0 * torch.log(torch.cos(phi)) - torch.log(torch.sin(phi - phi0)) - torch.log(torch.sin(phi + phi0))
    )


def cosine_betas(num_steps: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> Tensor:
    """The T betas min(1 - ab(t / T) / ab((t - 1) / T), max_beta), t = 1..T (float64)."""
    if num_steps < 1:
        raise ValueError(f"num_steps must be at least 1, got {num_steps}")
    grid = torch.arange(num_steps + 1, dtype=torch.float64) / num_steps
    f = torch.cos(_phi(grid, s)) ** 2
    return torch.clamp(1.0 - f[1:] / f[:-1], max=max_beta)
