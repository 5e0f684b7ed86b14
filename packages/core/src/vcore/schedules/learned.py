r"""Noise schedules as gamma(t) = -log SNR(t) = -lambda_t on t in [0, 1] (Kingma et al. 2021,
"Variational Diffusion Models", sec. 3 and appendix "Monotonic neural net"), variance preserving:

    alpha_t^2 = sigmoid(-gamma(t)),   sigma_t^2 = sigmoid(gamma(t)),   alpha_bar_t = alpha_t^2.

`LearnedGamma` is VDM's learned schedule. An unnormalised monotone network

    g(t) = l1(t) + l3(sigmoid(l2(2 t - 1))) / H

uses linear layers whose weights are made positive (w = |v|), so every layer, and so g, is increasing in
t (l1: 1 -> 1; l2: 1 -> H = 1024 units with a sigmoid; l3: H -> 1). It is then rescaled to learnable
endpoints,

    gamma(t) = gamma_0 + (gamma_1 - gamma_0) (g(t) - g(0)) / (g(1) - g(0)),

so gamma(0) = gamma_0 and gamma(1) = gamma_1 exactly, and gamma is increasing while gamma_1 > gamma_0
(VDM's initial values are gamma_0 = -13.3, gamma_1 = 5). `FixedLinearGamma` is the fixed
gamma(t) = gamma_0 + (gamma_1 - gamma_0) t of VDM's baseline, used by tests.

Both modules compute in the dtype of `t` (float64 inputs give float64 outputs) and map any shape of `t`
elementwise, so d gamma / dt is available from autograd (see `vcore.bounds.vdm.gamma_and_derivative`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class FixedLinearGamma(nn.Module):
    """gamma(t) = gamma_0 + (gamma_1 - gamma_0) t, with no trainable parameters."""

    def __init__(self, gamma_0: float = -13.3, gamma_1: float = 5.0) -> None:
        super().__init__()
        if not gamma_1 > gamma_0:
            raise ValueError(f"need gamma_1 > gamma_0, got {gamma_0}, {gamma_1}")
        self.gamma_0 = float(gamma_0)
        self.gamma_1 = float(gamma_1)

    def forward(self, t: Tensor) -> Tensor:
        return self.gamma_0 + (self.gamma_1 - self.gamma_0) * t

    def inverse(self, gamma: Tensor) -> Tensor:
        """t with gamma(t) = `gamma`."""
        return (gamma - self.gamma_0) / (self.gamma_1 - self.gamma_0)


class _PositiveLinear(nn.Module):
    """y = x |W|^T + b: a linear layer that is non-decreasing in every input."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        nn.init.normal_(self.weight, mean=0.0, std=1.0 / in_features**0.5)

    def forward(self, x: Tensor) -> Tensor:
        w = self.weight.abs().to(x.dtype)
        b = None if self.bias is None else self.bias.to(x.dtype)
        return nn.functional.linear(x, w, b)


class LearnedGamma(nn.Module):
    """VDM's learned monotone gamma(t) with learnable endpoints gamma_0 = gamma(0), gamma_1 = gamma(1)."""

    def __init__(self, gamma_0: float = -13.3, gamma_1: float = 5.0, hidden: int = 1024) -> None:
        super().__init__()
        if not gamma_1 > gamma_0:
            raise ValueError(f"need gamma_1 > gamma_0, got {gamma_0}, {gamma_1}")
        self.gamma_0 = nn.Parameter(torch.tensor(float(gamma_0)))
        self.gamma_1 = nn.Parameter(torch.tensor(float(gamma_1)))
        self.hidden = hidden
        self.l1 = _PositiveLinear(1, 1)
        self.l2 = _PositiveLinear(1, hidden)
        self.l3 = _PositiveLinear(hidden, 1, bias=False)
        with torch.no_grad():
            self.l1.weight.fill_(1.0)

    def unnormalized(self, t: Tensor) -> Tensor:
        """g(t) = l1(t) + l3(sigmoid(l2(2t - 1))) / H, increasing in t; input and output shape [N]."""
        x = t.reshape(-1, 1)
        h = self.l1(x)
        h = h + self.l3(torch.sigmoid(self.l2(2.0 * x - 1.0))) / self.hidden
        return h.reshape(-1)

    def forward(self, t: Tensor) -> Tensor:
        flat = t.reshape(-1)
        ends = torch.tensor([0.0, 1.0], dtype=t.dtype, device=t.device)
        g = self.unnormalized(torch.cat([flat, ends]))
        g_t, g_0, g_1 = g[:-2], g[-2], g[-1]
        frac = (g_t - g_0) / torch.clamp(g_1 - g_0, min=torch.finfo(t.dtype).tiny)
        g0 = self.gamma_0.to(t.dtype)
        g1 = self.gamma_1.to(t.dtype)
        return (g0 + (g1 - g0) * frac).reshape(t.shape)
