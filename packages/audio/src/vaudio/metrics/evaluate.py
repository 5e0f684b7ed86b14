"""All audio quality metrics of one (reference, generated) pair at 16 kHz, as a flat JSON-ready dict.

PESQ-wb (`pesq_wb`), STOI (`stoi`), MCD (`mcd`), LSD (`lsd`), the multi-resolution STFT distance
(`mrstft`), F0 RMSE and V/UV error (`f0`). Signals at another rate are resampled to 16 kHz first. The pair
is trimmed to the shorter signal for every metric (a vocoder may pad to a multiple of its hop; MCD's DTW
would not need it, but one compared span keeps the numbers consistent). WORLD's analysis of each signal
(F0 and spectral envelope) is computed once and shared by MCD and the F0 metrics.

A silent reference or a pair shorter than 0.25 s raises `UserError`. A metric that is undefined for a valid
pair is None, with the reason under `skipped`: PESQ for silent generated audio, STOI when less than 384 ms of
the reference is above its silence threshold, F0 RMSE when no frame is voiced in both signals.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from vaudio.features.world import F0_METHODS, F0Method, extract_f0, spectral_envelope
from vaudio.io.audio import resample
from vaudio.metrics.f0 import f0_errors
from vaudio.metrics.lsd import log_spectral_distance
from vaudio.metrics.mcd import MCEP_ORDER, mcd_from_mel_cepstra, mcep_alpha, mel_cepstrum_from_envelope
from vaudio.metrics.mrstft import multi_resolution_stft
from vaudio.metrics.pesq_wb import PESQ_MIN_SECONDS, PESQ_SAMPLE_RATE, pesq_wb
from vaudio.metrics.signals import as_signal, check_pair, is_silent
from vaudio.metrics.stoi import stoi
from vcore.errors import UserError

logger = logging.getLogger(__name__)

EVAL_SAMPLE_RATE = PESQ_SAMPLE_RATE


def evaluate_pair(
    ref: np.ndarray,
    gen: np.ndarray,
    sample_rate: int = EVAL_SAMPLE_RATE,
    *,
    f0_method: F0Method = "harvest",
    ref_name: str = "reference",
    gen_name: str = "generated",
) -> dict[str, Any]:
    """Every metric of mono `gen` against mono `ref` (both at `sample_rate`); names label UserErrors."""
    if f0_method not in F0_METHODS:
        raise UserError(f"F0 method must be one of {', '.join(F0_METHODS)}, got {f0_method!r}")
    ref, gen = as_signal(ref, ref_name), as_signal(gen, gen_name)
    ref_samples, gen_samples = len(ref), len(gen)
    if sample_rate != EVAL_SAMPLE_RATE:
        ref = resample(ref.astype(np.float32), sample_rate, EVAL_SAMPLE_RATE).astype(np.float64)
        gen = resample(gen.astype(np.float32), sample_rate, EVAL_SAMPLE_RATE).astype(np.float64)
    sr = EVAL_SAMPLE_RATE
    ref, gen = check_pair(ref, gen, sr, PESQ_MIN_SECONDS, ref_name, gen_name)
    skipped: dict[str, str] = {}

    pesq: float | None = None
    if is_silent(gen):
        skipped["pesq_wb"] = "generated audio is silent"
    else:
        pesq = pesq_wb(ref, gen, sr)
    stoi_score: float | None = None
    try:
        stoi_score = stoi(ref, gen, sr)
    except UserError as err:
        skipped["stoi"] = str(err)

    f0_ref, times_ref = extract_f0(ref, sr, f0_method)
    f0_gen, times_gen = extract_f0(gen, sr, f0_method)
    mc_ref = mel_cepstrum_from_envelope(spectral_envelope(ref, f0_ref, times_ref, sr), sr)
    mc_gen = mel_cepstrum_from_envelope(spectral_envelope(gen, f0_gen, times_gen, sr), sr)
    pitch = f0_errors(f0_ref, f0_gen)
    if pitch.rmse_cents is None:
        skipped["f0_rmse_cents"] = "no frame is voiced in both signals"
    mrstft = multi_resolution_stft(ref, gen)
    for name, reason in skipped.items():
        logger.warning("%s skipped: %s", name, reason)
    return {
        "sample_rate": sr,
        "ref_samples": ref_samples,
        "gen_samples": gen_samples,
        "input_sample_rate": sample_rate,
        "compared_seconds": len(ref) / sr,
        "pesq_wb": pesq,
        "stoi": stoi_score,
        "mcd_db": mcd_from_mel_cepstra(mc_ref, mc_gen),
        "lsd_db": log_spectral_distance(ref, gen),
        "mrstft": mrstft.total,
        "mrstft_sc": mrstft.spectral_convergence,
        "mrstft_log_mag": mrstft.log_magnitude,
        "f0_rmse_cents": pitch.rmse_cents,
        "vuv_error": pitch.vuv_error,
        "voiced_frames_in_both": pitch.voiced_in_both,
        "f0_frames": pitch.frames,
        "f0_method": f0_method,
        "mcep_order": MCEP_ORDER,
        "mcep_alpha": mcep_alpha(sr),
        "skipped": skipped,
    }
