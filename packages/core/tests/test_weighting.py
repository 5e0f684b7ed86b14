"""Weighted-ELBO losses (vcore.bounds.weighting) and time samplers (vcore.bounds.time_sampling).

The weighted loss is L_w = 1/2 E_{t ~ U(0,1)}[w(lambda_t) (-d lambda/dt) ||eps - eps_hat||^2]
= 1/2 int w(lambda) E||eps - eps_hat||^2 d lambda. For Gaussian data x ~ N(mu, s^2) and the exact denoiser,
E||eps - eps_hat||^2 = m(lambda) = sum_d s_d^2 / (s_d^2 + exp(-lambda)), so every estimator below has a
known expectation, computed here by Gauss-Legendre quadrature in lambda.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vcore.bounds.simple import simple_loss
from vcore.bounds.time_sampling import (
    PiecewiseConstantDensity,
    antithetic_times,
    low_discrepancy_times,
    uniform_times,
    uniform_timesteps,
)
from vcore.bounds.vdm import diffusion_loss, gamma_and_derivative
from vcore.bounds.weighting import (
    edm_weight,
    elbo_weight,
    eps_cosine_weight,
    implied_weight,
    sigmoid_lambda,
    sigmoid_weight,
    truncated_normal_lambda,
    v_cosine_weight,
    weighted_loss,
    weighted_loss_lambda,
)
from vcore.diffusion.gaussian import split_prediction
from vcore.schedules.learned import LearnedGamma

DT = torch.float64
MU = torch.tensor([0.3, -0.5, 1.0], dtype=DT)
S = torch.tensor([0.5, 0.8, 1.2], dtype=DT)
D = 3
LAM_MIN, LAM_MAX = -10.0, 10.0


def exact_eps(z: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    ab = torch.sigmoid(lam)[:, None]
    x0 = MU + ab.sqrt() * S**2 / (ab * S**2 + 1 - ab) * (z - ab.sqrt() * MU)
    return (z - ab.sqrt() * x0) / (1 - ab).sqrt()


def draw(lam: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(eps, eps_hat) for x ~ data, eps ~ N(0, I) at the given log-SNRs, with the exact denoiser."""
    n = lam.numel()
    x = MU + S * torch.randn(n, D, generator=gen, dtype=DT)
    eps = torch.randn(n, D, generator=gen, dtype=DT)
    ab = torch.sigmoid(lam)[:, None]
    z = ab.sqrt() * x + (1 - ab).sqrt() * eps
    return eps, exact_eps(z, lam)


def true_objective(weight) -> float:
    """1/2 int_{LAM_MIN}^{LAM_MAX} w(lambda) m(lambda) d lambda by 400-node Gauss-Legendre."""
    nodes, w = np.polynomial.legendre.leggauss(400)
    half = 0.5 * (LAM_MAX - LAM_MIN)
    lam = torch.tensor(LAM_MIN + half * (nodes + 1), dtype=DT)
    m = (S**2 / (S**2 + torch.exp(-lam)[:, None])).sum(1)
    return float(0.5 * half * (torch.tensor(w, dtype=DT) * weight(lam) * m).sum())


def test_elbo_weighting_is_the_vdm_diffusion_loss() -> None:
    torch.manual_seed(0)
    gamma = LearnedGamma(hidden=16).double()
    gen = torch.Generator().manual_seed(0)
    t = uniform_times(32, generator=gen, dtype=DT)
    g, dg = gamma_and_derivative(gamma, t)
    lam = -g
    eps, eps_hat = torch.randn(2, 32, 4, 4, generator=gen, dtype=DT)
    torch.testing.assert_close(
        weighted_loss(eps, eps_hat, elbo_weight(lam), dg), diffusion_loss(eps, eps_hat, dg)
    )


def test_weight_functions_match_their_closed_forms() -> None:
    for lam_v in (-4.0, 0.0, 1.5, 6.0):
        lam = torch.tensor([lam_v], dtype=DT)
        assert float(elbo_weight(lam)) == 1.0
        assert float(sigmoid_weight(lam, 2.0)) == pytest.approx(1 / (1 + math.exp(lam_v - 2.0)), rel=1e-14)
        assert float(sigmoid_weight(lam, -1.0)) == pytest.approx(1 / (1 + math.exp(lam_v + 1.0)), rel=1e-14)
        assert float(eps_cosine_weight(lam)) == pytest.approx(
            2 / (math.exp(lam_v / 2) + math.exp(-lam_v / 2))
        )
        assert float(v_cosine_weight(lam)) == pytest.approx(math.exp(-lam_v / 2), rel=1e-14)
        density = math.exp(-((lam_v - 2.4) ** 2) / (2 * 2.4**2)) / (2.4 * math.sqrt(2 * math.pi))
        want = density * (math.exp(-lam_v) + 0.25) / 0.25
        assert float(edm_weight(lam)) == pytest.approx(want, rel=1e-12)
    # EDM's weighting is not monotone in lambda (Kingma & Gao, Table 1); the sigmoid one is.
    w_edm = edm_weight(torch.tensor([-8.0, 0.0, 8.0], dtype=DT))
    assert float(w_edm[1]) > float(w_edm[0])
    assert float(w_edm[1]) > float(w_edm[2])
    grid = torch.linspace(-10, 10, 101, dtype=DT)
    assert bool((sigmoid_weight(grid, 2.0).diff() < 0).all())


def cosine_lambda(t: torch.Tensor) -> torch.Tensor:
    return -2 * torch.log(torch.tan(math.pi * t / 2))


def test_cosine_schedule_implied_weights_are_the_table_entries() -> None:
    lam = torch.tensor([-6.0, -1.0, 0.0, 2.5, 7.0], dtype=DT)
    # The cosine schedule's density of lambda under t ~ U(0, 1): p = -dt/dlambda, t = (2/pi) atan(e^{-lam/2}).
    lam_req = lam.clone().requires_grad_(True)
    t_of_lam = (2 / math.pi) * torch.atan(torch.exp(-lam_req / 2))
    (dt_dlam,) = torch.autograd.grad(t_of_lam.sum(), lam_req)
    density = -dt_dlam
    torch.testing.assert_close(density, eps_cosine_weight(lam) / (2 * math.pi))
    torch.testing.assert_close(implied_weight(lam, "eps", density), eps_cosine_weight(lam) / (2 * math.pi))
    torch.testing.assert_close(implied_weight(lam, "v", density), v_cosine_weight(lam) / math.pi)
    torch.testing.assert_close(implied_weight(lam, "x0", density), density * torch.exp(-lam))


@pytest.mark.parametrize("kind", ["eps", "x0", "v"])
def test_weighted_loss_reproduces_the_simple_losses(kind: str) -> None:
    # Pointwise in t: (D/2) * L_simple(kind) = 1/2 w(lambda_t) (-dlambda/dt) ||eps - eps_hat||^2 with the
    # implied weight, since p(lambda) (-dlambda/dt) = 1.
    gen = torch.Generator().manual_seed(4)
    n = 50
    t = 0.02 + 0.96 * torch.rand(n, generator=gen, dtype=DT)
    lam = cosine_lambda(t)
    neg_dlam_dt = 2 * math.pi / torch.sin(math.pi * t)
    ab = torch.sigmoid(lam)
    x0, eps, eps_hat = torch.randn(3, n, D, generator=gen, dtype=DT)
    z = ab.sqrt()[:, None] * x0 + (1 - ab).sqrt()[:, None] * eps
    x0_hat, _ = split_prediction(eps_hat, z, ab[:, None], "eps")
    v_hat = ab.sqrt()[:, None] * eps_hat - (1 - ab).sqrt()[:, None] * x0_hat
    pred = {"eps": eps_hat, "x0": x0_hat, "v": v_hat}[kind]
    density = torch.sin(math.pi * t) / (2 * math.pi)
    lhs = 0.5 * D * simple_loss(pred, x0, eps, ab, kind)
    rhs = weighted_loss(eps, eps_hat, implied_weight(lam, kind, density), neg_dlam_dt)
    torch.testing.assert_close(lhs, rhs, rtol=1e-10, atol=1e-12)


def _mean_se(values: torch.Tensor) -> tuple[float, float]:
    return float(values.mean()), float(values.std()) / math.sqrt(values.numel())


def ideal_mse(lam: torch.Tensor) -> torch.Tensor:
    """m(lambda) = E||eps - eps_hat||^2 of the exact denoiser."""
    return (S**2 / (S**2 + torch.exp(-lam)[:, None])).sum(1)


def test_importance_sampled_lambda_is_unbiased_with_lower_variance() -> None:
    # Designed case: EDM weighting on a linear log-SNR schedule lambda(t) = 10 - 20 t, against a proposal
    # proportional to w(lambda) m(lambda) (the integrand; the known optimum up to the eps noise) and
    # against EDM's own training distribution of lambda.
    truth = true_objective(edm_weight)
    n = 20000
    gen = torch.Generator().manual_seed(5)
    t = uniform_times(n, generator=gen, dtype=DT)
    lam_u = LAM_MAX - (LAM_MAX - LAM_MIN) * t
    eps, eps_hat = draw(lam_u, gen)
    uniform = weighted_loss(eps, eps_hat, edm_weight(lam_u), torch.full_like(t, LAM_MAX - LAM_MIN))

    proposal = PiecewiseConstantDensity.from_function(
        lambda x: edm_weight(x) * ideal_mse(x), LAM_MIN, LAM_MAX
    )
    lam_p, q_p = proposal.sample(uniform_times(n, generator=gen, dtype=DT))
    eps, eps_hat = draw(lam_p, gen)
    designed = weighted_loss_lambda(eps, eps_hat, edm_weight(lam_p), q_p)

    lam_n, q_n = truncated_normal_lambda(
        uniform_times(n, generator=gen, dtype=DT), 2.4, 2.4, LAM_MIN, LAM_MAX
    )
    eps, eps_hat = draw(lam_n, gen)
    edm_proposal = weighted_loss_lambda(eps, eps_hat, edm_weight(lam_n), q_n)

    for est in (uniform, designed, edm_proposal):
        mean, se = _mean_se(est)
        assert abs(mean - truth) < 4 * se
    # Measured over seeds: variances about 12.4 (uniform), 3.3 (designed), 4.7 (EDM's p(lambda)).
    assert float(designed.var()) < 0.4 * float(uniform.var())
    assert float(edm_proposal.var()) < 0.6 * float(uniform.var())


def test_importance_sampled_t_through_a_time_density() -> None:
    # Same objective through t ~ q(t): the 1/q(t) factor of weighted_loss.
    truth = true_objective(edm_weight)
    n = 4000
    gen = torch.Generator().manual_seed(6)
    density_t = PiecewiseConstantDensity.from_function(
        lambda tt: edm_weight(LAM_MAX - 20 * tt), 0.0, 1.0, 128
    )
    t, q_t = density_t.sample(low_discrepancy_times(n, generator=gen, dtype=DT))
    lam = LAM_MAX - 20 * t
    eps, eps_hat = draw(lam, gen)
    est = weighted_loss(eps, eps_hat, edm_weight(lam), torch.full_like(t, 20.0), q_t)
    mean, se = _mean_se(est)
    assert abs(mean - truth) < 4 * se


def test_sigmoid_proposal_is_the_normalised_sigmoid() -> None:
    bias = 1.0
    u = torch.linspace(0, 0.999, 50, dtype=DT)
    lam, pdf = sigmoid_lambda(u, bias, LAM_MIN, LAM_MAX)
    sp = torch.nn.functional.softplus
    norm = float(sp(torch.tensor(bias - LAM_MIN)) - sp(torch.tensor(bias - LAM_MAX)))
    torch.testing.assert_close(pdf, torch.sigmoid(bias - lam) / norm)
    cdf = (sp(torch.tensor(bias - LAM_MIN, dtype=DT)) - sp(bias - lam)) / norm
    torch.testing.assert_close(cdf, u)
    assert bool((lam[1:] > lam[:-1]).all())
    # Unbiased for the sigmoid-weighted objective.
    truth = true_objective(lambda x: sigmoid_weight(x, bias))
    gen = torch.Generator().manual_seed(7)
    lam_s, q_s = sigmoid_lambda(uniform_times(4000, generator=gen, dtype=DT), bias, LAM_MIN, LAM_MAX)
    eps, eps_hat = draw(lam_s, gen)
    mean, se = _mean_se(weighted_loss_lambda(eps, eps_hat, sigmoid_weight(lam_s, bias), q_s))
    assert abs(mean - truth) < 4 * se


def test_truncated_normal_inverse_cdf() -> None:
    u = torch.tensor([0.0, 0.1, 0.5, 0.9, 0.999], dtype=DT)
    lam, pdf = truncated_normal_lambda(u, 2.4, 2.4, LAM_MIN, LAM_MAX)
    phi = torch.special.ndtr
    lo, hi = phi(torch.tensor((LAM_MIN - 2.4) / 2.4)), phi(torch.tensor((LAM_MAX - 2.4) / 2.4))
    torch.testing.assert_close((phi((lam - 2.4) / 2.4) - lo) / (hi - lo), u)
    want_pdf = torch.exp(-((lam - 2.4) ** 2) / (2 * 2.4**2)) / (2.4 * math.sqrt(2 * math.pi)) / (hi - lo)
    torch.testing.assert_close(pdf, want_pdf)
    assert float(lam.min()) >= LAM_MIN
    assert float(lam.max()) <= LAM_MAX


def test_time_samplers_range_and_stratification() -> None:
    gen = torch.Generator().manual_seed(8)
    for n in (1, 7, 64):
        for sampler in (uniform_times, antithetic_times, low_discrepancy_times):
            t = sampler(n, generator=gen, dtype=DT)
            assert t.shape == (n,)
            assert bool(((t >= 0) & (t < 1)).all())
        ld = low_discrepancy_times(n, generator=gen, dtype=DT)
        assert torch.equal(torch.sort(torch.floor(ld * n).long()).values, torch.arange(n))
    anti = antithetic_times(9, generator=gen, dtype=DT)
    torch.testing.assert_close(anti[0:8:2] + anti[1:8:2], torch.ones(4, dtype=DT))
    steps = uniform_timesteps(2000, 10, generator=gen)
    assert int(steps.min()) == 1
    assert int(steps.max()) == 10
    assert torch.equal(torch.unique(steps), torch.arange(1, 11))


def test_stratified_samplers_reduce_variance_of_a_known_integral() -> None:
    # E[exp(t)] = e - 1 over U(0, 1); batch means of 16 draws, 2000 repeats.
    gen = torch.Generator().manual_seed(9)
    reps, batch = 2000, 16
    results = {}
    for name, sampler in (("iid", uniform_times), ("anti", antithetic_times), ("ld", low_discrepancy_times)):
        means = torch.stack([torch.exp(sampler(batch, generator=gen, dtype=DT)).mean() for _ in range(reps)])
        mean, se = _mean_se(means)
        assert abs(mean - (math.e - 1)) < 4 * max(se, 1e-12)
        results[name] = float(means.var())
    # Antithetic pairs: var of (e^u + e^{1-u})/2 is about 1/30 of the i.i.d. one; the shifted lattice
    # has variance about (e - 1)^2 / (12 B^2), 1/16 of the i.i.d. one at B = 16.
    assert results["anti"] < results["iid"] / 10
    assert results["ld"] < results["iid"] / 8


def test_piecewise_constant_density() -> None:
    dens = PiecewiseConstantDensity(0.0, 2.0, torch.tensor([1.0, 0.0, 3.0, 4.0]))
    # Bin width 0.5; probabilities 1/8, 0, 3/8, 4/8.
    t = torch.tensor([0.1, 0.7, 1.2, 1.9, 2.5], dtype=DT)
    torch.testing.assert_close(dens.pdf(t), torch.tensor([0.25, 0.0, 0.75, 1.0, 0.0], dtype=DT))
    u = (torch.arange(10000, dtype=DT) + 0.5) / 10000
    draws, pdf = dens.sample(u)
    assert not bool(((draws >= 0.5) & (draws < 1.0)).any())
    torch.testing.assert_close(pdf, dens.pdf(draws))
    # Importance estimate of int t^2 dt over the support of q: 8/3 minus the empty bin's 7/24.
    assert float((draws**2 / pdf).mean()) == pytest.approx(8 / 3 - 7 / 24, rel=1e-6)
    with pytest.raises(ValueError, match="non-negative"):
        PiecewiseConstantDensity(0.0, 1.0, torch.tensor([-1.0, 2.0]))
