"""The reference architecture's sampling path (Luo & Hu 2021, luost26/diffusion-point-cloud), re-implemented
from the paper and the structure of its code, for the point-sampling benchmark.

What it reproduces, layer for layer: the PointwiseNet of ConcatSquash layers 3-w-2w-4w-2w-w-3 (w = 128 in
the paper) with leaky-ReLU between layers and the input added to the output; every ConcatSquash layer
computes its gate sigmoid(G c + g) and shift H c from the context c = [beta, sin beta, cos beta, z] of
shape [B, 1, C] and applies Linear(h) * gate + shift to the [B, N, out] activations; fp32 throughout. The
sampler is the paper's plain DDPM loop (flexibility 0, i.e. the posterior variance): per step
x <- (x - (1 - alpha_t) / sqrt(1 - ab_t) * eps) / sqrt(alpha_t) + sigma_t * noise, with the coefficients
read from the schedule tensors at every step, as the reference does. Its training-only branches are left out.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class RefConcatSquash(nn.Module):
    def __init__(self, dim_in: int, dim_out: int, dim_ctx: int) -> None:
        super().__init__()
        self.layer = nn.Linear(dim_in, dim_out)
        self.gate = nn.Linear(dim_ctx, dim_out)
        self.shift = nn.Linear(dim_ctx, dim_out, bias=False)

    def forward(self, ctx: Tensor, x: Tensor) -> Tensor:
        gate = torch.sigmoid(self.gate(ctx))
        shift = self.shift(ctx)
        return self.layer(x) * gate + shift


class RefPointwiseNet(nn.Module):
    def __init__(self, context_dim: int, width: int = 128) -> None:
        super().__init__()
        dims = (3, width, 2 * width, 4 * width, 2 * width, width, 3)
        self.layers = nn.ModuleList(
            RefConcatSquash(a, b, context_dim + 3) for a, b in itertools.pairwise(dims)
        )

    def forward(self, x: Tensor, beta: Tensor, context: Tensor) -> Tensor:
        b = x.shape[0]
        beta = beta.view(b, 1, 1)
        ctx = torch.cat([beta, torch.sin(beta), torch.cos(beta), context.view(b, 1, -1)], dim=-1)
        out = x
        for i, layer in enumerate(self.layers):
            out = layer(ctx, out)
            if i < len(self.layers) - 1:
                out = F.leaky_relu(out)
        return x + out


class RefSchedule:
    """Linear betas with a zero padded at index 0, so that index t is step t (the reference's layout)."""

    def __init__(self, num_steps: int = 100, beta_1: float = 1e-4, beta_T: float = 0.02) -> None:
        betas = torch.cat([torch.zeros(1), torch.linspace(beta_1, beta_T, num_steps)])
        alphas = 1 - betas
        alpha_bars = torch.exp(torch.cumsum(torch.log(alphas), dim=0))
        sigmas = torch.zeros_like(betas)
        sigmas[1:] = torch.sqrt((1 - alpha_bars[:-1]) / (1 - alpha_bars[1:]) * betas[1:])
        self.num_steps = num_steps
        self.betas, self.alphas, self.alpha_bars, self.sigmas = betas, alphas, alpha_bars, sigmas


def ref_sample(net: RefPointwiseNet, sched: RefSchedule, context: Tensor, num_points: int) -> Tensor:
    """The reference's ancestral sampling loop for latents `context` [B, F]."""
    b = context.shape[0]
    x = torch.randn(b, num_points, 3)
    for t in range(sched.num_steps, 0, -1):
        z = torch.randn_like(x) if t > 1 else torch.zeros_like(x)
        c0 = 1.0 / torch.sqrt(sched.alphas[t])
        c1 = (1 - sched.alphas[t]) / torch.sqrt(1 - sched.alpha_bars[t])
        beta = sched.betas[[t] * b]
        eps = net(x, beta=beta, context=context)
        x = (c0 * (x - c1 * eps) + sched.sigmas[t] * z).detach()
    return x
