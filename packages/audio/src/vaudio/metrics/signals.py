"""Checks shared by the metrics: a (reference, generated) pair as two finite 1-D float64 signals.

Frame-aligned metrics compare frame t of one signal with frame t of the other, so the pair is trimmed to
the shorter signal: a vocoder may pad its output to a multiple of its hop, which only adds a tail. A
difference of more than `LENGTH_WARNING_S` is logged, since then the signals are probably not aligned.
A reference whose peak is below `SILENCE_PEAK` (-80 dBFS) is silent: PESQ, STOI and the spectral distances
have nothing to compare against.
"""

from __future__ import annotations

import logging

import numpy as np

from vcore.errors import UserError

logger = logging.getLogger(__name__)

SILENCE_PEAK = 1e-4
"""Peak amplitude below which a signal counts as silent (-80 dBFS; 16-bit PCM's step is 3e-5)."""

LENGTH_WARNING_S = 0.1
"""Length differences above this many seconds are trimmed with a warning."""


def as_signal(samples: np.ndarray, name: str) -> np.ndarray:
    """`samples` as a 1-D float64 array (singleton axes dropped); UserError if empty, not 1-D or not finite."""
    x = np.squeeze(np.asarray(samples, dtype=np.float64))
    if x.ndim != 1:
        raise UserError(
            f"{name}: expected mono audio (one channel), got an array of shape {np.shape(samples)}"
        )
    if x.size == 0:
        raise UserError(f"{name}: the audio has no samples")
    if not np.isfinite(x).all():
        raise UserError(f"{name}: the audio contains NaN or infinite samples")
    return x


def is_silent(samples: np.ndarray) -> bool:
    """True when the peak amplitude is below `SILENCE_PEAK` (-80 dBFS)."""
    return bool(np.max(np.abs(samples)) < SILENCE_PEAK)


def trim_to_shorter(ref: np.ndarray, gen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both signals cut to the length of the shorter one (their common start is kept)."""
    n = min(len(ref), len(gen))
    return ref[:n], gen[:n]


def check_pair(
    ref: np.ndarray,
    gen: np.ndarray,
    sample_rate: int,
    min_seconds: float,
    ref_name: str = "reference",
    gen_name: str = "generated",
) -> tuple[np.ndarray, np.ndarray]:
    """The pair trimmed to the shorter signal; UserError for a silent reference or a too-short signal."""
    ref, gen = as_signal(ref, ref_name), as_signal(gen, gen_name)
    if is_silent(ref):
        raise UserError(
            f"{ref_name}: the reference audio is silent (peak below -80 dBFS); nothing to compare"
        )
    shorter_name, shorter = (ref_name, ref) if len(ref) <= len(gen) else (gen_name, gen)
    if len(shorter) < min_seconds * sample_rate:
        raise UserError(
            f"{shorter_name}: {len(shorter) / sample_rate:.3f} s of audio is too short, "
            f"the metrics need at least {min_seconds} s (PESQ's minimum)"
        )
    if abs(len(ref) - len(gen)) > LENGTH_WARNING_S * sample_rate:
        logger.warning(
            "%s has %d samples and %s %d: both are trimmed to the shorter, check that they are aligned",
            ref_name,
            len(ref),
            gen_name,
            len(gen),
        )
    return trim_to_shorter(ref, gen)
