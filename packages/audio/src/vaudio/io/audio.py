"""Read and write audio files through soundfile, at the model's sample rate.

`load_audio(path, sample_rate)` returns mono float32 samples in [-1, 1] at `sample_rate`: other rates
are resampled with torchaudio's band-limited sinc interpolation (`torchaudio.functional.resample`),
several channels are averaged, each with a warning. Everything a user can get wrong (a missing file,
a file soundfile cannot decode, no samples, NaN or infinite samples) raises `UserError` naming the file.
`save_audio` writes 16-bit PCM WAV to a temporary sibling and renames it, so a crash leaves no
half-written file.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from vcore.errors import UserError
from vcore.io.atomic import atomic_file

logger = logging.getLogger(__name__)


def resample(samples: np.ndarray, orig_rate: int, new_rate: int) -> np.ndarray:
    """Band-limited resampling of a 1-D float32 signal (torchaudio's windowed-sinc resampler)."""
    if orig_rate == new_rate:
        return samples
    import torch
    import torchaudio.functional as AF

    out = AF.resample(torch.from_numpy(np.ascontiguousarray(samples)), orig_rate, new_rate)
    return out.numpy().astype(np.float32, copy=False)


def load_audio(path: str | os.PathLike[str], sample_rate: int) -> np.ndarray:
    """Mono float32 samples of `path` at `sample_rate` (resampled and down-mixed with a warning)."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such audio file")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise UserError(f"{path}: not an audio file soundfile can read ({err})") from None
    if data.shape[0] == 0:
        raise UserError(f"{path}: the audio file has no samples")
    if not np.isfinite(data).all():
        raise UserError(f"{path}: the audio contains NaN or infinite samples")
    if data.shape[1] > 1:
        logger.warning("%s: %d channels down-mixed to mono", path, data.shape[1])
    samples = data.mean(axis=1).astype(np.float32)
    if rate != sample_rate:
        logger.warning("%s: resampled from %d Hz to %d Hz", path, rate, sample_rate)
        samples = resample(samples, int(rate), sample_rate)
    return samples


def save_audio(path: str | os.PathLike[str], samples: np.ndarray, sample_rate: int) -> Path:
    """Write mono samples as 16-bit PCM WAV, atomically; values outside [-1, 1] are clipped."""
    import soundfile as sf

    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if not np.isfinite(samples).all():
        raise ValueError("refusing to write audio with NaN or infinite samples")
    path = Path(path)
    with atomic_file(path) as tmp:
        sf.write(str(tmp), np.clip(samples, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
    return path
