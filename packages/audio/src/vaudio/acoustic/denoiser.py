r"""DiffSinger's denoiser (Liu et al. 2022, sec. 3.2 "Denoiser", fig. 2c): a non-causal WaveNet on mel frames.

    h_0 = ReLU(W_in x_t)                                  (n_mels -> C, 1x1)
    for layer l with dilation d_l = 2^((l - 1) mod cycle):
        u = DilConv_{d_l}(h + W_t^l e(t)) + W_c^l c        (C -> 2C, kernel 3; c = frame condition)
        g = tanh(u_a) * sigmoid(u_b)
        r, s = W_o^l g;  h = (h + r) / sqrt(2);  skip += s
    out = W_out ReLU(W_skip skip / sqrt(L))               (W_out zero-initialised)

`out` is the model's prediction: eps in the paper; x0 by default here (`vaudio.acoustic.diffusion`).

e(t): sinusoidal step embedding and a two-layer SiLU MLP. The condition c is the encoder output with
pitch and voice embeddings ([B, H, F]); `condition(c)` computes every layer's projection once so that
sampling reuses it at every step.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def step_embedding(t: Tensor, dims: int) -> Tensor:
    """[B, dims] sinusoidal embedding of float steps t [B]."""
    half = dims // 2
    freq = torch.exp(
        -math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / max(1, half - 1)
    )
    angle = t.float()[:, None] * freq[None]
    return torch.cat([angle.sin(), angle.cos()], dim=1)


class Denoiser(nn.Module):
    """the denoiser's prediction (x0, eps or v, `AcousticConfig.prediction`) for x_t [B, n_mels, F], t [B], c [B, H, F]."""

    def __init__(self, n_mels: int, hidden: int, channels: int, layers: int, cycle: int) -> None:
        super().__init__()
        self.channels, self.layers = channels, layers
        self.inp = nn.Conv1d(n_mels, channels, 1)
        self.step = nn.Sequential(
            nn.Linear(channels, 4 * channels), nn.SiLU(), nn.Linear(4 * channels, channels)
        )
        self.step_proj = nn.Linear(channels, layers * channels)
        self.cond_proj = nn.Conv1d(hidden, layers * 2 * channels, 1)
        self.dilated = nn.ModuleList(
            nn.Conv1d(channels, 2 * channels, 3, padding=2 ** (i % cycle), dilation=2 ** (i % cycle))
            for i in range(layers)
        )
        self.output = nn.ModuleList(nn.Conv1d(channels, 2 * channels, 1) for _ in range(layers))
        self.skip = nn.Conv1d(channels, channels, 1)
        self.out = nn.Conv1d(channels, n_mels, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)  # type: ignore[arg-type]

    def condition(self, cond: Tensor) -> Tensor:
        """Per-layer condition projections [B, L, 2C, F] of c [B, H, F]."""
        b, _, f = cond.shape
        return self.cond_proj(cond).view(b, self.layers, 2 * self.channels, f)

    def denoise(self, x: Tensor, t: Tensor, projected: Tensor) -> Tensor:
        """eps for x_t [B, n_mels, F] at steps t [B] given `condition(c)` (broadcast over a larger batch)."""
        h = F.relu(self.inp(x))
        steps = self.step_proj(self.step(step_embedding(t, self.channels)))
        steps = steps.view(x.shape[0], self.layers, self.channels, 1)
        if projected.shape[0] != x.shape[0]:
            projected = projected.repeat_interleave(x.shape[0] // projected.shape[0], dim=0)
        skip = torch.zeros_like(h)
        for i, (dilated, output) in enumerate(zip(self.dilated, self.output, strict=True)):
            u = dilated(h + steps[:, i]) + projected[:, i]
            a, b = u.chunk(2, dim=1)
            r, s = output(torch.tanh(a) * torch.sigmoid(b)).chunk(2, dim=1)
            h = (h + r) * (1.0 / math.sqrt(2.0))
            skip = skip + s
        return self.out(F.relu(self.skip(skip * (1.0 / math.sqrt(self.layers)))))

    def forward(self, x: Tensor, t: Tensor, cond: Tensor) -> Tensor:
        return self.denoise(x, t, self.condition(cond))
