r"""Mel-cepstral distortion (MCD, dB) between generated and reference speech, DTW-aligned.

Kubichek 1993, "Mel-cepstral distance measure for objective speech quality assessment" (IEEE PACRIM); the
usual form in speech synthesis (e.g. ESPnet's `evaluate_mcd.py`): for mel-cepstra c (reference) and c'
(generated) of aligned frames,

    MCD = 10 / ln 10 * sqrt(2 * sum_{d=1}^{D} (c_d - c'_d)^2)   dB,

averaged over the aligned frame pairs. By Parseval this is the RMS over (warped) frequency of the difference
of the two log-amplitude envelopes in dB, without the mean (c_0): MCD is invariant to gain. With
`include_c0=True` the sum starts at d = 0, and a gain g alone gives exactly 10 / ln 10 * sqrt(2) * |ln g| dB
(4.26 dB for g = 1/2), since c_0 is the mean log amplitude (natural log) and shifts by ln g.

Features: WORLD analysis every 5 ms (`vaudio.features.world`: F0 by Harvest or DIO + StoneMask, then the
CheapTrick power envelope), converted by `pysptk.sp2mc` to an all-pass-warped mel-cepstrum of order
`MCEP_ORDER` = 24 (c_0 .. c_24, so D = 24), alpha = 0.42 at 16 kHz (SPTK's value for 16 kHz, as in ESPnet;
`pysptk.util.mcepalpha` at other rates). Every frame is used, silent ones included. Frames are aligned by
DTW (`vaudio.metrics.dtw`) with the Euclidean distance of the same coefficients, so the path minimises the
summed per-frame MCD, and the average is over the L pairs on the path.
"""

from __future__ import annotations

import math

import numpy as np

from vaudio.features.world import F0Method, extract_f0, spectral_envelope
from vaudio.metrics.dtw import dtw

MCEP_ORDER = 24
MCEP_ALPHA = {16000: 0.42}
"""All-pass constants by sample rate (SPTK's documented value for 16 kHz); others use pysptk.mcepalpha."""

MCD_SCALE = 10.0 / math.log(10.0) * math.sqrt(2.0)
"""10 / ln 10 * sqrt(2): MCD in dB per unit Euclidean distance of mel-cepstra."""


def mcep_alpha(sample_rate: int) -> float:
    """Frequency-warping constant of the mel-cepstrum at `sample_rate` (0.42 at 16 kHz)."""
    if sample_rate in MCEP_ALPHA:
        return MCEP_ALPHA[sample_rate]
    import pysptk

    return float(pysptk.util.mcepalpha(sample_rate))


def mel_cepstrum_from_envelope(envelope: np.ndarray, sample_rate: int, order: int = MCEP_ORDER) -> np.ndarray:
    """Mel-cepstra c_0 .. c_order (frames, order + 1) of a power spectral envelope (frames, bins)."""
    import pysptk

    return np.asarray(pysptk.sp2mc(envelope, order, mcep_alpha(sample_rate)), dtype=np.float64)


def mel_cepstrum(
    samples: np.ndarray, sample_rate: int, order: int = MCEP_ORDER, f0_method: F0Method = "harvest"
) -> np.ndarray:
    """Mel-cepstra (frames, order + 1) of a signal from WORLD's 5-ms analysis."""
    f0, times = extract_f0(samples, sample_rate, f0_method)
    return mel_cepstrum_from_envelope(spectral_envelope(samples, f0, times, sample_rate), sample_rate, order)


def mcd_from_mel_cepstra(mc_ref: np.ndarray, mc_gen: np.ndarray, include_c0: bool = False) -> float:
    """MCD (dB) of two mel-cepstrum sequences (frames, order + 1), averaged over their DTW alignment."""
    first = 0 if include_c0 else 1
    return MCD_SCALE * dtw(mc_ref[:, first:], mc_gen[:, first:]).mean_cost


def mel_cepstral_distortion(
    ref: np.ndarray,
    gen: np.ndarray,
    sample_rate: int,
    order: int = MCEP_ORDER,
    f0_method: F0Method = "harvest",
    include_c0: bool = False,
) -> float:
    """MCD (dB) of `gen` against `ref`, c_0 excluded unless `include_c0`; lengths may differ (DTW)."""
    return mcd_from_mel_cepstra(
        mel_cepstrum(ref, sample_rate, order, f0_method),
        mel_cepstrum(gen, sample_rate, order, f0_method),
        include_c0,
    )
