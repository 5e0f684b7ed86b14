r"""A discrete-time noise schedule: betas and the quantities derived from them.

Ho et al. 2020 ("Denoising Diffusion Probabilistic Models"): alpha_t = 1 - beta_t and
ab_t = prod_{s<=t} alpha_s for t = 1..T. Index i of every tensor here is step t = i + 1, so
`alphas_cumprod[i]` = ab_{i+1}, matching diffusers' `DDPMScheduler` indexing (timestep i).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class DiscreteSchedule:
    """Betas of a T-step schedule (float64) and their cumulative products."""

    betas: Tensor

    def __post_init__(self) -> None:
        betas = torch.as_tensor(self.betas, dtype=torch.float64)
        if betas.dim() != 1 or betas.numel() == 0:
            raise ValueError("betas must be a non-empty 1-D tensor")
        if not bool(((betas > 0) & (betas < 1)).all()):
            raise ValueError("every beta must lie in (0, 1)")
        object.__setattr__(self, "betas", betas)

    @property
    def num_steps(self) -> int:
        return int(self.betas.numel())

    @property
    def alphas(self) -> Tensor:
        return 1.0 - self.betas

    @property
    def alphas_cumprod(self) -> Tensor:
        return torch.cumprod(self.alphas, dim=0)

    @property
    def alphas_cumprod_prev(self) -> Tensor:
        """ab_{t-1} for t = 1..T, with ab_0 = 1."""
        return torch.cat([torch.ones(1, dtype=torch.float64), self.alphas_cumprod[:-1]])

    @property
    def log_snr(self) -> Tensor:
        """lambda_t = log(ab_t / (1 - ab_t)), decreasing in t."""
        ab = self.alphas_cumprod
        return torch.log(ab) - torch.log1p(-ab)
