"""DiffWave: the conditioner, PriorGrad's change of variables in the bound, the samplers and training."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math

import numpy as np
import pytest
import torch

from vaudio.features.mel import MelConfig, mel_spectrogram
from vaudio.io.audio import save_audio
from vaudio.vocoder import process
from vaudio.vocoder.diffwave import DiffWave, DiffWaveConfig, add_interpolated, step_embedding
from vaudio.vocoder.prior import fit_prior_gain, frame_rms, mel_level, sample_sigma
from vaudio.vocoder.synthesis import sampler_for

TINY = DiffWaveConfig(residual_channels=4, residual_layers=3, dilation_cycle=2)


def tiny(prior: str = "standard", **kw: float) -> DiffWave:
    torch.manual_seed(0)
    model = DiffWave(dataclasses.replace(TINY, prior=prior, **kw))
    torch.nn.init.normal_(model.final.weight, std=0.1)  # a non-trivial eps_theta
    return model.eval()


def test_interpolation_hits_frame_centres_and_is_linear_between() -> None:
    hop, frames = 8, 3
    cond = torch.tensor([[[0.0, 8.0, 16.0, 16.0]]])  # [B, 1, F + 1]
    out = add_interpolated(torch.zeros(1, 1, frames * hop), cond, hop)
    assert torch.allclose(out[0, 0, ::hop], torch.tensor([0.0, 8.0, 16.0]))
    assert torch.allclose(out[0, 0, :hop], torch.arange(hop, dtype=torch.float32))  # slope 1 per sample


def test_step_embedding_closed_form() -> None:
    e = step_embedding(torch.tensor([3.0, 7.5]))
    k = torch.arange(64, dtype=torch.float32)
    assert e.shape == (2, 128)
    assert torch.allclose(e[1, :64], torch.sin(7.5 * 10 ** (4 * k / 63)), atol=1e-4)
    assert torch.allclose(e[0, 64:], torch.cos(3.0 * 10 ** (4 * k / 63)), atol=1e-4)


def test_network_output_shape_and_conditioner_reuse() -> None:
    model = tiny()
    mel = torch.rand(2, 80, 5)
    y = torch.randn(2, 5 * 256)
    t = torch.tensor([1.0, 30.0])
    assert model(y, t, mel).shape == (2, 5 * 256)
    assert torch.allclose(model(y, t, mel), model.denoise(y, t, model.condition(mel)))


def test_prior_gain_recovers_a_known_scale() -> None:
    config = MelConfig()
    rng = np.random.default_rng(0)
    audio = torch.from_numpy(rng.standard_normal(16000).astype(np.float32)) * 0.1
    mel = mel_spectrogram(audio, config)
    gain = fit_prior_gain([audio], [mel], config)
    louder = fit_prior_gain([audio * 2], [mel_spectrogram(audio * 2, config)], config)
    assert louder == pytest.approx(gain, rel=1e-3)  # the level scales with the audio, the gain does not
    sigma = gain * mel_level(mel[None], config)[0]
    rms = frame_rms(audio[None], config.hop_length)[0]
    assert float((sigma[1:-1] / rms[1:-1]).mean()) == pytest.approx(1.0, abs=0.05)


def test_priorgrad_bound_is_the_standard_bound_plus_log_sigma() -> None:
    """With sigma = c everywhere, -log p(x) = -log p_y(x / c) + D log c exactly (change of variables)."""
    c = 0.25
    standard = tiny("standard")
    scaled = tiny("priorgrad", prior_gain=0.0, prior_floor=c)
    scaled.load_state_dict(standard.state_dict())
    mel = torch.rand(1, 80, 4)
    assert torch.allclose(sample_sigma(mel, scaled.config.mel, 0.0, c), torch.full((1, 1024), c))
    x = 0.1 * torch.randn(1, 4 * 256)
    a = process.vlb(scaled, x, mel, torch.Generator().manual_seed(5))
    b = process.vlb(standard, x / c, mel, torch.Generator().manual_seed(5))
    assert float(a) == pytest.approx(float(b) + math.log(c), rel=1e-5)


def test_loss_is_the_noise_mse_of_a_zero_network() -> None:
    model = tiny()
    torch.nn.init.zeros_(model.final.weight)
    value = process.loss(
        model, 0.1 * torch.randn(4, 2048), torch.rand(4, 80, 8), torch.Generator().manual_seed(0)
    )
    assert float(value) == pytest.approx(1.0, abs=0.05)  # E z^2 = 1


@pytest.mark.parametrize(
    ("steps", "expected"), [(6, ("fast", None)), (50, ("ddpm", None)), (10, ("ddim", 10))]
)
def test_steps_choose_the_sampler(steps, expected) -> None:
    assert sampler_for(steps, 50) == expected


def test_fast_sampler_runs_six_steps_and_is_seeded() -> None:
    model = tiny("priorgrad", prior_gain=0.02)
    calls = []
    denoise = model.denoise

    def counting(y, t, cond):
        calls.append(float(t[0]))
        return denoise(y, t, cond)

    model.denoise = counting  # type: ignore[method-assign]
    mel = torch.rand(80, 6)
    a = process.sample(model, mel, "fast", generator=torch.Generator().manual_seed(1))
    b = process.sample(model, mel, "fast", generator=torch.Generator().manual_seed(1))
    assert len(calls) == 12
    assert all(u > v for u, v in itertools.pairwise(calls[:6]))
    assert a.shape == (6 * 256,)
    assert torch.equal(a, b)


def write_corpus(folder, seconds=(1.2, 1.0, 0.9)) -> None:
    folder.mkdir()
    t = np.arange(16000 * 2) / 16000
    for k, s in enumerate(seconds):
        n = int(16000 * s)
        x = 0.3 * np.sin(2 * np.pi * (150 + 40 * k) * t[:n]) * np.hanning(n)
        save_audio(folder / f"clip{k}.wav", x.astype(np.float32), 16000)


def test_training_runs_resumes_and_exports(tmp_path) -> None:
    from vaudio.vocoder.train import TrainOptions, run_training

    write_corpus(tmp_path / "corpus")
    options = TrainOptions(
        data=[tmp_path / "corpus"],
        out=tmp_path / "voc",
        max_steps=2,
        batch_size=2,
        crop_frames=8,
        residual_channels=4,
        residual_layers=2,
        dilation_cycle=2,
        checkpoint_every=1,
        eval_every=2,
        log_every=1,
        quiet=True,
        precision="fp32",
    )
    run_training(options)
    records = [json.loads(line) for line in (tmp_path / "voc.run" / "metrics.jsonl").read_text().splitlines()]
    assert any("eval/val_vlb" in r for r in records)
    assert sorted(p.name for p in (tmp_path / "voc.run" / "validation" / "step-0000002").iterdir())[:2] == [
        "clip0.png",
        "clip0.wav",
    ]
    gain = DiffWave.from_pretrained(tmp_path / "voc").config.prior_gain
    loud = np.sin(2 * np.pi * 300 * np.arange(16000) / 16000).astype(np.float32) * 0.9
    save_audio(tmp_path / "corpus" / "added.wav", loud, 16000)  # the corpus changed since: the prior must not
    summary = run_training(dataclasses.replace(options, max_steps=3, resume=True))
    assert summary["steps"] == 3
    model = DiffWave.from_pretrained(tmp_path / "voc")
    assert model.config.prior == "priorgrad"
    assert model.config.prior_gain == gain > 0
