"""Multi-resolution STFT distance: spectral convergence plus log-magnitude L1 over three STFT resolutions.

The auxiliary loss of Parallel WaveGAN (Yamamoto, Song, Kim 2020, "Parallel WaveGAN: a fast waveform
generation model based on generative adversarial networks with multi-resolution spectrogram", ICASSP;
kan-bayashi/ParallelWaveGAN `losses/stft_loss.py`), used here as a distance. For STFT magnitudes
|X| = sqrt(max(|STFT(x)|^2, 1e-7)) of the reference x and |Y| of the generated y, with N frames x bins:

    L_sc  = || |X| - |Y| ||_F / || |X| ||_F,        L_mag = 1/N || ln |X| - ln |Y| ||_1,

each averaged over the resolutions (n_fft, hop, window) of `RESOLUTIONS`; the distance is L_sc + L_mag,
0 for identical signals. The defaults are (512, 128, 512), (1024, 256, 1024), (2048, 512, 2048): hop =
n_fft / 4 with full-length Hann windows, in step with the project's 1024/256 mel framing. Parallel
WaveGAN's own resolutions, (1024, 120, 600), (2048, 240, 1200), (512, 50, 240), are `PWG_RESOLUTIONS`;
pass them to reproduce its loss values. Frames are compared one to one, so the pair is trimmed to the
shorter signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vaudio.features.stft import stft_power
from vaudio.metrics.signals import trim_to_shorter

Resolution = tuple[int, int, int]
RESOLUTIONS: tuple[Resolution, ...] = ((512, 128, 512), (1024, 256, 1024), (2048, 512, 2048))
PWG_RESOLUTIONS: tuple[Resolution, ...] = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))
POWER_FLOOR = 1e-7
"""Parallel WaveGAN's clamp on |STFT|^2 before the square root."""


@dataclass(frozen=True)
class MRSTFTDistance:
    """Spectral convergence and log-magnitude L1, each averaged over the resolutions."""

    spectral_convergence: float
    log_magnitude: float

    @property
    def total(self) -> float:
        """L_sc + L_mag, Parallel WaveGAN's auxiliary loss."""
        return self.spectral_convergence + self.log_magnitude


def _magnitude(samples: np.ndarray, n_fft: int, hop_length: int, win_length: int) -> np.ndarray:
    return np.sqrt(np.maximum(stft_power(samples, n_fft, hop_length, win_length), POWER_FLOOR))


def multi_resolution_stft(
    ref: np.ndarray, gen: np.ndarray, resolutions: tuple[Resolution, ...] = RESOLUTIONS
) -> MRSTFTDistance:
    """Multi-resolution STFT distance of `gen` against `ref` (trimmed to the shorter)."""
    ref, gen = trim_to_shorter(np.asarray(ref, dtype=np.float64), np.asarray(gen, dtype=np.float64))
    sc = mag = 0.0
    for n_fft, hop_length, win_length in resolutions:
        mag_ref = _magnitude(ref, n_fft, hop_length, win_length)
        mag_gen = _magnitude(gen, n_fft, hop_length, win_length)
        sc += float(np.linalg.norm(mag_ref - mag_gen) / np.linalg.norm(mag_ref))
        mag += float(np.mean(np.abs(np.log(mag_ref) - np.log(mag_gen))))
    return MRSTFTDistance(sc / len(resolutions), mag / len(resolutions))
