r"""DDIM sampling on any `TimeGrid` (Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models", eq. 12).

Step i goes from level ab_t = ab_i to ab_s = ab_{i+1}:

    x_s = sqrt(ab_s) x0_hat + sqrt(1 - ab_s - sigma_i^2) eps_hat + sigma_i z,
    sigma_i = eta sqrt((1 - ab_s) / (1 - ab_t)) sqrt(1 - ab_t / ab_s)        (eq. 16),

with (x0_hat, eps_hat) from the model's prediction. eta = 0 is the deterministic DDIM (the Euler step of
the probability-flow ODE, see `vcore.samplers.ode`); eta = 1 gives DDPM's fixed_small variance with the
same marginals. Noise is drawn on every step whose sigma_i > 0, as in eq. 12 (with a clean final level
the last sigma is 0).

``clip_x0=c`` clamps x0_hat to [-c, c] and then re-derives eps_hat = (x_t - sqrt(ab_t) x0_hat) /
sqrt(1 - ab_t) from the clamped value, as improved-diffusion's ``ddim_sample`` does (diffusers:
``use_clipped_model_output=True``).

Without clipping or callback the step is folded into x_s = A_i x_t + B_i pred + sigma_i z with A_i, B_i
precomputed once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from vcore.diffusion.gaussian import Prediction
from vcore.samplers.grid import TimeGrid, noise_buffer, progress_range


def sample_ddim(
    model: Callable[..., Tensor],
    x: Tensor,
    grid: TimeGrid,
    extra_args: dict[str, Any] | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
    disable: bool | None = None,
    *,
    prediction: Prediction = "eps",
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    clip_x0: float | None = None,
) -> Tensor:
    """DDIM, Song, Meng & Ermon 2021 ("Denoising Diffusion Implicit Models"), eq. 12 with eta.

    Arguments as `vcore.samplers.ddpm.sample_ddpm`; `eta` in [0, 1] scales the injected noise.
    """
    if eta < 0:
        raise ValueError(f"eta must be non-negative, got {eta}")
    extra_args = {} if extra_args is None else extra_args
    ab, ab_next = grid.alpha_bar, grid.alpha_bar_next
    sigma = eta * ((1.0 - ab_next) / (1.0 - ab) * (1.0 - ab / ab_next)).clamp(min=0.0).sqrt()
    direction_sq = 1.0 - ab_next - sigma**2
    if bool((direction_sq < -1e-12).any()):
        raise ValueError(f"eta = {eta} makes sigma exceed sqrt(1 - alpha_bar_next); use eta <= 1")
    direction = direction_sq.clamp(min=0.0).sqrt()
    x0_x, x0_p, eps_x, eps_p = grid.prediction_coefficients(prediction)
    root_next = ab_next.sqrt()

    coef_x = (root_next * x0_x + direction * eps_x).tolist()
    coef_p = (root_next * x0_p + direction * eps_p).tolist()
    # After clipping: x_s = sqrt(ab_s) x0 + direction (x_t - sqrt(ab_t) x0) / sqrt(1 - ab_t).
    clip_x = (direction / (1.0 - ab).sqrt()).tolist()
    clip_0 = (root_next - direction * (ab / (1.0 - ab)).sqrt()).tolist()
    x0_x_f, x0_p_f = x0_x.tolist(), x0_p.tolist()
    sigma_f, times_f, ab_f = sigma.tolist(), grid.t.tolist(), ab.tolist()
    times = grid.model_times(x)
    noise = noise_buffer(x, generator) if any(s > 0.0 for s in sigma_f) else None
    explicit_x0 = clip_x0 is not None or callback is not None

    for i in progress_range(len(grid), disable):
        pred = model(x, times[i], **extra_args)
        if explicit_x0:
            x0 = (x * x0_x_f[i]).add_(pred, alpha=x0_p_f[i])
            if clip_x0 is not None:
                x0 = x0.clamp(-clip_x0, clip_x0)
            if callback is not None:
                callback({"i": i, "x": x, "t": times_f[i], "alpha_bar": ab_f[i], "x0": x0})
        if clip_x0 is not None:
            x_next = (x * clip_x[i]).add_(x0, alpha=clip_0[i])
        else:
            x_next = (x * coef_x[i]).add_(pred, alpha=coef_p[i])
        if noise is not None and sigma_f[i] > 0.0:
            x_next.add_(noise.normal_(generator=generator).to(x.device), alpha=sigma_f[i])
        x = x_next
    return x
