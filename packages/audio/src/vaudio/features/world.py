"""F0 contours and spectral envelopes from the WORLD vocoder's analysis (pyworld).

Morise, Yokomori, Ozawa 2016, "WORLD: a vocoder-based high-quality speech synthesis system for real-time
applications" (IEICE Trans. Inf. Syst. E99-D(7)). Frames are every `frame_period` ms (5 ms, WORLD's default);
frame t is centred on sample t * frame_period * sample_rate / 1000, so a signal of T samples has
1 + floor(1000 T / (sample_rate * frame_period)) frames.

- `extract_f0`: F0 in Hz per frame, 0 where the frame is unvoiced. `harvest` (Morise 2017, "Harvest: a
  high-performance fundamental frequency estimator from speech signals", Interspeech) is the default: it
  makes fewer voicing errors than DIO and is what singing-voice toolkits use, at about 0.2 s of CPU per
  second of 16 kHz audio; `dio` (Morise, Kawahara, Katayose 2009) refined by StoneMask is about 30x faster.
  Both search [F0_FLOOR, F0_CEIL] = [71, 800] Hz, WORLD's defaults, which cover speech and most singing.
- `spectral_envelope`: CheapTrick (Morise 2015, Speech Communication 67), the F0-adaptive power envelope
  |H(f)|^2 of each frame, shape (frames, fft_size // 2 + 1) with fft_size 1024 at 16 kHz.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

F0Method = Literal["harvest", "dio"]
F0_METHODS: tuple[F0Method, ...] = ("harvest", "dio")
FRAME_PERIOD_MS = 5.0
F0_FLOOR = 71.0
F0_CEIL = 800.0


def extract_f0(
    samples: np.ndarray,
    sample_rate: int,
    method: F0Method = "harvest",
    frame_period: float = FRAME_PERIOD_MS,
) -> tuple[np.ndarray, np.ndarray]:
    """(f0 in Hz with 0 for unvoiced frames, frame times in s) of a 1-D signal, both float64 (frames,)."""
    import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64).reshape(-1)
    if method == "harvest":
        f0, times = pyworld.harvest(
            x, sample_rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=frame_period
        )
    elif method == "dio":
        raw, times = pyworld.dio(
            x, sample_rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=frame_period
        )
        f0 = pyworld.stonemask(x, raw, times, sample_rate)
    else:
        raise ValueError(f"F0 method must be one of {', '.join(F0_METHODS)}, got {method!r}")
    return np.asarray(f0, dtype=np.float64), np.asarray(times, dtype=np.float64)


def spectral_envelope(samples: np.ndarray, f0: np.ndarray, times: np.ndarray, sample_rate: int) -> np.ndarray:
    """CheapTrick power envelope (frames, fft_size // 2 + 1) of a signal given its F0 contour."""
    import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64).reshape(-1)
    return np.asarray(pyworld.cheaptrick(x, f0, times, sample_rate, f0_floor=F0_FLOOR), dtype=np.float64)
