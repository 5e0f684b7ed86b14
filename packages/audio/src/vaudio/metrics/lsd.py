"""Log-spectral distance (LSD, dB) between generated and reference audio on STFT power spectra.

Gray & Markel 1976, "Distance measures for speech processing" (IEEE TASSP 24(5)); the frame-averaged dB form
used for speech super-resolution (Kuleshov, Enam, Ermon 2017; NU-Wave, Lee & Han 2021): with power spectra
P and P' of frame t (Hann window, `n_fft` = 1024, hop 256 at 16 kHz, the project's mel framing) and K bins,

    LSD = 1/T sum_t sqrt( 1/K sum_k (10 log10 max(P[t, k], eps) - 10 log10 max(P'[t, k], eps))^2 )   dB,

with eps = 1e-10 (-100 dB, below the per-bin power of 16-bit quantisation noise, about 3e-8), so only
digital silence is floored. LSD is 0 for identical signals; a gain g alone gives |20 log10 g| dB where
both spectra are above the floor. Frames
are compared one to one, so the pair is trimmed to the shorter signal.
"""

from __future__ import annotations

import numpy as np

from vaudio.features.stft import stft_power
from vaudio.metrics.signals import trim_to_shorter

LSD_N_FFT = 1024
LSD_HOP = 256
POWER_FLOOR = 1e-10


def log_spectral_distance(
    ref: np.ndarray, gen: np.ndarray, n_fft: int = LSD_N_FFT, hop_length: int = LSD_HOP
) -> float:
    """LSD in dB of `gen` against `ref` (trimmed to the shorter), averaged over STFT frames."""
    ref, gen = trim_to_shorter(np.asarray(ref, dtype=np.float64), np.asarray(gen, dtype=np.float64))
    db_ref = 10.0 * np.log10(np.maximum(stft_power(ref, n_fft, hop_length, n_fft), POWER_FLOOR))
    db_gen = 10.0 * np.log10(np.maximum(stft_power(gen, n_fft, hop_length, n_fft), POWER_FLOOR))
    return float(np.mean(np.sqrt(np.mean((db_ref - db_gen) ** 2, axis=-1))))
