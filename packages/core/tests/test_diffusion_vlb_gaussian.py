"""DDPM's variational bound (vcore.bounds.diffusion_vlb) against closed forms.

Data x0 ~ N(mu, diag(s^2)) in D = 3 dimensions. Per dimension, with x_t = sqrt(ab) x0 + sqrt(1 - ab) eps,

    E[x0 | x_t]  = mu + sqrt(ab) s^2 / (ab s^2 + 1 - ab) (x_t - sqrt(ab) mu),
    Var[x0 | x_t] = V_t = s^2 (1 - ab) / (ab s^2 + 1 - ab),

so the exact reverse mean is c0 E[x0 | x_t] + ct x_t and the exact reverse variance beta~_t + c0^2 V_t.
With that denoiser and reverse variance Sigma_t, averaged over x0 and x_t,

    E KL_t = 1/2 (log(Sigma_t / beta~_t) + (beta~_t + c0^2 V_t) / Sigma_t - 1)      (t >= 2)
    E L_0  = 1/2 (log(2 pi Sigma_1) + V_1 / Sigma_1)                                 (Gaussian decoder)
    E L_T  = 1/2 (-log(1 - ab_T) + 1 - ab_T + ab_T (mu^2 + s^2) - 1)

and -E log N(x0; mu, s^2) = 1/2 log(2 pi e s^2) per dimension. Every term of the bound is a quadratic in
(x0, eps), so Gauss-Hermite quadrature with a few nodes gives vcore's own expectation exactly.

Schedules (built here, nested grids t = i / T so that refining T refines one continuous schedule):
linear log-SNR, ab(tau) = sigmoid(-(g0 + (g1 - g0) tau)), and the cosine schedule of Nichol & Dhariwal.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch

from vcore.bounds.diffusion_vlb import (
    VLBResult,
    discretized_gaussian_log_likelihood,
    nats_to_bits_per_dim,
    prior_kl,
    reverse_log_variance,
    vlb_estimate,
    vlb_full,
    vlb_loss,
    vlb_terms,
)

DT = torch.float64
MU = torch.tensor([0.3, -0.5, 1.0], dtype=DT)
S = torch.tensor([0.5, 0.8, 1.2], dtype=DT)
D = 3
ENTROPY = float((0.5 * torch.log(2 * math.pi * math.e * S**2)).sum())


def ab_linear_log_snr(num_steps: int, g0: float = -10.0, g1: float = 10.0) -> torch.Tensor:
    tau = torch.arange(1, num_steps + 1, dtype=DT) / num_steps
    return torch.sigmoid(-(g0 + (g1 - g0) * tau))


def ab_cosine(num_steps: int, offset: float = 0.008) -> torch.Tensor:
    tau = torch.arange(0, num_steps + 1, dtype=DT) / num_steps
    f = torch.cos((tau + offset) / (1 + offset) * math.pi / 2) ** 2
    ab = f / f[0]
    betas = (1 - ab[1:] / ab[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - betas, 0)


def posterior_var(ab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    ab_prev = torch.cat([torch.ones(1, dtype=DT), ab[:-1]])
    beta = 1 - ab / ab_prev
    return ab_prev, beta, beta * (1 - ab_prev) / (1 - ab)


def optimal_reverse_var(ab: torch.Tensor) -> torch.Tensor:
    """[T, D]: Var[x_{t-1} | x_t] of the true reverse process (Var[x0 | x_1] at t = 1)."""
    ab_prev, beta, pv = posterior_var(ab)
    v = S**2 * (1 - ab[:, None]) / (ab[:, None] * S**2 + 1 - ab[:, None])
    c0 = ab_prev.sqrt() * beta / (1 - ab)
    out = pv[:, None] + c0[:, None] ** 2 * v
    out[0] = v[0]
    return out


def analytic_bound(ab: torch.Tensor, variance: str) -> float:
    """E_x0 of L_vlb (Gaussian decoder) with the exact denoiser, written out independently of vcore."""
    ab_prev, beta, pv = posterior_var(ab)
    v = S**2 * (1 - ab[:, None]) / (ab[:, None] * S**2 + 1 - ab[:, None])
    c0 = ab_prev.sqrt() * beta / (1 - ab)
    true_rev = pv[:, None] + c0[:, None] ** 2 * v
    if variance == "fixed_small":
        clipped = pv.clone()
        clipped[0] = pv[1]
        sig = clipped[:, None].expand_as(v)
    elif variance == "fixed_large":
        sig = beta[:, None].expand_as(v)
    else:
        sig = optimal_reverse_var(ab)
    kl = 0.5 * (torch.log(sig[1:] / pv[1:, None]) + true_rev[1:] / sig[1:] - 1)
    l0 = 0.5 * (math.log(2 * math.pi) + torch.log(sig[0]) + v[0] / sig[0])
    ab_t = ab[-1]
    lt = 0.5 * (-torch.log(1 - ab_t) + (1 - ab_t) + ab_t * (MU**2 + S**2) - 1)
    return float(kl.sum() + l0.sum() + lt.sum())


def denoiser(x_t: torch.Tensor, ab_t: torch.Tensor, kind: str) -> torch.Tensor:
    """The exact E[target | x_t] for the parametrisation `kind`; ab_t is [B, 1]."""
    x0 = MU + ab_t.sqrt() * S**2 / (ab_t * S**2 + 1 - ab_t) * (x_t - ab_t.sqrt() * MU)
    eps = (x_t - ab_t.sqrt() * x0) / (1 - ab_t).sqrt()
    return {"x0": x0, "eps": eps, "v": ab_t.sqrt() * eps - (1 - ab_t).sqrt() * x0}[kind]


def interp_for(ab: torch.Tensor, target_var: torch.Tensor) -> torch.Tensor:
    """[T, D]: the learned-variance output v that makes Sigma_t equal `target_var`."""
    _, beta, pv = posterior_var(ab)
    clipped = pv.clone()
    clipped[0] = pv[1]
    lo, hi = torch.log(clipped)[:, None], torch.log(beta)[:, None]
    return (torch.log(target_var) - lo) / (hi - lo)


def quadrature_bound(ab: torch.Tensor, variance: str, kind: str = "eps", nodes: int = 5) -> float:
    """vcore's E_{x0, x_t}[L_vlb] by Gauss-Hermite quadrature over (x0, eps) (exact for quadratics).

    Every dimension uses the same standardized nodes; the bound is a sum over dimensions of functions of
    that dimension's (x0, eps), so only the per-dimension marginals matter.
    """
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    z = torch.tensor(z, dtype=DT)
    w = torch.tensor(w / w.sum(), dtype=DT)
    zx, ze = torch.meshgrid(z, z, indexing="ij")
    weights = (w[:, None] * w[None, :]).reshape(-1)
    x0 = MU + S * zx.reshape(-1, 1)
    eps = ze.reshape(-1, 1).expand_as(x0)
    n, num_steps = x0.shape[0], ab.numel()
    t = torch.arange(1, num_steps + 1).repeat_interleave(n)
    x0_rep, eps_rep = x0.repeat(num_steps, 1), eps.repeat(num_steps, 1)
    ab_t = ab[t - 1][:, None]
    x_t = ab_t.sqrt() * x0_rep + (1 - ab_t).sqrt() * eps_rep
    var_interp = None
    if variance == "learned":
        var_interp = interp_for(ab, optimal_reverse_var(ab))[t - 1]
    terms = vlb_terms(
        denoiser(x_t, ab_t, kind),
        x0_rep,
        x_t,
        t,
        ab,
        kind=kind,
        variance=variance,
        var_interp=var_interp,
        decoder="gaussian",
    )
    expected_terms = (terms.reshape(num_steps, n) * weights).sum()
    return float(expected_terms + (prior_kl(x0, ab[-1]) * weights).sum())


@pytest.mark.parametrize("schedule", [ab_linear_log_snr, ab_cosine])
def test_expected_bound_matches_closed_form_and_tightens_with_t(schedule) -> None:
    gaps = []
    for num_steps in (10, 100, 1000):
        ab = schedule(num_steps)
        got = quadrature_bound(ab, "fixed_large")
        assert got == pytest.approx(analytic_bound(ab, "fixed_large"), rel=1e-10, abs=1e-10)
        gaps.append(got - ENTROPY)
    assert all(g > 0 for g in gaps)
    assert gaps[0] > gaps[1] > gaps[2]
    # The gap of the fixed-large bound shrinks like 1/T for this data.
    assert gaps[2] < 0.02 * gaps[0]


@pytest.mark.parametrize("variance", ["fixed_small", "fixed_large"])
@pytest.mark.parametrize("kind", ["eps", "x0", "v"])
def test_expected_bound_same_for_every_parametrisation(kind: str, variance: str) -> None:
    ab = ab_cosine(50)
    assert quadrature_bound(ab, variance, kind) == pytest.approx(analytic_bound(ab, variance), rel=1e-10)


def test_exact_reverse_variance_makes_the_bound_tight_up_to_the_prior() -> None:
    # For Gaussian data the true reverse steps are Gaussian; with the exact mean and (learned) variance
    # E L_vlb - H = KL(q(x_T) || N(0, I)), q(x_T) = N(sqrt(ab_T) mu, ab_T s^2 + 1 - ab_T).
    for num_steps in (10, 100):
        ab = ab_linear_log_snr(num_steps)
        m, var = ab[-1].sqrt() * MU, ab[-1] * S**2 + 1 - ab[-1]
        marginal_kl = float((0.5 * (var + m**2 - 1 - torch.log(var))).sum())
        got = quadrature_bound(ab, "learned")
        assert got - ENTROPY == pytest.approx(marginal_kl, rel=1e-6, abs=1e-10)
        assert got < quadrature_bound(ab, "fixed_large")
        assert got < quadrature_bound(ab, "fixed_small")


def _model(ab: torch.Tensor, kind: str):
    def model(x_t: torch.Tensor, t_index: torch.Tensor) -> torch.Tensor:
        assert t_index.dtype == x_t.dtype
        return denoiser(x_t, ab[t_index.long()][:, None], kind)

    return model


def test_monte_carlo_full_bound_agrees_and_is_above_the_nll() -> None:
    n = 1500
    x0 = MU + S * torch.randn(n, D, generator=torch.Generator().manual_seed(0), dtype=DT)
    nll = -(-0.5 * math.log(2 * math.pi) - torch.log(S) - 0.5 * ((x0 - MU) / S) ** 2).sum(1)
    for num_steps in (10, 100):
        ab = ab_linear_log_snr(num_steps)
        totals = {}
        for kind in ("eps", "x0", "v"):
            res = vlb_full(
                _model(ab, kind),
                x0,
                ab,
                generator=torch.Generator().manual_seed(1),
                kind=kind,
                variance="fixed_large",
                decoder="gaussian",
                chunk_size=7,
            )
            assert res.terms.shape == (n, num_steps)
            totals[kind] = res.total
        # Same noise, same denoiser in three parametrisations: the same numbers.
        torch.testing.assert_close(totals["x0"], totals["eps"], rtol=0, atol=1e-10)
        torch.testing.assert_close(totals["v"], totals["eps"], rtol=0, atol=1e-10)
        gap = totals["eps"] - nll
        se = float(gap.std()) / math.sqrt(n)
        expected_gap = analytic_bound(ab, "fixed_large") - ENTROPY
        assert abs(float(gap.mean()) - expected_gap) < 4 * se
        assert float(gap.mean()) > -3 * se


def test_single_t_estimate_is_unbiased_for_the_full_bound() -> None:
    num_steps, n = 20, 4000
    ab = ab_cosine(num_steps)
    gen = torch.Generator().manual_seed(3)
    x0 = (MU + S * torch.randn(1, D, generator=gen, dtype=DT)).expand(n, D).contiguous()
    est = vlb_loss(_model(ab, "eps"), x0, ab, generator=gen, variance="fixed_large", decoder="gaussian")
    full = vlb_full(
        _model(ab, "eps"), x0[:200], ab, generator=gen, variance="fixed_large", decoder="gaussian"
    )
    se = math.sqrt(float(est.var()) / n + float(full.total.var()) / 200)
    assert abs(float(est.mean()) - float(full.total.mean())) < 4 * se
    # vlb_estimate = L_T + T * term_t, term by term.
    t = torch.tensor([1, 7, 20])
    x_t = ab[t - 1].sqrt()[:, None] * x0[:3] + (1 - ab[t - 1]).sqrt()[:, None] * 0.3
    pred = denoiser(x_t, ab[t - 1][:, None], "eps")
    kw = {"variance": "fixed_large", "decoder": "gaussian"}
    term = vlb_terms(pred, x0[:3], x_t, t, ab, **kw)
    torch.testing.assert_close(
        vlb_estimate(pred, x0[:3], x_t, t, ab, **kw), num_steps * term + prior_kl(x0[:3], ab[-1])
    )
    torch.testing.assert_close(
        vlb_estimate(pred, x0[:3], x_t, t, ab, include_prior=False, **kw), num_steps * term
    )


def test_terms_by_hand_at_one_point() -> None:
    ab = ab_cosine(10)
    ab_prev, beta, pv = posterior_var(ab)
    x0 = torch.tensor([[0.2, -0.4, 0.9]], dtype=DT)
    x_t = torch.tensor([[0.5, 0.1, -0.3]], dtype=DT)
    x0_hat = torch.tensor([[0.1, -0.2, 0.7]], dtype=DT)
    for step in (1, 4):
        i = step - 1
        c0 = ab_prev[i].sqrt() * beta[i] / (1 - ab[i])
        ct = (1 - beta[i]).sqrt() * (1 - ab_prev[i]) / (1 - ab[i])
        m_q, m_p = c0 * x0 + ct * x_t, c0 * x0_hat + ct * x_t
        got = vlb_terms(
            x0_hat, x0, x_t, torch.tensor([step]), ab, kind="x0", variance="fixed_large", decoder="gaussian"
        )
        if step == 1:
            want = 0.5 * (math.log(2 * math.pi) + torch.log(beta[0]) + (x0 - x0_hat) ** 2 / beta[0]).sum()
        else:
            want = 0.5 * (torch.log(beta[i] / pv[i]) + (pv[i] + (m_q - m_p) ** 2) / beta[i] - 1).sum()
        assert float(got) == pytest.approx(float(want), rel=1e-12)


def test_reverse_variances() -> None:
    ab = ab_cosine(10)
    _, beta, pv = posterior_var(ab)
    t = torch.tensor([1, 2, 10])
    small = reverse_log_variance(ab, t, "fixed_small")
    torch.testing.assert_close(small, torch.log(torch.stack([pv[1], pv[1], pv[9]])))
    torch.testing.assert_close(reverse_log_variance(ab, t, "fixed_large"), torch.log(beta[t - 1]))
    v = torch.tensor([[0.0], [1.0], [0.25]], dtype=DT)
    learned = reverse_log_variance(ab, t, "learned", v).reshape(-1)
    want = torch.stack([small[0], torch.log(beta[1]), 0.25 * torch.log(beta[9]) + 0.75 * small[2]])
    torch.testing.assert_close(learned, want)
    with pytest.raises(ValueError, match="var_interp"):
        reverse_log_variance(ab, t, "learned")


def test_bits_per_dim_is_nats_over_d_ln2() -> None:
    assert float(nats_to_bits_per_dim(torch.tensor(3 * D * math.log(2.0)), D)) == pytest.approx(3.0)
    res = VLBResult(prior=torch.tensor([0.5, 1.0]), terms=torch.tensor([[1.0, 2.0], [3.0, 4.0]]), num_dims=4)
    torch.testing.assert_close(res.total, torch.tensor([3.5, 8.0]))
    torch.testing.assert_close(res.bits_per_dim, torch.tensor([3.5, 8.0]) / (4 * math.log(2.0)))


def test_learned_variance_model_must_return_a_pair() -> None:
    ab = ab_cosine(5)
    x0 = torch.zeros(2, D, dtype=DT)
    with pytest.raises(ValueError, match="var_interp"):
        vlb_full(_model(ab, "eps"), x0, ab, variance="learned", decoder="gaussian")
    with pytest.raises(ValueError, match="steps t"):
        vlb_terms(x0, x0, x0, torch.tensor([0, 1]), ab)


def _bin_log_probability(x: float, mean: float, std: float, bits: int) -> float:
    """log of the Gaussian mass of x's bin, with 60-digit arithmetic: the closed form to match."""
    with mpmath.workdps(60):
        half = mpmath.mpf(1) / (2**bits - 1)
        lo = -mpmath.inf if x < -1.0 + half else (x - half - mean) / mpmath.mpf(std)
        hi = mpmath.inf if x > 1.0 - half else (x + half - mean) / mpmath.mpf(std)
        if lo + hi > 0:  # both ends in the upper tail: use the reflected, cancellation-free form
            lo, hi = -hi, -lo
        return float(mpmath.log(mpmath.ncdf(hi) - mpmath.ncdf(lo)))


@pytest.mark.parametrize(
    ("mean", "std"), [(0.0, 0.3), (0.37, 0.05), (-0.9, 1.5), (2.5, 0.2), (0.1, 1e-3), (0.0, 40.0)]
)
def test_discretized_decoder_sums_to_one_and_matches_the_cdf(mean: float, std: float) -> None:
    bits = 3
    grid = torch.linspace(-1.0, 1.0, 2**bits, dtype=DT)
    mean_t = torch.full_like(grid, mean)
    log_var = torch.full_like(grid, 2 * math.log(std))
    logp = discretized_gaussian_log_likelihood(grid, mean_t, log_var, bits)
    assert float(torch.logsumexp(logp, 0)) == pytest.approx(0.0, abs=1e-12)
    for x, lp in zip(grid.tolist(), logp.tolist(), strict=True):
        assert lp == pytest.approx(_bin_log_probability(x, mean, std, bits), rel=1e-9, abs=1e-12)


def test_discretized_decoder_far_tails_and_narrow_bins_stay_finite() -> None:
    bits = 8
    x = torch.tensor([0.0, 0.0, 1.0, -1.0, 0.5], dtype=DT)
    mean = torch.tensor([30.0, -30.0, 0.0, 0.0, 0.5], dtype=DT, requires_grad=True)
    log_var = torch.tensor([0.0, 0.0, 0.0, 0.0, 2 * math.log(1e4)], dtype=DT)
    logp = discretized_gaussian_log_likelihood(x, mean, log_var, bits)
    half = 1.0 / 255
    values = logp.detach().tolist()
    for i, std in enumerate([1.0, 1.0, 1.0, 1.0, 1e4]):
        want = _bin_log_probability(float(x[i]), float(mean.detach()[i]), std, bits)
        assert values[i] == pytest.approx(want, rel=1e-9)
    assert values[1] == pytest.approx(values[0], rel=1e-12)
    # A bin much narrower than the Gaussian: width times density at the centre.
    assert values[4] == pytest.approx(math.log(2 * half / 1e4 / math.sqrt(2 * math.pi)), rel=1e-9)
    logp.sum().backward()
    assert mean.grad is not None
    assert bool(torch.isfinite(mean.grad).all())
    # float32 inputs are handled in float64 inside.
    lp32 = discretized_gaussian_log_likelihood(x.float(), mean.detach().float(), log_var.float(), bits)
    assert lp32.dtype == torch.float32
    torch.testing.assert_close(lp32.double(), logp.detach(), rtol=1e-5, atol=1e-5)


def test_discretized_l0_term_through_the_bound() -> None:
    bits = 3
    ab = ab_cosine(4)
    _, beta, _ = posterior_var(ab)
    x0 = torch.tensor([[-1.0, 1.0 / 7.0, 1.0]], dtype=DT)
    x0_hat = torch.tensor([[-0.8, 0.3, 1.7]], dtype=DT)
    x_t = ab[0].sqrt() * x0 + (1 - ab[0]).sqrt() * 0.5
    kw = {"kind": "x0", "variance": "fixed_large", "decoder": "discretized", "bits": bits}
    got = vlb_terms(x0_hat, x0, x_t, torch.tensor([1]), ab, **kw)
    std = math.sqrt(float(beta[0]))
    pairs = list(zip(x0[0].tolist(), x0_hat[0].tolist(), strict=True))
    want = -sum(_bin_log_probability(a, b, std, bits) for a, b in pairs)
    assert float(got) == pytest.approx(want, rel=1e-10)
    # clip_x0 moves the last mean from 1.7 to 1.0.
    clipped = vlb_terms(x0_hat, x0, x_t, torch.tensor([1]), ab, clip_x0=True, **kw)
    want_clip = -sum(_bin_log_probability(a, min(b, 1.0), std, bits) for a, b in pairs)
    assert float(clipped) == pytest.approx(want_clip, rel=1e-10)
