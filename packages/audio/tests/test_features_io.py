"""Audio I/O and the log-mel features: shapes, ranges, round trips and the errors a user can cause."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import soundfile as sf
import torch

from vaudio.features.mel import (
    MelConfig,
    check_mel,
    denormalise_db,
    griffin_lim,
    mel_spectrogram,
    normalise_db,
)
from vaudio.io.audio import load_audio, save_audio
from vcore.errors import UserError


def harmonic(seconds: float = 1.0, f0: float = 180.0, rate: int = 16000) -> np.ndarray:
    """A 10-harmonic tone with 1/k amplitudes, peak about 0.5."""
    t = np.arange(int(seconds * rate)) / rate
    x = sum(np.sin(2 * math.pi * k * f0 * t) / k for k in range(1, 11))
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def test_mel_shape_range_and_frames() -> None:
    config = MelConfig()
    mel = mel_spectrogram(torch.from_numpy(harmonic(1.0)), config)
    assert mel.shape == (80, 16000 // 256)
    assert float(mel.min()) >= 0.0
    assert float(mel.max()) <= 1.0
    assert mel_spectrogram(torch.zeros(16000), config).max() == 0.0  # silence is the floor


def test_normalisation_round_trip() -> None:
    config = MelConfig()
    magnitude = torch.logspace(-4, 0.9, 50)  # -80 dB .. +18 dB, inside the clip range
    assert torch.allclose(denormalise_db(normalise_db(magnitude, config), config), magnitude, rtol=1e-4)


def test_griffin_lim_reproduces_the_mel() -> None:
    config = MelConfig()
    mel = mel_spectrogram(torch.from_numpy(harmonic(1.0)), config)
    audio = griffin_lim(mel, config, n_iter=32)
    assert audio.shape == (mel.shape[-1] * config.hop_length,)
    error = float((mel_spectrogram(audio, config) - mel).abs().mean())
    noise = torch.randn(audio.shape) * float(audio.pow(2).mean().sqrt())
    assert error < 0.08
    assert error < 0.5 * float((mel_spectrogram(noise, config) - mel).abs().mean())


def test_check_mel_rejects_wrong_bins_and_nan() -> None:
    config = MelConfig()
    with pytest.raises(UserError, match="shape"):
        check_mel(torch.zeros(64, 10), config)
    with pytest.raises(UserError, match="NaN"):
        check_mel(torch.full((80, 10), float("nan")), config)


def test_save_and_load_round_trip(tmp_path) -> None:
    x = harmonic(0.5)
    save_audio(tmp_path / "a.wav", x, 16000)
    y = load_audio(tmp_path / "a.wav", 16000)
    assert np.abs(y - x).max() < 1e-4
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"]  # no temporary left behind


def test_load_resamples_and_downmixes_with_warnings(tmp_path, caplog) -> None:
    stereo = np.stack([harmonic(1.0, rate=22050), harmonic(1.0, rate=22050)], axis=1)
    sf.write(tmp_path / "s.wav", stereo, 22050)
    with caplog.at_level(logging.WARNING):
        y = load_audio(tmp_path / "s.wav", 16000)
    assert abs(len(y) - 16000) <= 1
    assert "down-mixed" in caplog.text
    assert "resampled" in caplog.text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("missing.wav", None, "no such audio file"), ("text.wav", b"not audio at all", "not an audio file")],
)
def test_load_rejects_bad_files(tmp_path, name, content, message) -> None:
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(UserError, match=message):
        load_audio(tmp_path / name, 16000)


def test_load_rejects_empty_and_nan_audio(tmp_path) -> None:
    sf.write(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(UserError, match="no samples"):
        load_audio(tmp_path / "empty.wav", 16000)
    sf.write(tmp_path / "nan.wav", np.full(100, np.nan, dtype=np.float32), 16000, subtype="FLOAT")
    with pytest.raises(UserError, match="NaN"):
        load_audio(tmp_path / "nan.wav", 16000)
