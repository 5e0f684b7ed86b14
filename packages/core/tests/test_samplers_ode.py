r"""Probability-flow ODE samplers: Euler is DDIM (eta = 0), and Heun converges at second order on
Gaussian data, where the exact solution is known.

Exact solution for data x_0 ~ N(0, s^2 I). In y = x / sqrt(ab) = x_0 + sigma eps, y ~ N(0, (s^2 + sigma^2) I)
and the exact denoiser is D(y; sigma) = E[x_0 | y] = s^2 / (s^2 + sigma^2) y. The PF-ODE

    dy / dsigma = (y - D) / sigma = sigma / (s^2 + sigma^2) y

integrates to log y = log sqrt(s^2 + sigma^2) + const, so y / sqrt(s^2 + sigma^2) is conserved along a
trajectory and y(sigma_1) = y(sigma_0) sqrt(s^2 + sigma_1^2) / sqrt(s^2 + sigma_0^2).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import pytest
import torch

from vcore.diffusion.gaussian import Prediction
from vcore.samplers import TimeGrid, sample_ddim, sample_euler, sample_heun
from vcore.samplers.grid import Spacing
from vcore.schedules import cosine_log_snr, make_schedule

DATA_STD = 0.5
Model = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def gaussian_denoiser(kind: Prediction) -> Model:
    """The exact x0 / eps / v predictor for N(0, DATA_STD^2) data under the continuous cosine schedule."""

    def model(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ab = torch.sigmoid(cosine_log_snr(t)).view(-1, 1)
        sigma2 = (1 - ab) / ab
        x0 = DATA_STD**2 / (DATA_STD**2 + sigma2) * x / ab.sqrt()
        eps = (x - ab.sqrt() * x0) / (1 - ab).sqrt()
        return {"x0": x0, "eps": eps, "v": ab.sqrt() * eps - (1 - ab).sqrt() * x0}[kind]

    return model


def exact_flow(x: torch.Tensor, ab_start: float, ab_end: float) -> torch.Tensor:
    sig0, sig1 = (1 - ab_start) / ab_start, ((1 - ab_end) / ab_end) if ab_end < 1 else 0.0
    y = x / math.sqrt(ab_start)
    return math.sqrt(ab_end) * y * math.sqrt(DATA_STD**2 + sig1) / math.sqrt(DATA_STD**2 + sig0)


def toy_model(schedule_ab: torch.Tensor, kind: Prediction, gain: float = 1.0) -> Model:
    def model(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        a = schedule_ab[t.round().long()].view(-1, 1)
        wave = 0.1 * torch.sin(t / 40.0).view(-1, 1) + 0.05 * torch.tanh(x)
        if kind == "eps":
            return (1 - a).sqrt() * x + a.sqrt() * wave
        if kind == "x0":
            return gain * a.sqrt() * x + (1 - a).sqrt() * wave
        return 0.1 * x + wave

    return model


def noise(seed: int = 0, batch: int = 64) -> torch.Tensor:
    return torch.randn(batch, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("clip", [None, 1.0])
@pytest.mark.parametrize(
    ("spacing", "steps", "to_one"), [("leading", 50, True), ("leading", 20, False), ("trailing", 25, True)]
)
@pytest.mark.parametrize("kind", ["eps", "x0", "v"])
@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_euler_equals_ddim_eta_zero(
    name: str, kind: Prediction, spacing: Spacing, steps: int, to_one: bool, clip: float | None
) -> None:
    schedule = make_schedule(name, 1000)
    grid = TimeGrid.from_schedule(schedule, steps, spacing=spacing, set_alpha_to_one=to_one)
    model = toy_model(schedule.alphas_cumprod, kind, gain=3.0)
    x = noise(1, batch=8)
    ddim = sample_ddim(model, x, grid, prediction=kind, eta=0.0, clip_x0=clip)
    euler = sample_euler(model, x, grid, prediction=kind, clip_x0=clip)
    torch.testing.assert_close(euler, ddim, rtol=1e-12, atol=1e-10)
    assert float(euler.abs().max()) > 0.1  # not a degenerate all-zero trajectory


def errors(
    sampler: Callable[..., torch.Tensor], kind: Prediction, t_end: float, sizes: list[int]
) -> list[float]:
    x = noise(2)
    out = []
    for n in sizes:
        grid = TimeGrid.from_log_snr(cosine_log_snr, n, t_start=0.9, t_end=t_end)
        got = sampler(gaussian_denoiser(kind), x, grid, prediction=kind)
        exact = exact_flow(x, float(grid.alpha_bar[0]), grid.final_alpha_bar)
        out.append(float((got - exact).abs().max()))
    return out


@pytest.mark.parametrize("kind", ["x0", "eps", "v"])
def test_heun_is_second_order_and_euler_first_order_on_gaussian_data(kind: Prediction) -> None:
    """Into a noisy final level (t_end = 0.1, corrected by Heun via t_final): errors shrink ~2x (Euler)
    and ~4x (Heun) per halving of the step."""
    sizes = [8, 16, 32, 64]
    euler = errors(sample_euler, kind, 0.1, sizes)
    heun = errors(sample_heun, kind, 0.1, sizes)
    euler_ratios = [a / b for a, b in itertools.pairwise(euler)]
    heun_ratios = [a / b for a, b in itertools.pairwise(heun)]
    assert all(1.7 < r < 2.3 for r in euler_ratios), euler_ratios
    assert all(3.5 < r < 4.5 for r in heun_ratios), heun_ratios
    assert all(h < e / 5 for h, e in zip(heun[1:], euler[1:], strict=False)), (heun, euler)
    assert heun[-1] < 1e-3
    assert euler[-1] > 1e-2


def test_heun_to_clean_data_beats_euler_and_converges() -> None:
    """Into the clean level the last step is Euler (Karras Alg. 1); Heun stays far more accurate."""
    sizes = [8, 16, 32, 64]
    euler = errors(sample_euler, "eps", 0.0, sizes)
    heun = errors(sample_heun, "eps", 0.0, sizes)
    assert all(b < a for a, b in itertools.pairwise(heun)), heun
    assert all(h < e / 3 for h, e in zip(heun, euler, strict=False)), (heun, euler)


def test_heun_calls_the_model_at_both_ends_of_each_step() -> None:
    calls: list[float] = []
    base = gaussian_denoiser("eps")

    def model(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        calls.append(float(t[0]))
        return base(x, t)

    clean = TimeGrid.from_log_snr(cosine_log_snr, 5, t_start=0.9, t_end=0.0)
    assert clean.final_alpha_bar == 1.0
    sample_heun(model, noise(), clean)
    t = clean.t.tolist()
    assert calls == pytest.approx([t[0], t[1], t[1], t[2], t[2], t[3], t[3], t[4], t[4]])  # 2N - 1 calls

    calls.clear()
    noisy = TimeGrid.from_log_snr(cosine_log_snr, 3, t_start=0.9, t_end=0.3)
    assert noisy.t_final == pytest.approx(0.3)
    sample_heun(model, noise(), noisy)
    t = noisy.t.tolist()
    assert calls == pytest.approx([t[0], t[1], t[1], t[2], t[2], 0.3])  # 2N calls, last one at t_final


def test_euler_reports_x0_and_single_clean_step_returns_it() -> None:
    grid = TimeGrid.from_log_snr(cosine_log_snr, 1, t_start=0.5, t_end=0.0)
    model = gaussian_denoiser("x0")
    x = noise(3)
    seen: list[torch.Tensor] = []
    out = sample_euler(model, x, grid, prediction="x0", callback=lambda info: seen.append(info["x0"]))
    expected = model(x, torch.full((x.shape[0],), 0.5, dtype=torch.float64))
    torch.testing.assert_close(seen[0], expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


def test_from_log_snr_grid() -> None:
    grid = TimeGrid.from_log_snr(cosine_log_snr, 4, t_start=0.8, t_end=0.0)
    assert grid.t.tolist() == pytest.approx([0.8, 0.6, 0.4, 0.2])
    expected = torch.sigmoid(cosine_log_snr(torch.tensor([0.8, 0.6, 0.4, 0.2], dtype=torch.float64)))
    torch.testing.assert_close(grid.alpha_bar, expected, rtol=1e-14, atol=0)
    assert grid.final_alpha_bar == 1.0
    with pytest.raises(ValueError, match="increase"):
        TimeGrid.from_log_snr(lambda t: t, 4)  # a log-SNR must decrease in t
