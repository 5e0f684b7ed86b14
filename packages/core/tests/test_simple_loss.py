"""L_simple (vcore.bounds.simple) for eps, x0 and v targets.

For Gaussian data x0 ~ N(mu, s^2) and x_t = sqrt(ab) x0 + sqrt(1 - ab) eps, the best predictions are the
conditional means and the per-dimension minimum losses are the posterior variances:

    Var[eps | x_t] = ab s^2 / (ab s^2 + 1 - ab),
    Var[x0 | x_t]  = s^2 (1 - ab) / (ab s^2 + 1 - ab),
    Var[v | x_t]   = Var[eps | x_t] / ab = s^2 / (ab s^2 + 1 - ab).

The loss is a quadratic in (x0, eps), so Gauss-Hermite quadrature gives its exact expectation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vcore.bounds.simple import simple_loss, simple_target
from vcore.bounds.time_sampling import uniform_timesteps
from vcore.diffusion.gaussian import q_sample, split_prediction

DT = torch.float64
MU = torch.tensor([0.3, -0.5, 1.0], dtype=DT)
S = torch.tensor([0.5, 0.8, 1.2], dtype=DT)


def exact_prediction(x_t: torch.Tensor, ab: torch.Tensor, kind: str) -> torch.Tensor:
    a = ab[:, None]
    x0 = MU + a.sqrt() * S**2 / (a * S**2 + 1 - a) * (x_t - a.sqrt() * MU)
    eps = (x_t - a.sqrt() * x0) / (1 - a).sqrt()
    return {"x0": x0, "eps": eps, "v": a.sqrt() * eps - (1 - a).sqrt() * x0}[kind]


def test_targets_by_hand() -> None:
    x0 = torch.tensor([[1.0, -2.0]], dtype=DT)
    noise = torch.tensor([[0.5, 0.25]], dtype=DT)
    ab = torch.tensor([0.64], dtype=DT)
    torch.testing.assert_close(simple_target(x0, noise, ab, "eps"), noise)
    torch.testing.assert_close(simple_target(x0, noise, ab, "x0"), x0)
    torch.testing.assert_close(
        simple_target(x0, noise, ab, "v"), torch.tensor([[0.8 * 0.5 - 0.6, 0.8 * 0.25 + 1.2]], dtype=DT)
    )
    pred = torch.tensor([[0.0, 1.0]], dtype=DT)
    # Mean over dimensions: ((0 - 0.5)^2 + (1 - 0.25)^2) / 2.
    assert float(simple_loss(pred, x0, noise, ab, "eps")) == pytest.approx((0.25 + 0.5625) / 2)
    for kind in ("eps", "x0", "v"):
        target = simple_target(x0, noise, ab, kind)
        assert float(simple_loss(target, x0, noise, ab, kind)) == 0.0


def test_losses_of_one_eps_prediction_are_rescaled_copies() -> None:
    # Convert one eps prediction into x0 and v predictions at the same x_t:
    # ||x0 - x0_hat||^2 = (1 - ab)/ab ||eps - eps_hat||^2,  ||v - v_hat||^2 = ||eps - eps_hat||^2 / ab.
    gen = torch.Generator().manual_seed(0)
    x0, noise, eps_hat = torch.randn(3, 16, 2, 5, generator=gen, dtype=DT)
    ab = torch.rand(16, generator=gen, dtype=DT) * 0.98 + 0.01
    a = ab[:, None, None]
    x_t = q_sample(x0, a, noise)
    x0_hat, _ = split_prediction(eps_hat, x_t, a, "eps")
    v_hat = a.sqrt() * eps_hat - (1 - a).sqrt() * x0_hat
    loss_eps = simple_loss(eps_hat, x0, noise, ab, "eps")
    torch.testing.assert_close(simple_loss(x0_hat, x0, noise, ab, "x0"), (1 - ab) / ab * loss_eps)
    torch.testing.assert_close(simple_loss(v_hat, x0, noise, ab, "v"), loss_eps / ab)


@pytest.mark.parametrize("kind", ["eps", "x0", "v"])
def test_exact_denoiser_reaches_the_posterior_variance(kind: str) -> None:
    z, w = np.polynomial.hermite_e.hermegauss(5)
    z, w = torch.tensor(z, dtype=DT), torch.tensor(w / w.sum(), dtype=DT)
    zx, ze = torch.meshgrid(z, z, indexing="ij")
    weights = (w[:, None] * w[None, :]).reshape(-1)
    x0 = MU + S * zx.reshape(-1, 1)
    noise = ze.reshape(-1, 1).expand_as(x0)
    for ab_v in (0.05, 0.5, 0.97):
        ab = torch.full((x0.shape[0],), ab_v, dtype=DT)
        x_t = q_sample(x0, ab[:, None], noise)
        pred = exact_prediction(x_t, ab, kind)
        got = float((simple_loss(pred, x0, noise, ab, kind) * weights).sum())
        denom = ab_v * S**2 + 1 - ab_v
        var = {"eps": ab_v * S**2 / denom, "x0": S**2 * (1 - ab_v) / denom, "v": S**2 / denom}[kind]
        assert got == pytest.approx(float(var.mean()), rel=1e-12)
        # Any other linear predictor does worse.
        worse = float((simple_loss(pred + 0.1 * x_t, x0, noise, ab, kind) * weights).sum())
        assert worse > got


def test_monte_carlo_over_uniform_t_matches_the_schedule_average() -> None:
    num_steps, n = 50, 20000
    betas = torch.linspace(1e-3, 0.2, num_steps, dtype=DT)
    alphas_cumprod = torch.cumprod(1 - betas, 0)
    gen = torch.Generator().manual_seed(1)
    t = uniform_timesteps(n, num_steps, generator=gen)
    ab = alphas_cumprod[t - 1]
    x0 = MU + S * torch.randn(n, 3, generator=gen, dtype=DT)
    noise = torch.randn(n, 3, generator=gen, dtype=DT)
    x_t = q_sample(x0, ab[:, None], noise)
    loss = simple_loss(exact_prediction(x_t, ab, "eps"), x0, noise, ab, "eps")
    a = alphas_cumprod[:, None]
    want = float((a * S**2 / (a * S**2 + 1 - a)).mean())
    assert abs(float(loss.mean()) - want) < 4 * float(loss.std()) / math.sqrt(n)


def test_bad_inputs() -> None:
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="same shape"):
        simple_loss(torch.zeros(2, 4), x, x, torch.ones(2), "eps")
    with pytest.raises(ValueError, match="unknown prediction"):
        simple_loss(x, x, x, torch.ones(2), "score")  # type: ignore[arg-type]
