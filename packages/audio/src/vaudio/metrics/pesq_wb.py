"""Wideband PESQ (ITU-T P.862.2) of generated speech against a reference, through the PyPI `pesq` package.

ITU-T Rec. P.862 (2001), "Perceptual evaluation of speech quality (PESQ)", and P.862.2 (2007), its wideband
extension for 16 kHz audio; `pesq` (ludlows/PESQ) wraps the ITU reference C code. PESQ level-aligns and
time-aligns the two signals itself and maps its disturbance measure to a MOS-LQO score: 4.64 for identical
signals (the top of P.862.2's mapping), about 1.04 at worst. It is gain-invariant, needs at least 0.25 s of
audio, and misjudges noise-like output (see DESIGN.md): read it together with STOI.
"""

from __future__ import annotations

import numpy as np

from vaudio.metrics.signals import is_silent
from vcore.errors import UserError

PESQ_SAMPLE_RATE = 16000
PESQ_MIN_SECONDS = 0.25
PESQ_WB_MAX = 4.644
"""PESQ-wb of a signal against itself (P.862.2's mapping at zero disturbance)."""


def pesq_wb(ref: np.ndarray, gen: np.ndarray, sample_rate: int = PESQ_SAMPLE_RATE) -> float:
    """PESQ-wb MOS-LQO of `gen` against `ref`, both 16 kHz mono; UserError for silent or too-short audio."""
    from pesq import BufferTooShortError, NoUtterancesError, pesq

    if sample_rate != PESQ_SAMPLE_RATE:
        raise ValueError(f"wideband PESQ needs {PESQ_SAMPLE_RATE} Hz audio, got {sample_rate} Hz")
    ref = np.asarray(ref, dtype=np.float64)
    gen = np.asarray(gen, dtype=np.float64)
    if min(len(ref), len(gen)) < PESQ_MIN_SECONDS * sample_rate:
        raise UserError(
            f"PESQ needs at least {PESQ_MIN_SECONDS} s of audio, got {min(len(ref), len(gen))} samples"
        )
    if is_silent(gen):
        raise UserError("PESQ is undefined for silent generated audio")
    try:
        return float(pesq(sample_rate, ref, gen, "wb"))
    except NoUtterancesError:
        raise UserError("PESQ found no speech in the reference audio") from None
    except BufferTooShortError:
        raise UserError(f"PESQ needs at least {PESQ_MIN_SECONDS} s of audio") from None
