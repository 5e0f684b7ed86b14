r"""The pointwise noise predictor eps_theta(x_t^i, t, z) of Luo & Hu 2021 ("Diffusion Probabilistic Models
for 3D Point Cloud Generation", sec. 4.3), built from ConcatSquash layers (Grathwohl et al. 2019, "FFJORD",
appendix B).

Every point of a cloud is denoised independently given the shape latent z and the step's beta_t. One
ConcatSquash layer maps h (a point's features) with a context c shared by the whole cloud,

    CS(h; c) = (W h + b) * sigmoid(G c + g) + H c,          c = [beta_t, sin(beta_t), cos(beta_t), z],

and the network is CS(3 -> w1), leaky-ReLU, ..., CS(w_K -> 3), plus the input (the residual), so that
eps_theta(x, t, z) = x + f(x; c). Luo & Hu use widths 3-128-256-512-256-128-3.

Speed. The gate s = sigmoid(G c + g) and the shift H c depend on the cloud, not on the point, so a layer is
one affine map per cloud with the gate folded into its weights:

    CS(h; c) = h (W^T diag(s)) + (s * b + H c) = h W_c + b_c,

computed once per cloud and step (cost in*out) and applied to the N points as one batched
multiply-add (`torch.baddbmm`), instead of a matmul, a product and a sum over all N x out activations.
The fold is exact; `compute_dtype=torch.bfloat16` additionally runs the per-point products in bfloat16
(AMX on recent Xeons; the residual and the output stay float32).
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import Tensor, nn

FULL_WIDTHS = (128, 256, 512, 256, 128)
"""Hidden widths of Luo & Hu's PointwiseNet."""


def hidden_widths(base: int) -> tuple[int, ...]:
    """The reference's width profile scaled to `base` (128 gives the reference: 128-256-512-256-128)."""
    if base < 1:
        raise ValueError(f"width must be at least 1, got {base}")
    return (base, 2 * base, 4 * base, 2 * base, base)


def time_embedding(beta: Tensor) -> Tensor:
    """[beta, sin(beta), cos(beta)] for betas [B]: [B, 3] (Luo & Hu's time context)."""
    beta = beta.reshape(-1, 1)
    return torch.cat([beta, torch.sin(beta), torch.cos(beta)], dim=1)


class ConcatSquashLinear(nn.Module):
    """CS(h; c) = (W h + b) * sigmoid(G c + g) + H c, with one context c per cloud."""

    def __init__(self, dim_in: int, dim_out: int, dim_ctx: int) -> None:
        super().__init__()
        self.layer = nn.Linear(dim_in, dim_out)
        self.gate = nn.Linear(dim_ctx, dim_out)
        self.shift = nn.Linear(dim_ctx, dim_out, bias=False)

    def modulation(self, ctx: Tensor) -> tuple[Tensor, Tensor]:
        """Gate sigmoid(G c + g) and shift H c for contexts [B, C]: two [B, out] tensors."""
        return torch.sigmoid(self.gate(ctx)), self.shift(ctx)

    def folded(self, ctx: Tensor) -> tuple[Tensor, Tensor]:
        """The per-cloud affine map (W_c [B, in, out], b_c [B, 1, out]) with CS(h; c) = h W_c + b_c."""
        gate, shift = self.modulation(ctx)
        weight = self.layer.weight.t().unsqueeze(0) * gate.unsqueeze(1)
        bias = gate * self.layer.bias + shift
        return weight, bias.unsqueeze(1)

    def forward(self, x: Tensor, ctx: Tensor) -> Tensor:
        """Per-point evaluation for x [B, N, in] and ctx [B, C] (the plain formula; `folded` is faster)."""
        gate, shift = self.modulation(ctx)
        return self.layer(x) * gate.unsqueeze(1) + shift.unsqueeze(1)


class PointwiseNet(nn.Module):
    """eps_theta(x, beta, z) = x + f(x; [beta, sin beta, cos beta, z]) for clouds x [B, N, 3]."""

    def __init__(
        self,
        context_dim: int,
        widths: tuple[int, ...] = FULL_WIDTHS,
        point_dim: int = 3,
        residual: bool = True,
        negative_slope: float = 0.01,
    ) -> None:
        super().__init__()
        dims = (point_dim, *widths, point_dim)
        ctx = context_dim + 3
        self.layers = nn.ModuleList(ConcatSquashLinear(i, o, ctx) for i, o in itertools.pairwise(dims))
        self.residual = residual
        self.negative_slope = negative_slope

    def cs_layers(self) -> list[ConcatSquashLinear]:
        """The layers, typed."""
        return [layer for layer in self.layers if isinstance(layer, ConcatSquashLinear)]

    def context(self, beta: Tensor, z: Tensor) -> Tensor:
        """c = [beta, sin beta, cos beta, z]: [B, 3 + F] for betas [B] and latents [B, F]."""
        return torch.cat([time_embedding(beta).to(z.dtype), z], dim=1)

    def fold(self, ctx: Tensor, dtype: torch.dtype | None = None) -> list[tuple[Tensor, Tensor]]:
        """Every layer's per-cloud (W_c, b_c) for contexts [B, C], optionally cast to `dtype`."""
        maps = [layer.folded(ctx) for layer in self.cs_layers()]
        if dtype is None:
            return maps
        return [(w.to(dtype), b.to(dtype)) for w, b in maps]

    def apply_folded(self, x: Tensor, maps: list[tuple[Tensor, Tensor]]) -> Tensor:
        """The network on clouds x [B, N, 3] given `fold`'s maps; computes in the maps' dtype."""
        h = x.to(maps[0][0].dtype)
        last = len(maps) - 1
        for i, (weight, bias) in enumerate(maps):
            h = torch.baddbmm(bias, h, weight)
            if i < last:
                h = F.leaky_relu(h, self.negative_slope, inplace=not torch.is_grad_enabled())
        out = h.to(x.dtype)
        return x + out if self.residual else out

    def forward(self, x: Tensor, beta: Tensor, z: Tensor, compute_dtype: torch.dtype | None = None) -> Tensor:
        """eps prediction [B, N, 3] for clouds x [B, N, 3], betas [B] and latents [B, F]."""
        return self.apply_folded(x, self.fold(self.context(beta, z), compute_dtype))

    def forward_per_point(self, x: Tensor, beta: Tensor, z: Tensor) -> Tensor:
        """The same function evaluated layer by layer as written (gate and shift applied to every point)."""
        ctx = self.context(beta, z)
        h = x
        last = len(self.layers) - 1
        for i, layer in enumerate(self.cs_layers()):
            h = layer(h, ctx)
            if i < last:
                h = F.leaky_relu(h, self.negative_slope)
        return x + h if self.residual else h
