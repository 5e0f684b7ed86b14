r"""An exponential moving average of a model's weights (Polyak & Juditsky 1992; as used by DDPM, Ho et al.
2020, and EDM, Hoogeboom et al. 2022, to sample from smoother weights than the last iterate).

After optimizer update number k (k = 1, 2, ...):

    theta_ema <- d_k theta_ema + (1 - d_k) theta,    d_k = min(decay, (1 + k) / (10 + k)),

starting from the initial weights. The warm-up factor (1 + k) / (10 + k) (TensorFlow's
`ExponentialMovingAverage` with `num_updates`) keeps the average from being dominated by the random
initial weights in short runs. Buffers (e.g. batch-norm statistics) are copied, not averaged.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import nn

from vcore.io.checkpoint import load_weights, save_weights


def ema_decay_at(decay: float, updates: int) -> float:
    """d_k = min(decay, (1 + k) / (10 + k)) for update number k >= 1."""
    return min(decay, (1.0 + updates) / (10.0 + updates))


class WeightAverage:
    """A frozen copy of `model` whose parameters track the exponential moving average of `model`'s."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        self.model.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, updates: int) -> None:
        """Fold in `model`'s weights after optimizer update number `updates` (1-based)."""
        weight = 1.0 - ema_decay_at(self.decay, updates)
        for average, current in zip(self.model.parameters(), model.parameters(), strict=True):
            average.lerp_(current.detach(), weight)
        for kept, buffer in zip(self.model.buffers(), model.buffers(), strict=True):
            kept.copy_(buffer)

    def save(self, file: Path) -> None:
        save_weights(self.model, file)

    def load(self, file: Path, map_location: str | torch.device = "cpu") -> None:
        load_weights(self.model, file, map_location=map_location)

    def copy_to(self, model: nn.Module) -> None:
        """Overwrite `model`'s weights with the average."""
        model.load_state_dict(self.model.state_dict())
