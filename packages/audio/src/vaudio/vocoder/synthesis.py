"""Mel -> waveform with the chosen vocoder (`vaudio.vocoder.choice`), the one call every command uses.

DiffWave's sampler follows `steps`: 6 is DiffWave's fractional fast schedule, the model's T (50) the full
ancestral chain, any other N a deterministic DDIM over N evenly spaced training steps (`process.sample`).
Griffin-Lim runs `gl_iters` iterations (`vaudio.features.mel.griffin_lim`). The result is float32 mono
audio of frames * hop samples, peak-limited to [-1, 1].
"""

from __future__ import annotations

import numpy as np
import torch

from vaudio.features.mel import MelConfig, check_mel, griffin_lim
from vaudio.vocoder import process
from vaudio.vocoder.choice import VocoderChoice
from vcore.errors import UserError

FAST_STEPS = 6


def sampler_for(steps: int, num_steps: int) -> tuple[process.Method, int | None]:
    """(method, steps) for `process.sample`: 6 -> fast, T -> ddpm, else ddim N."""
    if steps < 1 or steps > num_steps:
        raise UserError(f"--steps must be between 1 and the model's {num_steps} training steps, got {steps}")
    if steps == FAST_STEPS:
        return "fast", None
    if steps == num_steps:
        return "ddpm", None
    return "ddim", steps


def mel_config_of(choice: VocoderChoice) -> MelConfig:
    """The feature definition the vocoder expects (the checkpoint's, or the package default)."""
    return choice.model.config.mel if choice.model is not None else MelConfig()


def vocode_mel(
    choice: VocoderChoice, mel: torch.Tensor, steps: int = FAST_STEPS, seed: int = 0, gl_iters: int = 32
) -> np.ndarray:
    """Audio [frames * hop] for a normalised log-mel [n_mels, frames]."""
    config = mel_config_of(choice)
    check_mel(mel, config)
    if mel.dim() != 2:
        raise UserError(f"expected one mel spectrogram (n_mels, frames), got shape {tuple(mel.shape)}")
    if choice.model is None:
        audio = griffin_lim(mel.float(), config, n_iter=gl_iters, seed=seed)
    else:
        method, n = sampler_for(steps, choice.model.config.num_steps)
        generator = torch.Generator().manual_seed(seed)
        audio = process.sample(choice.model, mel.float(), method, n, generator=generator)
    return audio.clamp(-1.0, 1.0).numpy().astype(np.float32)
