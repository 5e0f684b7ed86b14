r"""Samplers for the diffusion time t in [0, 1) (or any interval), for Monte Carlo estimates of
E_{t ~ U(0,1)}[f(t)] and of its importance-sampled form E_{t ~ p}[f(t) / p(t)].

- `uniform_times`: i.i.d. t ~ U[0, 1).
- `antithetic_times`: pairs (u, 1 - u) (Hammersley & Morton 1956); exact for f linear, lower variance for
  f monotone.
- `low_discrepancy_times`: t_i = mod(u + i / B, 1) with one u ~ U[0, 1) for the whole batch (Kingma et al.
  2021, "Variational Diffusion Models", appendix "Low-discrepancy sampler"). Each t_i is marginally
  U[0, 1), so the batch mean stays unbiased, and exactly one t_i falls in each stratum [k/B, (k+1)/B).
- `uniform_timesteps`: integer steps t ~ U{1..T} for discrete-time bounds.
- `PiecewiseConstantDensity`: a proposal p(t) on [lo, hi] with constant density on equal bins, drawn by
  inverse CDF from any of the uniform draws above (so importance sampling composes with stratification).
  Its exact pdf is returned with every draw; the estimator f(t) / p(t) is unbiased for the integral of f
  whatever the bin weights, as long as p > 0 wherever f != 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor


def uniform_times(
    n: int,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """n i.i.d. draws t ~ U[0, 1)."""
    return torch.rand(n, generator=generator, dtype=dtype, device=device)


def antithetic_times(
    n: int,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """n draws in [0, 1) made of antithetic pairs (u, 1 - u); an odd n ends with one plain draw.

    1 - u lies in (0, 1]; the value 1 (only for u = 0) is folded back to 0 so every draw is in [0, 1).
    """
    half = torch.rand(n // 2, generator=generator, dtype=dtype, device=device)
    mirror = torch.remainder(1.0 - half, 1.0)
    pairs = torch.stack([half, mirror], dim=1).reshape(-1)
    if n % 2:
        pairs = torch.cat([pairs, torch.rand(1, generator=generator, dtype=dtype, device=device)])
    return pairs


def low_discrepancy_times(
    n: int,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """t_i = mod(u + i / n, 1), i = 0..n-1, u ~ U[0, 1) (VDM's low-discrepancy sampler)."""
    u = torch.rand(1, generator=generator, dtype=dtype, device=device)
    offsets = torch.arange(n, dtype=dtype, device=device) / n
    return torch.remainder(u + offsets, 1.0)


def uniform_timesteps(
    n: int,
    num_steps: int,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """n i.i.d. integer steps t ~ U{1, ..., num_steps} (int64)."""
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    return torch.randint(1, num_steps + 1, (n,), generator=generator, device=device)


@dataclass(frozen=True)
class PiecewiseConstantDensity:
    """A density on [lo, hi] that is constant on K equal bins, proportional to `weights` [K] (>= 0).

    pdf(t) = K w_k / ((hi - lo) sum_j w_j) for t in bin k. Draws come from uniforms u in [0, 1) through the
    inverse CDF, which is linear within each bin.
    """

    lo: float
    hi: float
    weights: Tensor

    def __post_init__(self) -> None:
        w = torch.as_tensor(self.weights, dtype=torch.float64)
        if w.dim() != 1 or w.numel() == 0:
            raise ValueError("weights must be a non-empty 1-D tensor")
        if not bool(torch.isfinite(w).all()) or bool((w < 0).any()) or float(w.sum()) <= 0.0:
            raise ValueError("weights must be finite, non-negative and not all zero")
        if not self.hi > self.lo:
            raise ValueError(f"need hi > lo, got lo={self.lo}, hi={self.hi}")
        object.__setattr__(self, "weights", w)

    @classmethod
    def from_function(
        cls, fn: Callable[[Tensor], Tensor], lo: float, hi: float, num_bins: int = 512
    ) -> PiecewiseConstantDensity:
        """Bin weights from a non-negative function evaluated at the bin midpoints (float64)."""
        edges = torch.linspace(lo, hi, num_bins + 1, dtype=torch.float64)
        mids = 0.5 * (edges[:-1] + edges[1:])
        return cls(lo, hi, fn(mids).detach().to(torch.float64))

    @property
    def num_bins(self) -> int:
        return int(self.weights.numel())

    @property
    def bin_probs(self) -> Tensor:
        return self.weights / self.weights.sum()

    def pdf(self, t: Tensor) -> Tensor:
        """Density at t (zero outside [lo, hi])."""
        k = self.num_bins
        width = (self.hi - self.lo) / k
        probs = self.bin_probs.to(device=t.device)
        idx = torch.clamp(torch.floor((t.to(torch.float64) - self.lo) / width).long(), 0, k - 1)
        inside = (t >= self.lo) & (t <= self.hi)
        return torch.where(inside, probs[idx] / width, torch.zeros((), dtype=torch.float64)).to(t.dtype)

    def sample(self, u: Tensor) -> tuple[Tensor, Tensor]:
        """Map uniforms u in [0, 1) to draws t and their pdf p(t) (both in u's dtype)."""
        k = self.num_bins
        width = (self.hi - self.lo) / k
        probs = self.bin_probs.to(device=u.device)
        cdf = torch.cat([torch.zeros(1, dtype=torch.float64, device=u.device), torch.cumsum(probs, 0)])
        cdf[-1] = 1.0
        u64 = u.to(torch.float64)
        idx = torch.clamp(torch.searchsorted(cdf, u64, right=True) - 1, 0, k - 1)
        p = probs[idx]
        frac = torch.clamp((u64 - cdf[idx]) / p, 0.0, 1.0)
        t = self.lo + (idx.to(torch.float64) + frac) * width
        return t.to(u.dtype), (p / width).to(u.dtype)
