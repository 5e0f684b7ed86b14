r"""The latent normalizing-flow prior p(z) of Luo & Hu 2021 (sec. 4.2): affine coupling layers (Dinh et
al. 2017, "Density estimation using Real NVP", sec. 3.3) over a Gaussian base.

A bijection f = f_K o ... o f_1 maps a shape latent z to w = f(z); with a base density p_c(w),

    log p(z | c) = log p_c(f(z)) + sum_k log |det df_k / dh_{k-1}|      (change of variables).

Each coupling layer keeps one half a of its input and moves the other half b elementwise,

    y_a = h_a,   y_b = h_b * s(h_a) + m(h_a),   s = sigmoid(u(h_a) + 2) in (0, 1),

so its Jacobian is triangular with log-determinant sum log s(h_a), and its inverse is
h_b = (y_b - m(h_a)) / s(h_a). Consecutive layers alternate the halves. (The sigmoid-bounded scale, as in
Luo & Hu's code, keeps the map well conditioned.)

The base is N(0, I) for an unconditional prior. With several shape categories c (`num_classes` > 1) it is
N(mu_c, diag sigma_c^2) with a learned mean and scale per category, so that p(z | c) is a class-conditional
prior on one shared flow; sampling without a category draws c from the training frequencies.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

_LOG_2PI = math.log(2.0 * math.pi)


class AffineCoupling(nn.Module):
    """One Real NVP coupling layer on [B, D] vectors; `flip` chooses which half conditions the other."""

    def __init__(self, dim: int, hidden: int, flip: bool) -> None:
        super().__init__()
        if dim < 2:
            raise ValueError(f"coupling layers need a dimension of at least 2, got {dim}")
        half = dim // 2
        self.keep = slice(half, dim) if flip else slice(0, half)
        self.move = slice(0, half) if flip else slice(half, dim)
        n_keep, n_move = (dim - half, half) if flip else (half, dim - half)
        self.net = nn.Sequential(
            nn.Linear(n_keep, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * n_move),
        )
        self.n_move = n_move

    def _scale_shift(self, kept: Tensor) -> tuple[Tensor, Tensor]:
        out = self.net(kept)
        return torch.sigmoid(out[:, : self.n_move] + 2.0), out[:, self.n_move :]

    def _assemble(self, kept: Tensor, moved: Tensor) -> Tensor:
        parts = (moved, kept) if self.move.start == 0 else (kept, moved)
        return torch.cat(parts, dim=1)

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        """(y, log |det dy/dh| [B])."""
        kept = h[:, self.keep]
        scale, shift = self._scale_shift(kept)
        y = self._assemble(kept, h[:, self.move] * scale + shift)
        return y, torch.log(scale).sum(dim=1)

    def inverse(self, y: Tensor) -> Tensor:
        kept = y[:, self.keep]
        scale, shift = self._scale_shift(kept)
        return self._assemble(kept, (y[:, self.move] - shift) / scale)


class LatentFlow(nn.Module):
    """p(z | c) = N(f(z); mu_c, diag sigma_c^2) |det df/dz|; `depth = 0` is the Gaussian base itself."""

    def __init__(
        self,
        dim: int,
        depth: int = 14,
        hidden: int = 256,
        num_classes: int = 1,
        class_weights: tuple[float, ...] | None = None,
    ) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        self.dim = dim
        self.layers = nn.ModuleList(AffineCoupling(dim, hidden, flip=i % 2 == 1) for i in range(depth))
        if num_classes > 1:
            self.base_mean = nn.Parameter(torch.zeros(num_classes, dim))
            self.base_log_std = nn.Parameter(torch.zeros(num_classes, dim))
        else:
            self.register_buffer("base_mean", torch.zeros(1, dim), persistent=False)
            self.register_buffer("base_log_std", torch.zeros(1, dim), persistent=False)
        weights = torch.ones(num_classes) if class_weights is None else torch.tensor(class_weights)
        if weights.shape != (num_classes,) or not bool((weights > 0).all()):
            raise ValueError(f"class_weights must be {num_classes} positive numbers")
        self.register_buffer("class_probs", weights.double() / weights.sum(), persistent=False)

    def couplings(self) -> list[AffineCoupling]:
        """The coupling layers, typed."""
        return [layer for layer in self.layers if isinstance(layer, AffineCoupling)]

    @property
    def num_classes(self) -> int:
        return int(self.base_mean.shape[0])

    def _labels(self, labels: Tensor | None, batch: int, device: torch.device) -> Tensor:
        if labels is None:
            if self.num_classes > 1:
                raise ValueError("this prior is conditional on a category: pass labels")
            return torch.zeros(batch, dtype=torch.long, device=device)
        return labels

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """(w = f(z), log |det df/dz| [B])."""
        log_det = torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
        for layer in self.couplings():
            z, ld = layer(z)
            log_det = log_det + ld
        return z, log_det

    def inverse(self, w: Tensor) -> Tensor:
        """z = f^{-1}(w)."""
        for layer in reversed(self.couplings()):
            w = layer.inverse(w)
        return w

    def base_log_prob(self, w: Tensor, labels: Tensor | None = None) -> Tensor:
        """log N(w; mu_c, diag sigma_c^2) per row [B]."""
        labels = self._labels(labels, w.shape[0], w.device)
        mean, log_std = self.base_mean[labels].to(w.dtype), self.base_log_std[labels].to(w.dtype)
        u = (w - mean) * torch.exp(-log_std)
        return (-0.5 * (_LOG_2PI + u**2) - log_std).sum(dim=1)

    def log_prob(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """log p(z | c) [B] by the change of variables."""
        w, log_det = self(z)
        return self.base_log_prob(w, labels) + log_det

    def sample(
        self, n: int, generator: torch.Generator | None = None, labels: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """(z [n, D], labels [n]): c from `labels` or the class frequencies, w ~ p_c, z = f^{-1}(w)."""
        device = self.base_mean.device
        gen_device = device if generator is None else generator.device
        if labels is None:
            labels = torch.multinomial(
                torch.as_tensor(self.class_probs).to(gen_device), n, replacement=True, generator=generator
            )
        labels = labels.to(device)
        dtype = self.base_mean.dtype
        noise = torch.randn(n, self.dim, generator=generator, device=gen_device, dtype=dtype).to(device)
        w = self.base_mean[labels] + torch.exp(self.base_log_std[labels]) * noise
        return self.inverse(w), labels
