r"""Fractional training steps for a short inference schedule (Kong et al. 2021, "DiffWave: A Versatile
Diffusion Model for Audio Synthesis", appendix B, fast sampling).

A model trained on T steps with betas beta_1..beta_T (levels ab_t = prod_{s<=t} (1 - beta_s)) can sample
with a short, user-chosen list of S inference betas eta_1..eta_S, whose levels are
gamma_s = prod_{i<=s} (1 - eta_i). The model must then be told *which* training time each inference level
corresponds to. DiffWave aligns them by linear interpolation of the *square root* of the level between the
two neighbouring training steps: if ab_{t+1} <= gamma_s <= ab_t,

    t_s = t + (sqrt(ab_t) - sqrt(gamma_s)) / (sqrt(ab_t) - sqrt(ab_{t+1})),

so sqrt(ab) interpolated linearly at t_s gives back sqrt(gamma_s) exactly.

Times here use the 0-based index convention of `DiscreteSchedule` (time i is the level
``alphas_cumprod[i]``, i.e. training step i + 1), which is the diffusion-step index lmnt's DiffWave feeds
its step embedding; add 1 for the paper's 1-based t. An inference level outside [ab_T, ab_1] has no
neighbouring training steps and is rejected (no extrapolation).

The reverse process then runs on the inference levels gamma_s (not on the interpolated training levels):
see `vcore.samplers.grid.TimeGrid.from_fractional`.

Schedules are append-only once released: a trained model is tied to the exact numbers its
schedule produced, so never change a constant here; add a new one instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

DIFFWAVE_TRAIN_BETAS = (1e-4, 0.05, 50)
"""DiffWave base's training schedule: ``linear_betas(50, 1e-4, 0.05)`` as (beta_start, beta_end, T)."""

DIFFWAVE_FAST_BETAS = (0.0001, 0.001, 0.01, 0.05, 0.2, 0.5)
"""DiffWave base's six-step fast inference betas (paper appendix B; lmnt-com/diffwave's default)."""


def fractional_steps(
    train_betas: Tensor | Sequence[float], inference_betas: Tensor | Sequence[float]
) -> tuple[Tensor, Tensor]:
    """Fractional training times t_s and inference levels gamma_s, s = 1..S (increasing noise, float64)."""
    betas = torch.as_tensor(train_betas, dtype=torch.float64)
    eta = torch.as_tensor(inference_betas, dtype=torch.float64)
    if betas.dim() != 1 or betas.numel() < 2:
        raise ValueError("train_betas must be a 1-D sequence of at least 2 betas")
    if eta.dim() != 1 or eta.numel() < 1:
        raise ValueError("inference_betas must be a non-empty 1-D sequence")
    if not bool(((eta > 0) & (eta < 1)).all()):
        raise ValueError("every inference beta must lie in (0, 1)")
    train_levels = torch.cumprod(1.0 - betas, dim=0)
    levels = torch.cumprod(1.0 - eta, dim=0)
    outside = (levels > train_levels[0]) | (levels < train_levels[-1])
    if bool(outside.any()):
        s = int(torch.nonzero(outside)[0]) + 1
        raise ValueError(
            f"inference level gamma_{s} = {float(levels[s - 1]):.6g} lies outside the training levels "
            f"[{float(train_levels[-1]):.6g}, {float(train_levels[0]):.6g}]; no training step brackets it"
        )
    # t = the last training index whose level is still >= gamma_s, kept one short of the end so that
    # the pair (t, t + 1) exists; gamma_s == ab_T then gives t = T - 2 with a fraction of exactly 1.
    upper = (train_levels[None, :] >= levels[:, None]).sum(dim=1) - 1
    t = upper.clamp(max=betas.numel() - 2)
    root_hi = train_levels[t].sqrt()
    root_lo = train_levels[t + 1].sqrt()
    times = t.to(torch.float64) + (root_hi - levels.sqrt()) / (root_hi - root_lo)
    return times, levels
