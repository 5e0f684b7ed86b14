r"""DiffWave (Kong et al. 2021, "DiffWave: A Versatile Diffusion Model for Audio Synthesis", sec. 3 and fig. 2),
with an optional PriorGrad data-dependent prior (Lee et al. 2022, "PriorGrad: Improving Conditional
Denoising Diffusion Models with Data-Dependent Adaptive Prior").

The network eps_theta(y_t, t, mel) follows the paper's non-causal WaveNet-like stack:

    h_0 = ReLU(W_in y_t)                                       (1 -> C channels, 1x1)
    for layer l = 1..L with dilation d_l = 2^((l - 1) mod cycle):
        u   = DilConv_{d_l}(h + W_t^l e(t)) + W_c^l c          (C -> 2C, kernel 3; c = upsampled mel)
        g   = tanh(u_a) * sigmoid(u_b)                         (gated unit)
        r, s = W_o^l g                                         (C -> 2C, 1x1: residual and skip)
        h   = (h + r) / sqrt(2);   skip += s
    eps = W_out ReLU(W_skip skip / sqrt(L))                    (W_out zero-initialised)

e(t) is the 128-dimensional sinusoidal embedding of the (possibly fractional) diffusion step followed by
two 512-wide SiLU layers.

Conditioner (where this differs from lmnt-com/diffwave, for speed). lmnt upsamples the mel to the sample
rate with two transposed convolutions and projects it there with one 1x1 convolution per layer; on a CPU
those two steps cost about 70 % of a training step (they write and convert an L x 2C x T tensor). Here a
small frame-rate network (Conv1d 3 over frames, leaky ReLU 0.4, 1x1 to L x 2C) computes every layer's
conditioner at the mel's frame rate, and each layer adds it linearly interpolated between frame centres
(frame f is centred on sample f * hop): for sample n = f * hop + j,

    c^l_n = (1 - j / hop) c^l_f + (j / hop) c^l_{f+1}      (the last frame repeated),

computed as a broadcast over a [B, 2C, F, hop] view of the layer's activations, so no sample-rate
conditioner tensor is ever stored.

Speed. The frame-rate conditioner does not depend on (y_t, t): `condition(mel)` computes it once, and
sampling reuses it at every step (`denoise`).

PriorGrad. The forward process adds eps ~ N(0, Sigma) with Sigma = diag(sigma^2), sigma the per-frame
level implied by the mel (`vaudio.vocoder.prior`); with y = x / sigma it is the standard process on y.
The network sees y_t and predicts the standard-normal noise of y, so every vcore bound and sampler
applies to y unchanged and x = sigma * y. The standard DiffWave is sigma = 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vaudio.features.mel import MelConfig
from vcore.io.checkpoint import Pretrained
from vcore.schedules.fractional import DIFFWAVE_TRAIN_BETAS


@dataclass
class DiffWaveConfig:
    """Architecture, training schedule and prior of a DiffWave vocoder; stored in its checkpoint."""

    mel: MelConfig = field(default_factory=MelConfig)
    residual_channels: int = 32
    residual_layers: int = 12
    dilation_cycle: int = 6
    beta_start: float = DIFFWAVE_TRAIN_BETAS[0]
    beta_end: float = DIFFWAVE_TRAIN_BETAS[1]
    num_steps: int = DIFFWAVE_TRAIN_BETAS[2]
    prior: str = "priorgrad"  # "priorgrad" (data-dependent sigma) or "standard" (sigma = 1)
    prior_gain: float = (
        1.0  # sigma_frame = max(prior_floor, prior_gain * mel level), see vaudio.vocoder.prior
    )
    prior_floor: float = 0.01

    def __post_init__(self) -> None:
        if self.prior not in ("priorgrad", "standard"):
            raise ValueError(f"prior must be 'priorgrad' or 'standard', got {self.prior!r}")
        for name in ("residual_channels", "residual_layers", "dilation_cycle", "num_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")


def step_embedding(t: Tensor, dims: int = 128) -> Tensor:
    """Sinusoidal embedding [B, dims] of float steps t [B]: sin/cos(t * 10^(4 k / (dims/2 - 1)))."""
    half = dims // 2
    freqs = 10.0 ** (torch.arange(half, device=t.device, dtype=torch.float32) * 4.0 / (half - 1))
    angles = t.float().unsqueeze(1) * freqs.unsqueeze(0)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class FrameConditioner(nn.Module):
    """Mel [B, n_mels, F] -> every layer's conditioner at the frame rate [B, L, 2C, F + 1] (last frame repeated)."""

    def __init__(self, n_mels: int, layers: int, channels: int, hidden: int = 256) -> None:
        super().__init__()
        self.layers, self.channels = layers, channels
        self.conv = nn.Conv1d(n_mels, hidden, 3, padding=1)
        self.proj = nn.Conv1d(hidden, layers * 2 * channels, 1)

    def forward(self, mel: Tensor) -> Tensor:
        cond = self.proj(F.leaky_relu(self.conv(mel), 0.4))
        cond = torch.cat([cond, cond[..., -1:]], dim=-1)
        return cond.view(cond.shape[0], self.layers, 2 * self.channels, cond.shape[-1])


def add_interpolated(u: Tensor, cond: Tensor, hop: int) -> Tensor:
    """u [B, 2C, F * hop] + the frame-rate cond [B, 2C, F + 1] linearly interpolated between frame centres.

    Two passes over u and no temporary of u's size: (u + c_f) in place, then one fused addcmul of
    (c_{f+1} - c_f) * j / hop."""
    b, ch, n = u.shape
    frames = n // hop
    w = torch.arange(hop, device=u.device, dtype=u.dtype) / hop
    cond = cond.to(u.dtype)
    left, right = cond[..., :frames].unsqueeze(-1), cond[..., 1 : frames + 1].unsqueeze(-1)
    return torch.addcmul(u.view(b, ch, frames, hop).add_(left), right - left, w).view(b, ch, n)


class DiffWave(Pretrained, nn.Module):
    """eps_theta(y_t, t, mel): the DiffWave network on whitened audio (see the module docstring)."""

    config_class = DiffWaveConfig
    model_type = "diffwave"

    def __init__(self, config: DiffWaveConfig) -> None:
        super().__init__()
        self.config = config
        c, layers = config.residual_channels, config.residual_layers
        self.dilations = [2 ** (i % config.dilation_cycle) for i in range(layers)]
        self.input = nn.Conv1d(1, c, 1)
        self.step_mlp = nn.Sequential(nn.Linear(128, 512), nn.SiLU(), nn.Linear(512, 512), nn.SiLU())
        self.step_proj = nn.Linear(512, layers * c)  # W_t^l for all layers
        self.conditioner = FrameConditioner(config.mel.n_mels, layers, c)  # W_c^l c for all layers
        self.dilated = nn.ModuleList(nn.Conv1d(c, 2 * c, 3, padding=d, dilation=d) for d in self.dilations)
        self.output = nn.ModuleList(nn.Conv1d(c, 2 * c, 1) for _ in range(layers))
        self.skip = nn.Conv1d(c, c, 1)
        self.final = nn.Conv1d(c, 1, 1)
        for conv in (self.input, *self.dilated, *self.output, self.skip):
            nn.init.kaiming_normal_(conv.weight)
        nn.init.zeros_(self.final.weight)
        if self.final.bias is not None:
            nn.init.zeros_(self.final.bias)

    def condition(self, mel: Tensor) -> Tensor:
        """All layers' frame-rate conditioners [B, L, 2C, F + 1] for mel [B, n_mels, F]: compute once per mel."""
        return self.conditioner(mel)

    def denoise(self, y: Tensor, t: Tensor, cond: Tensor) -> Tensor:
        """Predicted noise [B, T] of whitened audio y [B, T] at float steps t [B] given `condition(mel)`."""
        c, layers, hop = (
            self.config.residual_channels,
            self.config.residual_layers,
            self.config.mel.hop_length,
        )
        if cond.shape[0] != y.shape[0] and cond.shape[0] == 1:
            cond = cond.expand(y.shape[0], -1, -1, -1)
        steps = self.step_proj(self.step_mlp(step_embedding(t.expand(y.shape[0])))).view(-1, layers, c, 1)
        h = F.relu(self.input(y.unsqueeze(1)))
        skip: Tensor | None = None
        scale = 1.0 / math.sqrt(2.0)
        # unbind, not cond[:, i]: the backward of L selections would build L zero tensors of cond's size.
        for i, (cond_i, step_i) in enumerate(zip(cond.unbind(1), steps.unbind(1), strict=True)):
            u = add_interpolated(self.dilated[i](h + step_i.to(h.dtype)), cond_i, hop)
            gate, filt = u.chunk(2, dim=1)
            r, s = self.output[i](torch.sigmoid(gate) * torch.tanh(filt)).chunk(2, dim=1)
            h = (h + r) * scale
            skip = s if skip is None else skip + s
        assert skip is not None
        out = self.final(F.relu(self.skip(skip * (1.0 / math.sqrt(layers)))))
        return out.squeeze(1)

    def forward(self, y: Tensor, t: Tensor, mel: Tensor) -> Tensor:
        """eps_theta(y_t, t, mel) [B, T] with T = frames * hop."""
        return self.denoise(y, t, self.condition(mel))

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())
