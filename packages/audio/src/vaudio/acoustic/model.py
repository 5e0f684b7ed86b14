r"""The DiffSinger acoustic model (Liu et al. 2022, fig. 2): encoder, auxiliary decoder and denoiser.

    c      = FrameConditioner(LR(PhoneEncoder(phones, frames)), F0, voice)     [B, F, H]
    m_aux  = AuxDecoder(c)                                                      (L1 to the mel)
    eps    = Denoiser(x_t, t, c)                                                (diffusion on the mel)

Mels are the package's normalised log-mels m in [0, 1] (`vaudio.features.mel`); the networks work on
x = 2 m - 1. `AcousticConfig` holds the architecture, the training schedule (linear betas, T = 100,
1e-4 .. 0.06 as DiffSinger), the phone inventory and voices, the shallow-diffusion boundary `boundary_k`
(0 until `vaudio.acoustic.boundary` has set it after training), the denoiser's parametrisation
(`prediction`: x0 by default, see `vaudio.acoustic.diffusion`) and the statistics of the note-to-F0 and
duration model (`vaudio.acoustic.pitch`) for scores without ph_dur or f0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from vaudio.acoustic.aux_decoder import AuxDecoder
from vaudio.acoustic.denoiser import Denoiser
from vaudio.acoustic.encoder import FrameConditioner, PhoneEncoder, length_regulate
from vaudio.acoustic.phones import PhoneSet
from vaudio.features.mel import MelConfig
from vcore.io.checkpoint import Pretrained
from vcore.schedules.discrete import DiscreteSchedule
from vcore.schedules.linear import linear_betas


@dataclass
class AcousticConfig:
    """Everything needed to rebuild an acoustic model; saved as its config.json."""

    phones: list[str]
    voices: list[str] = field(default_factory=lambda: ["kal", "ked"])
    mel: MelConfig = field(default_factory=MelConfig)
    hidden: int = 192
    heads: int = 2
    kernel: int = 3
    filter_size: int = 384
    encoder_layers: int = 4
    decoder_layers: int = 4
    window: int = 32
    dropout: float = 0.1
    denoiser_channels: int = 128
    denoiser_layers: int = 20
    dilation_cycle: int = 4
    prediction: str = "x0"  # what the denoiser outputs: "x0" (default), "eps" (the paper) or "v"
    num_steps: int = 100
    beta_start: float = 1e-4
    beta_end: float = 0.06
    boundary_k: int = 0
    boundary: dict[str, Any] = field(default_factory=dict)
    pitch_model: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in (
            "hidden",
            "heads",
            "encoder_layers",
            "denoiser_channels",
            "denoiser_layers",
            "num_steps",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.prediction not in ("x0", "eps", "v"):
            raise ValueError(f"prediction must be x0, eps or v, got {self.prediction!r}")
        if not 0 <= self.boundary_k <= self.num_steps:
            raise ValueError(f"boundary_k must lie in [0, {self.num_steps}], got {self.boundary_k}")


def to_model_scale(mel: Tensor) -> Tensor:
    """[0, 1] mel -> x = 2 m - 1."""
    return mel * 2.0 - 1.0


def from_model_scale(x: Tensor) -> Tensor:
    """x -> m = (x + 1) / 2, clipped to [0, 1]."""
    return ((x + 1.0) * 0.5).clamp(0.0, 1.0)


class AcousticModel(nn.Module, Pretrained):
    """Encoder + auxiliary decoder + denoiser; see the module docstring."""

    config_class = AcousticConfig
    model_type = "vaudio-diffsinger-acoustic"

    def __init__(self, config: AcousticConfig) -> None:
        super().__init__()
        self.config = config
        self.phone_set = PhoneSet(config.phones)
        c = config
        self.encoder = PhoneEncoder(
            len(self.phone_set), c.hidden, c.encoder_layers, c.heads, c.kernel, c.dropout, c.filter_size
        )
        self.conditioner = FrameConditioner(c.hidden, len(c.voices))
        self.aux_decoder = AuxDecoder(
            c.hidden, c.mel.n_mels, c.decoder_layers, c.heads, c.kernel, c.window, c.dropout, c.filter_size
        )
        self.denoiser = Denoiser(
            c.mel.n_mels, c.hidden, c.denoiser_channels, c.denoiser_layers, c.dilation_cycle
        )

    def schedule(self) -> DiscreteSchedule:
        """The training schedule (linear betas)."""
        c = self.config
        return DiscreteSchedule(linear_betas(c.num_steps, c.beta_start, c.beta_end))

    def voice_id(self, voice: str) -> int:
        from vcore.errors import UserError

        if voice not in self.config.voices:
            raise UserError(f"--voice must be one of {', '.join(self.config.voices)}, got {voice!r}")
        return self.config.voices.index(voice)

    def encode(self, phones: Tensor, ph_frames: Tensor, midi: Tensor, voice: Tensor) -> tuple[Tensor, Tensor]:
        """(condition [B, F, H], frame padding mask [B, F]) for phone ids [B, P], frames per phone [B, P],
        fractional MIDI of F0 per frame [B, F] and voice ids [B]."""
        n = midi.shape[1]
        hidden = self.encoder(phones, ph_frames)
        expanded, _, fraction = length_regulate(hidden, ph_frames, n)
        pad = torch.arange(n, device=midi.device)[None] >= ph_frames.sum(1, keepdim=True)
        cond = self.conditioner(expanded, midi, fraction, voice) * (~pad).unsqueeze(-1).to(expanded.dtype)
        return cond, pad

    def aux(self, cond: Tensor, pad: Tensor) -> Tensor:
        """The auxiliary decoder's mel [B, n_mels, F] in model scale."""
        return self.aux_decoder(cond, pad)
