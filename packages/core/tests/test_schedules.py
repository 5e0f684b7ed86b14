"""Noise schedules against their closed forms (float64)."""

from __future__ import annotations

import math

import pytest
import torch

from vcore.schedules import (
    SCHEDULES,
    DiscreteSchedule,
    cosine_alpha_bar,
    cosine_betas,
    cosine_log_snr,
    linear_betas,
    make_schedule,
    polynomial_alpha_bar,
    polynomial_betas,
    scaled_linear_betas,
)


def test_linear_endpoints_and_constant_spacing() -> None:
    betas = linear_betas(1000)
    assert betas.dtype == torch.float64
    assert betas.shape == (1000,)
    assert float(betas[0]) == pytest.approx(1e-4, abs=1e-18)
    assert float(betas[-1]) == pytest.approx(0.02, abs=1e-17)
    steps = betas.diff()
    assert torch.allclose(steps, torch.full_like(steps, (0.02 - 1e-4) / 999), rtol=0, atol=1e-15)
    # DDPM's signal level at T (Ho et al. 2020: sqrt(ab_T) ~ 0.0064), recorded; equals the plain product.
    ab_t = math.prod(1.0 - (1e-4 + k * (0.02 - 1e-4) / 999) for k in range(1000))
    assert float(make_schedule("linear", 1000).alphas_cumprod[-1]) == pytest.approx(ab_t, rel=1e-10)
    assert ab_t == pytest.approx(4.0358297653756754e-05, rel=1e-10)


def test_scaled_linear_is_linear_in_sqrt_beta() -> None:
    betas = scaled_linear_betas(1000)
    roots = betas.sqrt()
    assert float(betas[0]) == pytest.approx(0.00085, rel=1e-12)
    assert float(betas[-1]) == pytest.approx(0.012, rel=1e-12)
    gaps = roots.diff()
    expected = (math.sqrt(0.012) - math.sqrt(0.00085)) / 999
    assert torch.allclose(gaps, torch.full_like(gaps, expected), rtol=0, atol=1e-14)


def test_cosine_alpha_bar_matches_eq_17() -> None:
    """Nichol & Dhariwal eq. 17: ab_t = f(t / T) / f(0), f(u) = cos^2((u + s) / (1 + s) pi / 2)."""
    T, s = 1000, 0.008

    def f(u: float) -> float:
        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2

    ab = make_schedule("cosine", T).alphas_cumprod
    for t in (1, 2, 10, 250, 500, 900, 998, 999):  # all before the clipped last step
        assert float(ab[t - 1]) == pytest.approx(f(t / T) / f(0.0), rel=1e-10)
    betas = cosine_betas(T)
    assert float(betas[-1]) == 0.999  # clipped: 1 - f(1) / f(1 - 1/T) = 1
    assert float(betas[:-1].max()) < 0.999
    # the continuous form agrees with the discrete one on the grid
    u = torch.arange(1, T, dtype=torch.float64) / T
    assert torch.allclose(cosine_alpha_bar(u), ab[:-1], rtol=1e-10, atol=0)
    assert float(cosine_alpha_bar(torch.tensor(0.0))) == pytest.approx(1.0, abs=1e-15)
    assert float(cosine_alpha_bar(torch.tensor(0.5))) == pytest.approx(f(0.5) / f(0.0), rel=1e-14)


def test_cosine_log_snr_is_logit_of_alpha_bar_and_decreasing() -> None:
    u = torch.linspace(0.001, 0.999, 999, dtype=torch.float64)
    ab = cosine_alpha_bar(u)
    lam = cosine_log_snr(u)
    assert torch.allclose(lam, torch.log(ab) - torch.log1p(-ab), rtol=0, atol=1e-8)
    assert bool((lam.diff() < 0).all())
    assert float(cosine_log_snr(torch.tensor(0.0))) == math.inf
    # at t = 1/2 by hand
    s = 0.008
    phi, phi0 = (0.5 + s) / (1 + s) * math.pi / 2, s / (1 + s) * math.pi / 2
    a = math.cos(phi) ** 2 / math.cos(phi0) ** 2
    assert float(cosine_log_snr(torch.tensor(0.5))) == pytest.approx(math.log(a / (1 - a)), rel=1e-12)


def test_polynomial_endpoints_and_shape() -> None:
    """Hoogeboom et al. 2022, app. B: ab_t = (1 - 2s) f_t + s, f_t = (1 - (t/T)^2)^2 with ratio clipping."""
    T, s = 1000, 1e-5
    ab = polynomial_alpha_bar(T, power=2.0, precision=s)
    assert ab.shape == (T + 1,)
    assert float(ab[0]) == pytest.approx(1 - s, abs=1e-15)
    for t in (1, 10, 500, 900, 999):  # unclipped levels
        assert float(ab[t]) == pytest.approx((1 - 2 * s) * (1 - (t / T) ** 2) ** 2 + s, rel=1e-10)
    # the last ratio f_T / f_{T-1} = 0 is clipped to 0.001
    f_last = (1 - ((T - 1) / T) ** 2) ** 2
    assert float(ab[T]) == pytest.approx((1 - 2 * s) * 0.001 * f_last + s, rel=1e-10)
    assert bool((ab.diff() < 0).all())
    assert float(ab.min()) > s


def test_polynomial_clipping_bounds_every_step_ratio() -> None:
    ab = polynomial_alpha_bar(20, power=3.0, precision=1e-4, clip_value=0.05)
    f = (ab - 1e-4) / (1 - 2e-4)
    ratios = f[1:] / f[:-1]
    assert float(ratios.min()) == pytest.approx(0.05, rel=1e-9)  # the clipped last step
    assert bool((ratios >= 0.05 - 1e-12).all())


def test_polynomial_betas_reproduce_levels_one_to_T() -> None:
    ab = polynomial_alpha_bar(100)
    sched = DiscreteSchedule(polynomial_betas(100))
    assert torch.allclose(sched.alphas_cumprod, ab[1:], rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_every_schedule_has_decreasing_log_snr(name: str) -> None:
    sched = make_schedule(name, 200)
    assert sched.betas.dtype == torch.float64
    assert sched.num_steps == 200
    assert bool((sched.log_snr.diff() < 0).all())
    assert bool((sched.alphas_cumprod.diff() < 0).all())


def test_make_schedule_passes_keywords_and_rejects_unknown_names() -> None:
    sched = make_schedule("linear", 50, beta_start=1e-4, beta_end=0.05)
    assert float(sched.betas[-1]) == pytest.approx(0.05, abs=1e-16)
    with pytest.raises(ValueError, match="unknown schedule 'sigmoid'"):
        make_schedule("sigmoid", 10)
    with pytest.raises(ValueError, match="num_steps"):
        linear_betas(0)
