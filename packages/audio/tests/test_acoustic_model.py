"""The acoustic model's parts: frames, shapes, the boundary k in closed form, the shallow sampler's entry."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vaudio.acoustic import diffusion
from vaudio.acoustic.boundary import boundary_step, kl_per_step, mean_gap, threshold_for_accuracy
from vaudio.acoustic.encoder import length_regulate
from vaudio.acoustic.frames import f0_at_frames, phone_frames, segment_frames
from vaudio.acoustic.model import AcousticConfig, AcousticModel
from vaudio.acoustic.pitch import PitchModel, f0_curve, fit_pitch_model, place_phones
from vaudio.features.mel import MelConfig
from vaudio.score.ds import DsSegment
from vcore.diffusion.gaussian import q_sample
from vcore.schedules.discrete import DiscreteSchedule
from vcore.schedules.linear import linear_betas

torch.set_num_threads(1)


def tiny_model(**kwargs: object) -> AcousticModel:
    torch.manual_seed(0)
    config = AcousticConfig(
        phones=["SP", "AP", "aa", "l"],
        hidden=16,
        filter_size=32,
        encoder_layers=1,
        decoder_layers=1,
        denoiser_channels=8,
        denoiser_layers=2,
        num_steps=10,
        **kwargs,  # type: ignore[arg-type]
    )
    return AcousticModel(config).eval()


def test_phone_frames_tile_the_segment() -> None:
    config = MelConfig()
    counts = phone_frames([0.3, 0.08, 0.5, 0.001, 0.2], config)
    assert counts.sum() == round(1.081 * 16000) // 256
    assert counts[3] == 0
    assert (counts >= 0).all()
    np.testing.assert_array_equal(counts[:3], [19, 5, 31])  # round(62.5 * cumsum)


def test_f0_is_interpolated_at_frame_centres() -> None:
    config = MelConfig()
    f0 = f0_at_frames(np.array([100.0, 200.0, 300.0]), 0.016, 4, config)  # frames at 0, 16, 32, 48 ms
    np.testing.assert_allclose(f0, [100.0, 200.0, 300.0, 300.0])


def test_segment_frames_with_key() -> None:
    segment = DsSegment(
        ph_seq=["SP", "aa"], ph_dur=[0.5, 0.5], note_seq=["rest", "A3"], note_dur=[0.5, 0.5],
        f0_seq=np.full(200, 220.0), f0_timestep=0.005,
    )  # fmt: skip
    frames = segment_frames(segment, MelConfig(), key=12)
    np.testing.assert_allclose(frames.f0, 440.0)
    assert np.isnan(frames.note[0])
    assert frames.note[-1] == 57 + 12


def test_length_regulator() -> None:
    hidden = torch.arange(3.0)[None, :, None].expand(1, 3, 2)
    out, index, fraction = length_regulate(hidden, torch.tensor([[2, 0, 3]]), 6)
    assert index.tolist() == [[0, 0, 2, 2, 2, 2]]
    assert out[0, :, 0].tolist() == [0, 0, 2, 2, 2, 2]
    np.testing.assert_allclose(fraction[0, :5].numpy(), [0.25, 0.75, 1 / 6, 0.5, 5 / 6], rtol=1e-6)


def test_shapes() -> None:
    model = tiny_model()
    phones = torch.tensor([[1, 3, 4, 1], [1, 3, 1, 0]])
    frames = torch.tensor([[5, 2, 7, 3], [4, 6, 2, 0]])
    midi = torch.full((2, 17), 57.0)
    cond, pad = model.encode(phones, frames, midi, torch.tensor([0, 1]))
    assert cond.shape == (2, 17, 16)
    assert pad[1].sum() == 5
    assert not pad[0].any()
    assert float(cond[1, 12:].detach().abs().sum()) == 0.0
    assert model.aux(cond, pad).shape == (2, 80, 17)
    eps = model.denoiser(torch.randn(2, 80, 17), torch.tensor([0.0, 9.0]), cond.transpose(1, 2))
    assert eps.shape == (2, 80, 17)
    for mode in diffusion.MODES:
        mel = diffusion.decode(model, cond, pad, mode, k=4, steps=2)  # type: ignore[arg-type]
        assert mel.shape == (2, 80, 17)
        assert float(mel.min()) >= 0.0
        assert float(mel.max()) <= 1.0


def test_boundary_threshold_is_the_55_percent_bayes_accuracy() -> None:
    kappa = threshold_for_accuracy(0.55)
    assert math.isclose(kappa, 2 * 0.12566134685507402**2, rel_tol=1e-9)
    # accuracy of the per-element Bayes classifier at KL = kappa: Phi(sqrt(kappa / 2)) = 0.55
    assert math.isclose(0.5 * (1 + math.erf(math.sqrt(kappa / 2) / math.sqrt(2))), 0.55, rel_tol=1e-9)


def test_boundary_extremes_and_a_known_gap() -> None:
    model = tiny_model()
    ab = model.schedule().alphas_cumprod
    kappa = threshold_for_accuracy()
    assert boundary_step(0.0, ab, kappa) == 1  # identical mels: the trajectories meet at once
    assert boundary_step(1e6, ab, kappa) == 10  # never meet within the schedule: k = T
    ab = DiscreteSchedule(linear_betas(100, 1e-4, 0.06)).alphas_cumprod  # the default schedule
    gap = 0.02
    expected = next(
        t for t in range(1, 101) if float(ab[t - 1]) * gap / (2 * (1 - float(ab[t - 1]))) <= kappa
    )
    assert boundary_step(gap, ab, kappa) == expected == 31
    np.testing.assert_allclose(kl_per_step(gap, ab)[2].item(), float(ab[2]) * gap / (2 * (1 - float(ab[2]))))
    a, b = torch.zeros(3, 4), torch.full((3, 4), 0.5)
    assert math.isclose(mean_gap([(a, b), (a[:1], a[:1])]), 0.25 * 12 / 16)


def test_shallow_diffusion_starts_at_k_from_the_noised_aux(monkeypatch: pytest.MonkeyPatch) -> None:
    model = tiny_model()
    phones, frames = torch.tensor([[1, 3]]), torch.tensor([[4, 6]])
    cond, pad = model.encode(phones, frames, torch.full((1, 10), 57.0), torch.tensor([0]))
    aux = model.aux(cond, pad)
    calls: list[tuple[torch.Tensor, torch.Tensor]] = []
    original = model.denoiser.denoise

    def spy(x: torch.Tensor, t: torch.Tensor, projected: torch.Tensor) -> torch.Tensor:
        calls.append((x.clone(), t.clone()))
        return original(x, t, projected)

    monkeypatch.setattr(model.denoiser, "denoise", spy)
    k = 6
    diffusion.decode(model, cond, pad, "shallow", k=k, generator=torch.Generator().manual_seed(3))
    noise = torch.randn(aux.shape, generator=torch.Generator().manual_seed(3))
    expected = q_sample(aux, model.schedule().alphas_cumprod[k - 1].float(), noise)
    assert len(calls) == k  # DDPM over steps k .. 1
    assert calls[0][1].tolist() == [k - 1]
    assert calls[-1][1].tolist() == [0]
    torch.testing.assert_close(calls[0][0], expected)
    calls.clear()
    diffusion.decode(model, cond, pad, "shallow", k=k, steps=3, generator=torch.Generator().manual_seed(3))
    assert [int(c[1]) for c in calls] == [5, 2, 0]  # DDIM on 3 of the k steps, k-1 first
    torch.testing.assert_close(calls[0][0], expected)


def test_pitch_model_places_phones_and_follows_notes() -> None:
    segment = DsSegment(
        ph_seq=["SP", "l", "aa", "l", "SP"], ph_dur=[0.2] * 5, ph_num=[2, 2, 1],
        note_seq=["rest", "A3", "C4"], note_dur=[0.3, 0.4, 0.3], note_slur=[0, 0, 0],
    )  # fmt: skip
    model = PitchModel(phone_seconds={"l": 0.05}, portamento=0.0, vibrato_cents=0.0)
    np.testing.assert_allclose(place_phones(segment, model), [0.25, 0.05, 0.35, 0.05, 0.3])
    times = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(f0_curve(segment, times, model), [220.0, 220.0, 440 * 2 ** (-9 / 12)])


def test_pitch_model_fit_recovers_durations_and_vibrato() -> None:
    step = 0.005
    times = np.arange(400) * step  # 2 s
    onset = 0.5
    vib = np.where(times > onset + 0.25, 30.0 * np.sin(2 * np.pi * 6.0 * (times - onset)), 0.0)
    f0 = 220.0 * 2 ** (vib / 1200)
    segment = DsSegment(
        ph_seq=["SP", "l", "aa", "l", "SP"], ph_dur=[0.42, 0.08, 1.0, 0.08, 0.42], ph_num=[2, 2, 1],
        note_seq=["rest", "A3", "rest"], note_dur=[0.5, 1.0, 0.5], note_slur=[0, 0, 0],
        f0_seq=f0, f0_timestep=step,
    )  # fmt: skip
    model = fit_pitch_model([segment] * 3)
    assert model.phone_seconds == {"l": 0.08}
    assert model.vibrato_hz == pytest.approx(6.0, abs=0.2)
    assert 20.0 < model.vibrato_cents < 45.0


def test_padding_never_turns_into_nan() -> None:
    model = tiny_model(window=2)
    phones = torch.tensor([[1, 3, 4, 1], [1, 3, 0, 0]])
    frames = torch.tensor([[5, 10, 10, 5], [2, 2, 0, 0]])  # the second item: 4 frames, then 26 of padding
    cond, pad = model.encode(phones, frames, torch.full((2, 30), 57.0), torch.tensor([0, 1]))
    aux = model.aux(cond, pad)
    assert torch.isfinite(aux).all()
    alone, _ = model.encode(phones[1:, :2], frames[1:, :2], torch.full((1, 4), 57.0), torch.tensor([1]))
    torch.testing.assert_close(model.aux(alone, torch.zeros(1, 4, dtype=torch.bool)), aux[1:, :, :4])


def test_min_snr_weighting_of_the_x0_loss() -> None:
    model = tiny_model()  # the denoiser's output layer starts at zero: it predicts x0_hat = 0
    x0, cond = torch.ones(6, 80, 5), torch.zeros(6, 16, 5)
    torch.manual_seed(1)
    plain = diffusion.diffusion_loss(model, x0, cond)
    torch.manual_seed(1)
    weighted = diffusion.diffusion_loss(model, x0, cond, min_snr_gamma=2.0)
    torch.manual_seed(1)
    t = torch.randint(0, 10, (6,))
    ab = model.schedule().alphas_cumprod.float()[t]
    torch.testing.assert_close(plain, torch.ones(6))
    torch.testing.assert_close(weighted, (ab / (1 - ab)).clamp(max=2.0))
