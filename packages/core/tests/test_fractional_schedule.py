"""DiffWave's fractional fast-sampling schedule (Kong et al. 2021, appendix B)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vcore.samplers import TimeGrid, sample_ddpm
from vcore.schedules import DIFFWAVE_FAST_BETAS, DIFFWAVE_TRAIN_BETAS, fractional_steps, linear_betas

TRAIN = linear_betas(50, 1e-4, 0.05)

# Hand computation for DiffWave base (T = 50, beta = linspace(1e-4, 0.05, 50)) and its six fast betas,
# done with plain Python floats from the paper's formula, 0-based times. E.g. s = 2: gamma = 0.9999 * 0.999
# = 0.9989001 lies between ab_1 = 0.99878 and ab_0 = 0.9999, so t = 0 + (sqrt(ab_0) - sqrt(gamma)) /
# (sqrt(ab_0) - sqrt(ab_1)) = 0.894.
RECORDED_TIMES = [
    0.0,
    0.8941341034416549,
    4.086654023014474,
    10.451816523911088,
    22.992493307367457,
    42.9186430599322,
]
RECORDED_LEVELS = [0.9999, 0.9989001, 0.988911099, 0.9394655440499999, 0.75157243524, 0.37578621762]


def _hand_alignment(train_betas: list[float], inference_betas: list[float]) -> list[float]:
    levels, level = [], 1.0
    for b in train_betas:
        level *= 1.0 - b
        levels.append(level)
    out, gamma = [], 1.0
    for b in inference_betas:
        gamma *= 1.0 - b
        for t in range(len(levels) - 1):
            if levels[t + 1] <= gamma <= levels[t]:
                hi, lo = math.sqrt(levels[t]), math.sqrt(levels[t + 1])
                out.append(t + (hi - math.sqrt(gamma)) / (hi - lo))
                break
    return out


def test_diffwave_constants() -> None:
    start, end, steps = DIFFWAVE_TRAIN_BETAS
    assert torch.equal(linear_betas(steps, start, end), TRAIN)
    assert DIFFWAVE_FAST_BETAS == (0.0001, 0.001, 0.01, 0.05, 0.2, 0.5)


def test_matches_hand_computed_diffwave_fast_schedule() -> None:
    times, levels = fractional_steps(TRAIN, DIFFWAVE_FAST_BETAS)
    assert times.dtype == torch.float64
    assert levels.dtype == torch.float64
    assert times.tolist() == pytest.approx(RECORDED_TIMES, abs=1e-12)
    assert levels.tolist() == pytest.approx(RECORDED_LEVELS, rel=1e-14)
    assert times.tolist() == pytest.approx(
        _hand_alignment(TRAIN.tolist(), list(DIFFWAVE_FAST_BETAS)), abs=1e-12
    )


@pytest.mark.parametrize(
    "inference", [DIFFWAVE_FAST_BETAS, (2e-4, 0.003, 0.03, 0.1, 0.3, 0.35), (0.5,), (1e-4,)]
)
def test_fractional_times_reproduce_target_levels(inference: tuple[float, ...]) -> None:
    """sqrt(ab) interpolated linearly between neighbouring training steps at t_s is sqrt(gamma_s)."""
    times, levels = fractional_steps(TRAIN, inference)
    root_train = torch.cumprod(1.0 - TRAIN, 0).sqrt().numpy()
    recovered = np.interp(times.numpy(), np.arange(50, dtype=np.float64), root_train)
    np.testing.assert_allclose(recovered, levels.sqrt().numpy(), rtol=0, atol=1e-13)
    assert bool((times.diff() > 0).all())
    assert torch.allclose(levels, torch.cumprod(1.0 - torch.tensor(inference, dtype=torch.float64), 0))


def test_level_equal_to_the_last_training_level_maps_to_the_last_time() -> None:
    last = float(torch.cumprod(1.0 - TRAIN, 0)[-1])
    times, _ = fractional_steps(TRAIN, [1.0 - last])
    assert float(times[0]) == pytest.approx(49.0, abs=1e-9)


def test_levels_outside_the_training_range_are_rejected() -> None:
    with pytest.raises(ValueError, match="gamma_1"):
        fractional_steps(TRAIN, [1e-5, 0.1])  # cleaner than the first training level
    with pytest.raises(ValueError, match="gamma_3"):
        fractional_steps(TRAIN, [1e-4, 0.5, 0.9])  # noisier than the last training level
    with pytest.raises(ValueError, match="inference beta"):
        fractional_steps(TRAIN, [0.0, 0.1])


def test_grid_runs_diffwave_fast_reverse_process() -> None:
    """sample_ddpm on the fractional grid equals DiffWave's fast loop (Kong et al. 2021, Alg. 2 with eta):
    x <- (x - eta_n / sqrt(1 - gamma_n) eps(x, t_n)) / sqrt(1 - eta_n), plus sigma_n z with
    sigma_n^2 = (1 - gamma_{n-1}) / (1 - gamma_n) eta_n for n > 1."""
    grid = TimeGrid.from_fractional(TRAIN, DIFFWAVE_FAST_BETAS)
    assert grid.t.tolist() == pytest.approx(RECORDED_TIMES[::-1], abs=1e-12)
    assert grid.alpha_bar.tolist() == pytest.approx(RECORDED_LEVELS[::-1], rel=1e-14)
    assert grid.final_alpha_bar == 1.0

    seen: list[torch.Tensor] = []

    def model(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        seen.append(t.clone())
        return 0.3 * x + 0.05 * torch.cos(t)[:, None]

    x = torch.randn(3, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ours = sample_ddpm(model, x, grid, generator=torch.Generator().manual_seed(7))
    assert torch.stack(seen)[:, 0].tolist() == pytest.approx(RECORDED_TIMES[::-1], abs=1e-12)

    eta = list(DIFFWAVE_FAST_BETAS)
    gamma = RECORDED_LEVELS
    gen = torch.Generator().manual_seed(7)
    ref = x.clone()
    for n in range(len(eta) - 1, -1, -1):
        t = torch.full((3,), RECORDED_TIMES[n], dtype=torch.float64)
        ref = (ref - eta[n] / math.sqrt(1 - gamma[n]) * model(ref, t)) / math.sqrt(1 - eta[n])
        if n > 0:
            sigma = math.sqrt((1 - gamma[n - 1]) / (1 - gamma[n]) * eta[n])
            ref = ref + sigma * torch.randn(ref.shape, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)
