r"""The polynomial schedule of Hoogeboom et al. 2022 ("Equivariant Diffusion for Molecule Generation in 3D",
appendix B), defined on the T + 1 levels t = 0..T.

Start from the squared signal level of a polynomial, f_t = (1 - (t / T)^p)^2, which reaches 0 at t = T.
Clip every per-step ratio f_t / f_{t-1} (with f_{-1} = 1) from below at 0.001 and rebuild the levels as
the cumulative product of the clipped ratios, so that no single step destroys more than 99.9% of the
signal (this keeps the reverse step's 1 / alpha_{t|s} bounded). Finally keep the levels away from 0 and 1:

    ab_t = (1 - 2 s) f_t + s,   s = 1e-5 ("precision"),

so ab_0 = 1 - s and ab_T >= s. The paper's molecules use p = 2.

`polynomial_alpha_bar` returns all T + 1 levels, the first being the paper's nearly clean z_0 level;
`polynomial_betas` returns the T betas of a `DiscreteSchedule` whose `alphas_cumprod` equals levels
1..T, taking the clean data as level 0 (ab = 1), the convention of every other schedule here.

Schedules are append-only once released: a trained model is tied to the exact numbers its
schedule produced, so never change a default here; add a new function or argument instead.
"""

from __future__ import annotations

import torch
from torch import Tensor


def polynomial_alpha_bar(
    num_steps: int = 1000, power: float = 2.0, precision: float = 1e-5, clip_value: float = 1e-3
) -> Tensor:
    """Levels ab_0..ab_T (length T + 1, float64, decreasing) of the clipped polynomial schedule."""
    if num_steps < 1:
        raise ValueError(f"num_steps must be at least 1, got {num_steps}")
    if not 0.0 < precision < 0.5:
        raise ValueError(f"precision must lie in (0, 0.5), got {precision}")
    t = torch.arange(num_steps + 1, dtype=torch.float64) / num_steps
    f = (1.0 - t**power) ** 2
    ratios = f / torch.cat([torch.ones(1, dtype=torch.float64), f[:-1]])
    f = torch.cumprod(ratios.clamp(min=clip_value, max=1.0), dim=0)
    return (1.0 - 2.0 * precision) * f + precision


def polynomial_betas(
    num_steps: int = 1000, power: float = 2.0, precision: float = 1e-5, clip_value: float = 1e-3
) -> Tensor:
    """T betas with cumprod(1 - beta) = ab_1..ab_T of `polynomial_alpha_bar` (clean data at ab = 1)."""
    ab = polynomial_alpha_bar(num_steps, power, precision, clip_value)
    ab[0] = 1.0
    return 1.0 - ab[1:] / ab[:-1]
