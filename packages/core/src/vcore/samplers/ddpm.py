r"""DDPM ancestral sampling on any `TimeGrid` (Ho et al. 2020, "Denoising Diffusion Probabilistic Models",
Alg. 2).

Step i goes from level ab_t = ab_i to ab_s = ab_{i+1} by drawing from the model's reverse transition

    p(x_s | x_t) = N(c0 x0_hat + ct x_t, sigma_i^2 I),

where (c0, ct, var) are the coefficients of the true posterior q(x_s | x_t, x_0) between the two grid
levels (`vcore.diffusion.gaussian.posterior_coefficients`), x0_hat comes from the model's prediction, and

* ``variance="fixed_small"``: sigma_i^2 = var = (1 - ab_s) / (1 - ab_t) * beta, the posterior variance
  (beta tilde), the lower bound of Ho et al. sec. 3.2;
* ``variance="fixed_large"``: sigma_i^2 = beta = 1 - ab_t / ab_s, the grid step's beta (upper bound).

On the full T-step grid beta is the schedule's beta_t; on a skipped or fractional grid it is the beta of
the combined step (diffusers' ``current_beta_t``). No noise is added on the last step (Alg. 2, z = 0 at
t = 1), so with ``final_alpha_bar = 1`` the result is the model's last x0_hat. ``clip_x0=c`` clamps x0_hat to
[-c, c] before it enters the mean (c = 1 for images in [-1, 1]; off by default, for unbounded data).

Without clipping or callback the step is folded into x_s = A_i x_t + B_i pred + sigma_i z, with A_i, B_i
precomputed once: two tensor operations per step besides the model and the noise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import torch
from torch import Tensor

from vcore.diffusion.gaussian import Prediction, posterior_coefficients
from vcore.samplers.grid import TimeGrid, noise_buffer, progress_range

Variance = Literal["fixed_small", "fixed_large"]


def sample_ddpm(
    model: Callable[..., Tensor],
    x: Tensor,
    grid: TimeGrid,
    extra_args: dict[str, Any] | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
    disable: bool | None = None,
    *,
    prediction: Prediction = "eps",
    generator: torch.Generator | None = None,
    variance: Variance = "fixed_small",
    clip_x0: float | None = None,
) -> Tensor:
    """Ancestral sampling, Ho et al. 2020 ("Denoising Diffusion Probabilistic Models"), Algorithm 2.

    `x` is the starting draw at level ``grid.alpha_bar[0]`` (N(0, I) for a full chain); the model is
    called as ``model(x, t, **extra_args)`` with t a `[batch]` float tensor of the grid's model time and
    returns a prediction of kind `prediction` ("eps", "x0" or "v"). `callback` receives
    ``{"i", "x", "t", "alpha_bar", "x0"}`` before each step moves x. ``disable=False`` shows a progress bar.
    """
    extra_args = {} if extra_args is None else extra_args
    ab, ab_next = grid.alpha_bar, grid.alpha_bar_next
    c0, ct, var = posterior_coefficients(ab, ab_next)
    if variance == "fixed_large":
        var = 1.0 - ab / ab_next
    elif variance != "fixed_small":
        raise ValueError(f"unknown variance {variance!r}; expected 'fixed_small' or 'fixed_large'")
    std = var.clamp(min=0.0).sqrt()
    std[-1] = 0.0
    x0_x, x0_p, _, _ = grid.prediction_coefficients(prediction)

    coef_x, coef_p = (c0 * x0_x + ct).tolist(), (c0 * x0_p).tolist()
    x0_x_f, x0_p_f, c0_f, ct_f = x0_x.tolist(), x0_p.tolist(), c0.tolist(), ct.tolist()
    std_f, times_f, ab_f = std.tolist(), grid.t.tolist(), ab.tolist()
    times = grid.model_times(x)
    noise = noise_buffer(x, generator) if any(s > 0.0 for s in std_f) else None
    explicit_x0 = clip_x0 is not None or callback is not None

    for i in progress_range(len(grid), disable):
        pred = model(x, times[i], **extra_args)
        if explicit_x0:
            x0 = (x * x0_x_f[i]).add_(pred, alpha=x0_p_f[i])
            if clip_x0 is not None:
                x0 = x0.clamp(-clip_x0, clip_x0)
            if callback is not None:
                callback({"i": i, "x": x, "t": times_f[i], "alpha_bar": ab_f[i], "x0": x0})
            x_next = (x * ct_f[i]).add_(x0, alpha=c0_f[i])
        else:
            x_next = (x * coef_x[i]).add_(pred, alpha=coef_p[i])
        if noise is not None and std_f[i] > 0.0:
            x_next.add_(noise.normal_(generator=generator).to(x.device), alpha=std_f[i])
        x = x_next
    return x
