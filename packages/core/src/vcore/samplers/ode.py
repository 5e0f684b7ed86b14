r"""Probability-flow ODE samplers, Euler and Heun (Song et al. 2021, "Score-Based Generative Modeling through
Stochastic Differential Equations", sec. 4.3; Karras et al. 2022, "Elucidating the Design Space of
Diffusion-Based Generative Models", Alg. 1).

In the variables sigma = sqrt((1 - ab) / ab) and y = x / sqrt(ab) the forward marginal is
y = x_0 + sigma eps, and the probability-flow ODE of every such process is

    dy / dsigma = (y - D(y; sigma)) / sigma = eps_hat(y; sigma),

with D the denoiser x0_hat (Karras et al. eq. 3 with s = 1). Between grid levels ab_t -> ab_s, an Euler
step is y_s = y_t + (sigma_s - sigma_t) eps_hat; written back in x = sqrt(ab) y,

    x_s = sqrt(ab_s / ab_t) x_t + (sqrt(1 - ab_s) - sqrt(ab_s) sigma_t) eps_hat,

which is algebraically DDIM with eta = 0 (`vcore.samplers.ddim`). The samplers work in x so that nothing
is scaled by 1 / sqrt(ab) ~ 1e2..1e4 at the noisy end. Heun (Karras Alg. 1, no churn) averages the slope at
both ends of the step: a second model call at (x_s Euler, t_{i+1}), then x_s = sqrt(ab_s / ab_t) x_t +
(sqrt(1 - ab_s) - sqrt(ab_s) sigma_t) (eps_1 + eps_2) / 2. Into a clean final level (sigma = 0) the last
step is Euler, as in Alg. 1; into a noisy one it is corrected when the grid knows `t_final`.
Heun costs 2N - 1 model calls on an N-step grid ending at clean data.

``clip_x0=c`` clamps x0_hat and uses eps_hat = (x_t - sqrt(ab_t) x0_hat) / sqrt(1 - ab_t) of the clamped
value as the slope (as DDIM does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from vcore.diffusion.gaussian import Prediction
from vcore.samplers.grid import TimeGrid, prediction_coefficients, progress_range


class _Slope:
    """eps_hat = c x + d pred at a list of levels, with the clipped and x0-reporting variants."""

    def __init__(self, alpha_bar: Tensor, kind: Prediction, clip_x0: float | None) -> None:
        x0_x, x0_p, eps_x, eps_p = prediction_coefficients(alpha_bar, kind)
        self.x0_x, self.x0_p = x0_x.tolist(), x0_p.tolist()
        self.eps_x, self.eps_p = eps_x.tolist(), eps_p.tolist()
        self.inv_noise = (1.0 - alpha_bar).rsqrt().tolist()
        self.root_snr = (alpha_bar / (1.0 - alpha_bar)).sqrt().tolist()
        self.clip_x0 = clip_x0

    def eps(self, x: Tensor, pred: Tensor, i: int) -> Tensor:
        return (x * self.eps_x[i]).add_(pred, alpha=self.eps_p[i])

    def x0_and_eps(self, x: Tensor, pred: Tensor, i: int) -> tuple[Tensor, Tensor]:
        x0 = (x * self.x0_x[i]).add_(pred, alpha=self.x0_p[i])
        if self.clip_x0 is None:
            return x0, self.eps(x, pred, i)
        x0 = x0.clamp(-self.clip_x0, self.clip_x0)
        return x0, (x * self.inv_noise[i]).sub_(x0, alpha=self.root_snr[i])


def _euler_coefficients(grid: TimeGrid) -> tuple[list[float], list[float]]:
    """(A_i, C_i) of x_s = A_i x_t + C_i eps_hat for each step of the grid."""
    ab, ab_next = grid.alpha_bar, grid.alpha_bar_next
    scale = (ab_next / ab).sqrt()
    slope = (1.0 - ab_next).sqrt() - ab_next.sqrt() * grid.sigma
    return scale.tolist(), slope.tolist()


def sample_euler(
    model: Callable[..., Tensor],
    x: Tensor,
    grid: TimeGrid,
    extra_args: dict[str, Any] | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
    disable: bool | None = None,
    *,
    prediction: Prediction = "eps",
    generator: torch.Generator | None = None,
    clip_x0: float | None = None,
) -> Tensor:
    """Euler on the probability-flow ODE in sigma (Karras et al. 2022, Alg. 1 without the Heun correction).

    Arguments as `vcore.samplers.ddpm.sample_ddpm`; `generator` is accepted for a uniform signature and
    unused (the sampler is deterministic).
    """
    extra_args = {} if extra_args is None else extra_args
    scale, slope = _euler_coefficients(grid)
    here = _Slope(grid.alpha_bar, prediction, clip_x0)
    times, times_f, ab_f = grid.model_times(x), grid.t.tolist(), grid.alpha_bar.tolist()
    explicit_x0 = clip_x0 is not None or callback is not None

    for i in progress_range(len(grid), disable):
        pred = model(x, times[i], **extra_args)
        if explicit_x0:
            x0, eps = here.x0_and_eps(x, pred, i)
            if callback is not None:
                callback({"i": i, "x": x, "t": times_f[i], "alpha_bar": ab_f[i], "x0": x0})
            x = (x * scale[i]).add_(eps, alpha=slope[i])
        else:
            # Folded: A x + C (e_x x + e_p pred).
            x = (x * (scale[i] + slope[i] * here.eps_x[i])).add_(pred, alpha=slope[i] * here.eps_p[i])
    return x


def sample_heun(
    model: Callable[..., Tensor],
    x: Tensor,
    grid: TimeGrid,
    extra_args: dict[str, Any] | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
    disable: bool | None = None,
    *,
    prediction: Prediction = "eps",
    generator: torch.Generator | None = None,
    clip_x0: float | None = None,
) -> Tensor:
    """Heun's second-order method on the probability-flow ODE (Karras et al. 2022, Alg. 1, no churn).

    Arguments as `vcore.samplers.ddpm.sample_ddpm`; `generator` is accepted for a uniform signature and
    unused (the sampler is deterministic).
    """
    extra_args = {} if extra_args is None else extra_args
    n = len(grid)
    scale, slope = _euler_coefficients(grid)
    here = _Slope(grid.alpha_bar, prediction, clip_x0)
    there = _Slope(grid.alpha_bar_next, prediction, clip_x0)
    times, times_f, ab_f = grid.model_times(x), grid.t.tolist(), grid.alpha_bar.tolist()
    corrected = [True] * (n - 1) + [grid.final_alpha_bar < 1.0 and grid.t_final is not None]
    if corrected[-1] and grid.t_final is not None:
        times = (*times, torch.full_like(times[0], grid.t_final))
    explicit_x0 = clip_x0 is not None or callback is not None

    for i in progress_range(n, disable):
        pred = model(x, times[i], **extra_args)
        if explicit_x0:
            x0, eps = here.x0_and_eps(x, pred, i)
            if callback is not None:
                callback({"i": i, "x": x, "t": times_f[i], "alpha_bar": ab_f[i], "x0": x0})
        else:
            eps = here.eps(x, pred, i)
        x_euler = (x * scale[i]).add_(eps, alpha=slope[i])
        if not corrected[i]:
            x = x_euler
            continue
        pred_next = model(x_euler, times[i + 1], **extra_args)
        if clip_x0 is None:
            eps_next = there.eps(x_euler, pred_next, i)
        else:
            eps_next = there.x0_and_eps(x_euler, pred_next, i)[1]
        x = (x * scale[i]).add_(eps.add_(eps_next), alpha=0.5 * slope[i])
    return x
