"""F0 RMSE in cents over frames voiced in both signals, and the voiced/unvoiced (V/UV) error rate.

The pitch measures of singing and speech synthesis (e.g. DiffSinger, Liu et al. 2022; NNSVS, Yamamoto et
al. 2023): F0 contours f (reference) and f' (generated) from WORLD every 5 ms (`vaudio.features.world`,
Harvest by default), f = 0 on unvoiced frames. Over the V frames voiced in both,

    F0 RMSE = sqrt( 1/V sum_t (1200 log2(f'_t / f_t))^2 )   cents,

so a pitch shift of s cents gives s, and an octave error 1200; it is None when no frame is voiced in both.
Over all T frames, V/UV error = 1/T #{t : (f_t > 0) != (f'_t > 0)}. Frames are compared one to one, so the
pair is trimmed to the shorter signal (both then have the same number of frames).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vaudio.features.world import F0Method, extract_f0
from vaudio.metrics.signals import trim_to_shorter


@dataclass(frozen=True)
class F0Errors:
    """F0 RMSE (cents; None without common voiced frames), V/UV error rate and the frame counts."""

    rmse_cents: float | None
    vuv_error: float
    voiced_in_both: int
    frames: int


def f0_errors(f0_ref: np.ndarray, f0_gen: np.ndarray) -> F0Errors:
    """F0 RMSE and V/UV error of two F0 contours in Hz (0 = unvoiced), trimmed to the shorter."""
    f0_ref, f0_gen = trim_to_shorter(
        np.asarray(f0_ref, dtype=np.float64), np.asarray(f0_gen, dtype=np.float64)
    )
    voiced_ref, voiced_gen = f0_ref > 0, f0_gen > 0
    both = voiced_ref & voiced_gen
    rmse: float | None = None
    if both.any():
        cents = 1200.0 * np.log2(f0_gen[both] / f0_ref[both])
        rmse = float(np.sqrt(np.mean(cents**2)))
    return F0Errors(rmse, float(np.mean(voiced_ref != voiced_gen)), int(both.sum()), len(f0_ref))


def f0_metrics(ref: np.ndarray, gen: np.ndarray, sample_rate: int, method: F0Method = "harvest") -> F0Errors:
    """F0 RMSE and V/UV error of `gen` against `ref` (trimmed to the shorter)."""
    ref, gen = trim_to_shorter(np.asarray(ref, dtype=np.float64), np.asarray(gen, dtype=np.float64))
    return f0_errors(extract_f0(ref, sample_rate, method)[0], extract_f0(gen, sample_rate, method)[0])
