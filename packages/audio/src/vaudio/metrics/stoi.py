"""Short-time objective intelligibility (STOI) of generated speech against a reference, through `pystoi`.

Taal, Hendriks, Heusdens, Jensen 2011, "An algorithm for intelligibility prediction of time-frequency
weighted noisy speech", IEEE TASLP 19(7); `pystoi` (mpariente/pystoi) follows the authors' MATLAB code:
both signals are resampled to 10 kHz, frames where the reference is more than 40 dB below its loudest frame
are dropped, and one-third-octave band envelopes over 384 ms segments are correlated after clipping the
generated one at -15 dB SDR. The score is the mean correlation, 1 for identical signals and near 0 for
unrelated ones. STOI compares frame by frame, so the pair is trimmed to the shorter signal.
"""

from __future__ import annotations

import warnings

import numpy as np

from vaudio.metrics.signals import trim_to_shorter
from vcore.errors import UserError


def stoi(ref: np.ndarray, gen: np.ndarray, sample_rate: int, extended: bool = False) -> float:
    """STOI (or extended STOI, Jensen & Taal 2016) of `gen` against `ref`; UserError if too little speech."""
    from pystoi import stoi as pystoi_stoi

    ref, gen = trim_to_shorter(np.asarray(ref, dtype=np.float64), np.asarray(gen, dtype=np.float64))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        score = float(pystoi_stoi(ref, gen, sample_rate, extended=extended))
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        raise UserError("STOI needs at least 384 ms of non-silent reference audio")
    return score
