"""Normalised log-mel spectrograms and their Griffin-Lim inversion, one config for every model.

With magnitude STFT |X| (Hann window `win_length`, hop `hop_length`, `n_fft` points, centred frames)
and the HTK mel filterbank F (`n_mels` bands between `fmin` and `fmax`), the feature of frame t is

    M = F |X_t|,    m = clip((20 log10(max(M, 1e-5)) - ref_db - min_db) / (-min_db), 0, 1)

with ref_db = 20 and min_db = -100, the normalisation of DiffWave's reference implementation
(Kong et al. 2021, lmnt-com/diffwave), so m = 0 is silence (-100 dB) and m = 1 is +20 dB above the
reference. A clip of T samples has T // hop_length frames: frame t describes samples
[t hop, (t + 1) hop), which is what the vocoder's upsampler assumes.

`griffin_lim(mel)` undoes the normalisation, maps mel magnitudes back to linear-frequency magnitudes
by non-negative least squares through torchaudio's `InverseMelScale`, and runs Griffin-Lim
(Griffin & Lim 1984; torchaudio's fast variant, momentum 0.99) for `n_iter` iterations.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch

from vcore.errors import UserError


@dataclass(frozen=True)
class MelConfig:
    """The feature definition shared by DiffWave and DiffSinger; stored in every checkpoint."""

    sample_rate: int = 16000
    n_fft: int = 1024
    win_length: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    fmin: float = 20.0
    fmax: float = 8000.0
    ref_db: float = 20.0
    min_db: float = -100.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MelConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise UserError(f"unknown mel config fields: {', '.join(sorted(unknown))}")
        return cls(**data)

    def frames(self, n_samples: int) -> int:
        """Mel frames of a clip of `n_samples` samples."""
        return n_samples // self.hop_length


@lru_cache(maxsize=4)
def _mel_transform(config: MelConfig) -> torch.nn.Module:
    import torchaudio.transforms as T

    return T.MelSpectrogram(
        sample_rate=config.sample_rate,
        n_fft=config.n_fft,
        win_length=config.win_length,
        hop_length=config.hop_length,
        f_min=config.fmin,
        f_max=config.fmax,
        n_mels=config.n_mels,
        power=1.0,
        normalized=True,
        center=True,
        pad_mode="reflect",
        mel_scale="htk",
    )


def normalise_db(magnitude: torch.Tensor, config: MelConfig) -> torch.Tensor:
    """Mel magnitudes -> normalised log-mel in [0, 1]."""
    db = 20.0 * torch.log10(magnitude.clamp_min(1e-5)) - config.ref_db
    return ((db - config.min_db) / -config.min_db).clamp(0.0, 1.0)


def denormalise_db(mel: torch.Tensor, config: MelConfig) -> torch.Tensor:
    """Normalised log-mel -> mel magnitudes (the inverse of `normalise_db` inside the clip range)."""
    db = mel.clamp(0.0, 1.0) * -config.min_db + config.min_db + config.ref_db
    return torch.pow(10.0, db / 20.0)


def mel_spectrogram(samples: torch.Tensor, config: MelConfig) -> torch.Tensor:
    """Normalised log-mel (..., n_mels, T // hop) of float samples (..., T)."""
    if samples.shape[-1] < config.hop_length:
        raise UserError(
            f"audio of {samples.shape[-1]} samples is shorter than one mel frame ({config.hop_length} samples)"
        )
    magnitude = _mel_transform(config).to(samples.device)(samples.float())
    return normalise_db(magnitude[..., : config.frames(samples.shape[-1])], config)


def check_mel(mel: torch.Tensor, config: MelConfig, name: str = "mel") -> None:
    """Raise `UserError` unless `mel` is a finite (n_mels, frames) or (batch, n_mels, frames) array."""
    if mel.dim() not in (2, 3) or mel.shape[-2] != config.n_mels:
        raise UserError(
            f"{name}: expected a mel spectrogram of shape ({config.n_mels}, frames), got {tuple(mel.shape)}"
        )
    if mel.shape[-1] == 0:
        raise UserError(f"{name}: the mel spectrogram has no frames")
    if not torch.isfinite(mel).all():
        raise UserError(f"{name}: the mel spectrogram contains NaN or infinite values")


def griffin_lim(mel: torch.Tensor, config: MelConfig, n_iter: int = 32, seed: int = 0) -> torch.Tensor:
    """Samples (..., frames * hop) from a normalised log-mel by mel inversion and `n_iter` Griffin-Lim steps."""
    import torchaudio.transforms as T

    n_stft = config.n_fft // 2 + 1
    inverse = T.InverseMelScale(
        n_stft=n_stft,
        n_mels=config.n_mels,
        sample_rate=config.sample_rate,
        f_min=config.fmin,
        f_max=config.fmax,
        mel_scale="htk",
    )
    magnitude = inverse(denormalise_db(mel.float(), config)).clamp_min(0.0)
    magnitude = magnitude * torch.hann_window(config.win_length).pow(2).sum().sqrt()  # undo normalized=True
    # A centred STFT of F * hop samples has F + 1 frames; the feature drops the last one, repeat it here.
    magnitude = torch.cat([magnitude, magnitude[..., -1:]], dim=-1)
    gla = T.GriffinLim(
        n_fft=config.n_fft,
        n_iter=n_iter,
        win_length=config.win_length,
        hop_length=config.hop_length,
        power=1.0,
        momentum=0.99,
        rand_init=True,
        length=mel.shape[-1] * config.hop_length,
    )
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        audio = gla(magnitude)
    finally:
        torch.random.set_rng_state(generator_state)
    return audio
