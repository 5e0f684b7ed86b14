r"""PointNet encoder (Qi et al. 2017, "PointNet: Deep Learning on Point Sets for 3D Classification and
Segmentation") giving the Gaussian posterior q(z | X) = N(mu(X), diag exp(log_var(X))) of Luo & Hu 2021
(sec. 4.2).

A shared per-point MLP (1x1 convolutions with batch norm and ReLU) lifts every point to a feature vector,
a max over the points makes it permutation invariant, and two MLP heads map the pooled feature to mu and
log_var. Reference widths: 3-128-128-256-512 per point, heads 512-256-128-F.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn


def encoder_widths(base: int) -> tuple[int, ...]:
    """Per-point widths scaled to `base` (128 gives the reference 128-128-256-512)."""
    if base < 1:
        raise ValueError(f"width must be at least 1, got {base}")
    return (base, base, 2 * base, 4 * base)


def _head(dim_in: int, latent_dim: int) -> nn.Sequential:
    mid = max(dim_in // 2, 1)
    low = max(dim_in // 4, 1)
    return nn.Sequential(
        nn.Linear(dim_in, mid),
        nn.BatchNorm1d(mid),
        nn.ReLU(),
        nn.Linear(mid, low),
        nn.BatchNorm1d(low),
        nn.ReLU(),
        nn.Linear(low, latent_dim),
    )


class PointNetEncoder(nn.Module):
    """Clouds [B, N, 3] -> (mu [B, F], log_var [B, F]) of q(z | X)."""

    def __init__(self, latent_dim: int, widths: tuple[int, ...] = (128, 128, 256, 512), point_dim: int = 3):
        super().__init__()
        layers: list[nn.Module] = []
        dims = (point_dim, *widths)
        for i, (a, b) in enumerate(itertools.pairwise(dims)):
            layers += [nn.Conv1d(a, b, 1), nn.BatchNorm1d(b)]
            if i < len(widths) - 1:
                layers.append(nn.ReLU())
        self.features = nn.Sequential(*layers)
        self.mean = _head(widths[-1], latent_dim)
        self.log_var = _head(widths[-1], latent_dim)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        pooled = torch.amax(self.features(x.transpose(1, 2)), dim=2)
        return self.mean(pooled), self.log_var(pooled)
