"""Magnitude and power STFT of a 1-D signal in numpy, framed like `torch.stft(center=True)`.

With a periodic Hann window w of `win_length` samples, zero-padded on both sides to `n_fft` (centred, as
`torch.stft` does), and the signal reflect-padded by n_fft // 2 at both ends, frame t covers padded samples
[t hop, t hop + n_fft) and

    X[t, k] = sum_n w[n] x[t hop + n] exp(-2 pi i k n / n_fft),    k = 0 .. n_fft // 2,

so a signal of T samples has 1 + T // hop frames. Used by the spectral distances in `vaudio.metrics`
(LSD, multi-resolution STFT), which need no autograd.
"""

from __future__ import annotations

import numpy as np


def hann_window(win_length: int, n_fft: int) -> np.ndarray:
    """Periodic Hann window of `win_length` samples, zero-padded to `n_fft` with the window centred."""
    if not 0 < win_length <= n_fft:
        raise ValueError(f"win_length must be in (0, n_fft={n_fft}], got {win_length}")
    n = np.arange(win_length)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / win_length)
    left = (n_fft - win_length) // 2
    return np.pad(window, (left, n_fft - win_length - left))


def stft_magnitude(samples: np.ndarray, n_fft: int, hop_length: int, win_length: int) -> np.ndarray:
    """|X[t, k]| of a 1-D signal, shape (1 + T // hop_length, n_fft // 2 + 1), float64."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    pad = n_fft // 2
    if x.size <= pad:
        raise ValueError(f"signal of {x.size} samples is too short for a centred STFT of {n_fft} points")
    padded = np.pad(x, pad, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop_length]
    return np.abs(np.fft.rfft(frames * hann_window(win_length, n_fft), axis=-1))


def stft_power(samples: np.ndarray, n_fft: int, hop_length: int, win_length: int) -> np.ndarray:
    """|X[t, k]|^2 of a 1-D signal, shape (1 + T // hop_length, n_fft // 2 + 1), float64."""
    return stft_magnitude(samples, n_fft, hop_length, win_length) ** 2
