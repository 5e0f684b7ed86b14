r"""PriorGrad's data-dependent prior for the vocoder (Lee et al. 2022, "PriorGrad", sec. 3.1 and 4).

The diffusion noise of frame f has standard deviation

    sigma_f = max(floor, gain * sqrt(mean_k M_{k,f}^2)),

M the mel magnitudes (the normalised log-mel mapped back by `denormalise_db`), repeated over the frame's
`hop` samples. `gain` is fitted on training audio (`fit_prior_gain`) so that sigma_f matches the RMS of the
frame's samples; `floor` keeps silent frames from collapsing the prior. PriorGrad uses the normalised
frame energy in the same way; the point is that the prior already carries the signal's envelope, so the
network only has to model the whitened residual.
"""

from __future__ import annotations

import torch
from torch import Tensor

from vaudio.features.mel import MelConfig, denormalise_db


def mel_level(mel: Tensor, config: MelConfig) -> Tensor:
    """sqrt(mean_k M_k^2) per frame: [B, F] for a normalised log-mel [B, n_mels, F]."""
    magnitude = denormalise_db(mel, config)
    return magnitude.pow(2).mean(dim=-2).sqrt()


def frame_sigma(mel: Tensor, config: MelConfig, gain: float, floor: float) -> Tensor:
    """sigma_f [B, F] of the prior."""
    return (gain * mel_level(mel, config)).clamp_min(floor)


def sample_sigma(mel: Tensor, config: MelConfig, gain: float, floor: float) -> Tensor:
    """sigma per sample [B, F * hop]: each frame's sigma repeated over its hop samples."""
    return frame_sigma(mel, config, gain, floor).repeat_interleave(config.hop_length, dim=-1)


def frame_rms(audio: Tensor, hop: int) -> Tensor:
    """RMS of each hop-long frame [B, T // hop] of audio [B, T]."""
    frames = audio.shape[-1] // hop
    return audio[..., : frames * hop].unflatten(-1, (frames, hop)).pow(2).mean(dim=-1).sqrt()


def fit_prior_gain(audio: list[Tensor], mels: list[Tensor], config: MelConfig) -> float:
    """Least-squares gain g minimising sum_f (rms_f - g * level_f)^2 over the given clips."""
    num, den = 0.0, 0.0
    for wav, mel in zip(audio, mels, strict=True):
        rms = frame_rms(wav.reshape(1, -1), config.hop_length)[0]
        level = mel_level(mel.reshape(1, *mel.shape[-2:]), config)[0, : rms.numel()]
        num += float((rms * level).sum())
        den += float((level * level).sum())
    if den <= 0.0:
        raise ValueError("cannot fit the prior gain: the mels are silent")
    return num / den


def standard_sigma(mel: Tensor, config: MelConfig) -> Tensor:
    """sigma = 1 everywhere (the standard DiffWave prior), [B, F * hop]."""
    return torch.ones(mel.shape[0], mel.shape[-1] * config.hop_length, device=mel.device)
