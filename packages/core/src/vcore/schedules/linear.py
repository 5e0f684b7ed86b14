r"""Linear beta schedules (Ho et al. 2020, "Denoising Diffusion Probabilistic Models", sec. 4).

DDPM uses T = 1000 betas spaced linearly from beta_1 = 1e-4 to beta_T = 0.02, so that

    ab_t = prod_{s<=t} (1 - beta_s)

falls from about 1 to about 4e-5. The "scaled linear" variant (latent diffusion, called
``scaled_linear`` in diffusers) spaces sqrt(beta) linearly instead: beta_t = (linspace of sqrt(beta))^2.

Schedules are append-only once released: a trained model is tied to the exact numbers its
schedule produced, so never change a default here; add a new function or argument instead.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _check_steps(num_steps: int) -> None:
    if num_steps < 1:
        raise ValueError(f"num_steps must be at least 1, got {num_steps}")


def linear_betas(num_steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> Tensor:
    """DDPM's betas beta_t = beta_start + (t - 1) (beta_end - beta_start) / (T - 1), t = 1..T (float64)."""
    _check_steps(num_steps)
    return torch.linspace(beta_start, beta_end, num_steps, dtype=torch.float64)


def scaled_linear_betas(
    num_steps: int = 1000, beta_start: float = 0.00085, beta_end: float = 0.012
) -> Tensor:
    """Betas whose square roots are linear: beta_t = (linspace(sqrt(beta_start), sqrt(beta_end), T)_t)^2."""
    _check_steps(num_steps)
    return torch.linspace(beta_start**0.5, beta_end**0.5, num_steps, dtype=torch.float64) ** 2
