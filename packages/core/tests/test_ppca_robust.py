"""Student-t (robust) VB PPCA: closed-form ELBO against Monte Carlo and an exact evidence, monotone ascent,
the ν and rescaling steps against their closed forms, and the Gaussian limit ν → ∞."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from scipy.special import gammaln, logsumexp
from scipy.stats import gamma as gamma_dist
from scipy.stats import norm

from vcore.ppca.meanfield import coordinate_ascent
from vcore.ppca.robust_vb import (
    NU_BOUNDS,
    RobustPosterior,
    best_nu,
    elbo,
    fit_robust_vb_ppca,
    initial_posterior,
    nu_objective,
    optimal_scale,
    rescaled,
    sweep,
    u_rate_offsets,
    update_mu,
    update_tau,
    update_u,
    update_w,
    update_z,
)
from vcore.ppca.synthetic import make_ppca_data
from vcore.ppca.vb import PPCAPrior, fit_vb_ppca

LOG_2PI = math.log(2.0 * math.pi)


def _gauss_logpdf(x: np.ndarray, mean: np.ndarray | float, var: np.ndarray | float) -> np.ndarray:
    return -0.5 * (LOG_2PI + np.log(var) + (x - mean) ** 2 / var)


def _monte_carlo_elbo(
    x: np.ndarray, q: RobustPosterior, prior: PPCAPrior, samples: int, seed: int
) -> tuple[float, float]:
    """E_q[log p(X, Z, U, W, μ, τ) - log q] by sampling q; returns (mean, standard error)."""
    rng = np.random.default_rng(seed)
    n, d = x.shape
    k = q.w_mean.shape[1]
    lz, lw = np.linalg.cholesky(q.z_cov), np.linalg.cholesky(q.w_cov)
    u = rng.gamma(q.u_shape, 1.0 / q.u_rate, size=(samples, n))
    tau = rng.gamma(q.tau_shape, 1.0 / q.tau_rate, size=samples)
    mu = q.mu_mean + math.sqrt(q.mu_var) * rng.normal(size=(samples, d))
    ew = rng.normal(size=(samples, d, k))
    w = q.w_mean + ew @ lw.T
    ez = rng.normal(size=(samples, n, k))
    z = q.z_mean + np.sqrt(q.z_scale)[:, None] * (ez @ lz.T)  # Cov(z_n) = s_n Σ_z
    resid = x - z @ np.swapaxes(w, 1, 2) - mu[:, None, :]
    precision = u * tau[:, None]  # (samples, n)
    log_lik = np.sum(
        0.5 * d * (np.log(precision) - LOG_2PI) - 0.5 * precision * np.sum(resid**2, axis=2), axis=1
    )
    log_prior = (
        _gauss_logpdf(z, 0.0, 1.0 / u[:, :, None]).sum(axis=(1, 2))
        + gamma_dist.logpdf(u, 0.5 * q.nu, scale=2.0 / q.nu).sum(axis=1)
        + _gauss_logpdf(w, 0.0, 1.0 / prior.alpha).sum(axis=(1, 2))
        + _gauss_logpdf(mu, 0.0, 1.0 / prior.beta).sum(axis=1)
        + gamma_dist.logpdf(tau, prior.a0, scale=1.0 / prior.b0)
    )
    log_det_z = k * np.log(q.z_scale) + 2 * np.log(np.diag(lz)).sum()  # log|s_n Σ_z| per row
    log_q = (
        -0.5 * (n * k * LOG_2PI + log_det_z.sum() + np.sum(ez**2, axis=(1, 2)))
        + gamma_dist.logpdf(u, q.u_shape, scale=1.0 / q.u_rate).sum(axis=1)
        - 0.5 * (d * k * LOG_2PI + d * 2 * np.log(np.diag(lw)).sum() + np.sum(ew**2, axis=(1, 2)))
        + _gauss_logpdf(mu, q.mu_mean, q.mu_var).sum(axis=1)
        + gamma_dist.logpdf(tau, q.tau_shape, scale=1.0 / q.tau_rate)
    )
    values = log_lik + log_prior - log_q
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(samples))


def _unconverged_q(x: np.ndarray, k: int, prior: PPCAPrior, sweeps: int, seed: int) -> RobustPosterior:
    q = initial_posterior(x, k, prior, nu=6.0, rng=np.random.default_rng(seed))
    for _ in range(sweeps):
        q = sweep(x, q, prior)
    return q


def test_closed_form_elbo_equals_monte_carlo_at_an_unconverged_q() -> None:
    data = make_ppca_data(30, 4, 2, noise_scale=0.4, noise="student-t", df=3.0, rng=11)
    prior = PPCAPrior(alpha=2.0, beta=0.5, a0=2.0, b0=1.5)
    q = initial_posterior(data.x, 2, prior, nu=3.0, rng=np.random.default_rng(0))
    for _ in range(3):
        q = sweep(data.x, q, prior, nu_bounds=None)  # ν = 3 fixed: heavy tails, so U matters
    # a generic q: the z scales are not 1/⟨u_n⟩ any more (U was updated after Z, then rescaled)
    assert not np.allclose(q.z_scale, 1.0 / q.u_mean, rtol=1e-3)
    assert q.u_mean.min() < 0.5 < 1.5 < q.u_mean.max()
    exact = elbo(data.x, q, prior)
    mc, se = _monte_carlo_elbo(data.x, q, prior, samples=20_000, seed=1)
    assert se < 0.05
    assert abs(mc - exact) < 5 * se, (mc, exact, se)
    # the check has teeth: the u-terms are many standard errors large (ν → 4 moves L by ~1.7 nats,
    # the ½ k Σ log s_n of the z entropy is ~0.34 nats)
    assert abs(elbo(data.x, replace(q, nu=4.0), prior) - exact) > 20 * se
    assert abs(float(np.log(q.z_scale).sum())) > 5 * se


def test_elbo_non_decreasing_after_every_sweep_and_every_update() -> None:
    data = make_ppca_data(200, 6, 2, noise_scale=0.5, noise="student-t", df=3.0, rng=2)
    x, prior = data.x, PPCAPrior()
    fit = fit_robust_vb_ppca(x, 3, prior, tol=1e-12, max_iter=3000, rng=np.random.default_rng(7))
    steps = np.diff(fit.trace)
    assert fit.iterations > 20  # a random start needs many sweeps, so this checks many steps
    assert np.all(steps >= -1e-10 * np.abs(fit.trace[1:])), steps.min()
    assert fit.trace[-1] - fit.trace[0] > 100.0  # the ascent really moved
    assert 1.0 < fit.posterior.nu < 50.0  # t_3 noise: a finite ν

    q = initial_posterior(x, 3, prior, nu=30.0, rng=np.random.default_rng(8))
    value = elbo(x, q, prior)
    updates: list[Callable[[RobustPosterior], RobustPosterior]] = [
        lambda q: update_z(x, q),
        lambda q: update_u(x, q),  # ν fixed
        lambda q: update_u(x, q, NU_BOUNDS),  # ν free
        lambda q: update_mu(x, q, prior),
        lambda q: update_w(x, q, prior),
        lambda q: update_tau(x, q, prior),
        lambda q: rescaled(q, optimal_scale(q, prior)),
    ]
    for _ in range(5):
        for update in updates:
            q = update(q)
            new = elbo(x, q, prior)
            assert new >= value - 1e-9 * abs(value)
            value = new


def test_each_update_is_the_optimum_of_its_factor() -> None:
    """After an update, any perturbation of what it set (alone) lowers the ELBO."""
    x = make_ppca_data(80, 5, 2, noise_scale=0.5, noise="student-t", df=2.0, rng=5).x
    prior = PPCAPrior()
    q = _unconverged_q(x, 2, prior, sweeps=3, seed=3)
    assert 2.0 < update_u(x, q, NU_BOUNDS).nu < 20.0  # an interior ν̂, so perturbing ν both ways must lose
    rng = np.random.default_rng(5)
    Update = Callable[[RobustPosterior], RobustPosterior]
    Perturb = Callable[[RobustPosterior, float], RobustPosterior]
    cases: list[tuple[Update, Perturb]] = [
        (
            lambda q: update_z(x, q),
            lambda q, e: replace(
                q, z_mean=q.z_mean + e * rng.normal(size=q.z_mean.shape), z_scale=q.z_scale * (1 + e)
            ),
        ),
        (
            lambda q: update_u(x, q),
            lambda q, e: replace(
                q, u_shape=q.u_shape * (1 + e), u_rate=q.u_rate * (1 + e * rng.random(q.u_rate.shape))
            ),
        ),
        (lambda q: update_u(x, q, NU_BOUNDS), lambda q, e: replace(q, nu=q.nu * (1 + e))),  # ν alone
        (
            lambda q: update_mu(x, q, prior),
            lambda q, e: replace(
                q, mu_mean=q.mu_mean + e * rng.normal(size=q.mu_mean.shape), mu_var=q.mu_var * (1 + e)
            ),
        ),
        (
            lambda q: update_w(x, q, prior),
            lambda q, e: replace(
                q, w_mean=q.w_mean + e * rng.normal(size=q.w_mean.shape), w_cov=q.w_cov * (1 - e)
            ),
        ),
        (
            lambda q: update_tau(x, q, prior),
            lambda q, e: replace(q, tau_shape=q.tau_shape * (1 + e), tau_rate=q.tau_rate * (1 + 2 * e)),
        ),
        (lambda q: rescaled(q, optimal_scale(q, prior)), lambda q, e: rescaled(q, 1 + e)),
    ]
    for update, perturb in cases:
        q_opt = update(q)
        best = elbo(x, q_opt, prior)
        for eps in (1e-2, 1e-3, -1e-3):
            assert elbo(x, perturb(q_opt, eps), prior) < best
        q = q_opt


def test_nu_objective_is_the_elbo_with_q_u_optimal_and_best_nu_maximises_it() -> None:
    """L(q with q(U) updated at ν) = F(ν) + const; ν̂ = argmax F is interior for t_3 noise."""
    x = make_ppca_data(150, 5, 2, noise_scale=0.5, noise="student-t", df=3.0, rng=6).x
    prior = PPCAPrior()
    q = _unconverged_q(x, 2, prior, sweeps=5, seed=1)
    offsets, h = u_rate_offsets(x, q), 0.5 * (5 + 2)
    values = {nu: elbo(x, update_u(x, replace(q, nu=nu)), prior) for nu in (2.0, 7.0, 40.0)}
    for nu in (7.0, 40.0):
        assert values[nu] - values[2.0] == pytest.approx(
            nu_objective(nu, offsets, h) - nu_objective(2.0, offsets, h), rel=1e-9, abs=1e-8
        )
    # F is the sum of log ∫ Gamma(u | ν/2, ν/2) u^h e^{-c_n u} du: check one row by quadrature
    from scipy.integrate import quad

    c0 = float(offsets[0])
    row, _ = quad(lambda u: gamma_dist.pdf(u, 3.5, scale=1 / 3.5) * u**h * math.exp(-c0 * u), 0, np.inf)
    assert nu_objective(7.0, offsets[:1], h) == pytest.approx(math.log(row), rel=1e-10)
    nu_hat = best_nu(offsets, h, current=30.0)
    assert NU_BOUNDS[0] < nu_hat < NU_BOUNDS[1]
    grid = np.exp(np.linspace(math.log(NU_BOUNDS[0]), math.log(NU_BOUNDS[1]), 2001))
    on_grid = max(nu_objective(float(v), offsets, h) for v in grid)
    assert nu_objective(nu_hat, offsets, h) >= on_grid - 1e-9
    # clipped to the bounds (F is unimodal here), and never worse than the current ν
    assert best_nu(offsets, h, current=45.0, bounds=(40.0, 50.0)) == pytest.approx(50.0, rel=1e-4)
    assert best_nu(offsets, h, current=95.0, bounds=(90.0, 100.0)) == pytest.approx(90.0, rel=1e-4)
    assert best_nu(offsets, h, current=nu_hat, bounds=(90.0, 100.0)) == nu_hat


def test_rescaling_changes_the_elbo_by_its_closed_form() -> None:
    """L(rescaled(q, c)) - L(q) = A log c - B (c - 1) - D (1/c - 1): only the KLs of U, τ and W move."""
    x = make_ppca_data(60, 4, 2, noise_scale=0.5, noise="student-t", df=3.0, rng=8).x
    prior = PPCAPrior(alpha=1.5, beta=0.7, a0=2.0, b0=3.0)
    q = _unconverged_q(x, 2, prior, sweeps=2, seed=2)
    n, d, k = 60, 4, 2
    a = 0.5 * n * q.nu + 0.5 * d * k - prior.a0
    b = 0.5 * q.nu * q.u_mean.sum() + 0.5 * prior.alpha * (d * np.trace(q.w_cov) + np.sum(q.w_mean**2))
    dd = prior.b0 * q.tau_mean
    base = elbo(x, q, prior)
    for c in (0.5, 0.9, 1.3, 4.0):
        expected = a * math.log(c) - b * (c - 1) - dd * (1 / c - 1)
        assert elbo(x, rescaled(q, c), prior) - base == pytest.approx(expected, rel=1e-9, abs=1e-8)
    c_hat = optimal_scale(q, prior)
    assert b * c_hat**2 - a * c_hat - dd == pytest.approx(0.0, abs=1e-8 * a)  # the stationarity condition


def test_large_nu_approaches_the_gaussian_elbo() -> None:
    """With ν fixed, q(u_n) → δ(u_n - 1) and L_t → L_gauss, the gap shrinking like 1/ν.

    Recorded on this data (n=200, d=5, k=2): ν · (L_t - L_gauss) = -194.4 for ν from 1e2 to 1e6, so the
    stated tolerance is |L_t - L_gauss| < 1e-3 nats at ν = 1e6 (measured 1.9e-4), while the gap at ν = 10
    is about 20 nats.
    """
    x = make_ppca_data(200, 5, 2, noise_scale=0.5, rng=3).x
    prior = PPCAPrior()
    gauss = fit_vb_ppca(x, 2, prior, tol=1e-13, max_iter=20_000).elbo
    gaps = {
        nu: fit_robust_vb_ppca(x, 2, prior, nu=nu, tol=1e-13, max_iter=20_000).elbo - gauss
        for nu in (10.0, 1e3, 1e4, 1e6)
    }
    assert abs(gaps[1e6]) < 1e-3, gaps
    assert gaps[10.0] < -15.0, gaps
    for nu in (1e3, 1e4):
        assert nu * gaps[nu] == pytest.approx(-194.4, rel=0.005), gaps  # O(1/ν), recorded constant


def _log_evidence_k0(
    x: np.ndarray, nu: float, prior: PPCAPrior, mu_centre: float, log_tau_centre: float, m: int
) -> float:
    """log ∫∫ Π_n t_ν(x_n | μ, τ^{-1/2}) N(μ | 0, 1/β) Gamma(τ | a0, b0) dμ dτ on an m x m grid in (μ, log τ)."""
    mu = np.linspace(mu_centre - 2.0, mu_centre + 2.0, m)[:, None, None]
    log_tau = np.linspace(log_tau_centre - 3.0, log_tau_centre + 3.0, m)[None, :, None]
    # log t_ν(x | μ, s) with s = τ^{-1/2}: the scale enters as + ½ log τ
    log_norm = gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * math.log(nu * math.pi)
    sq = np.exp(log_tau) * (x[None, None, :] - mu) ** 2
    log_lik = (log_norm + 0.5 * log_tau - 0.5 * (nu + 1) * np.log1p(sq / nu)).sum(axis=2)
    tau = np.exp(log_tau[:, :, 0])
    log_joint = (
        log_lik
        + norm.logpdf(mu[:, :, 0], 0.0, 1 / math.sqrt(prior.beta))
        + gamma_dist.logpdf(tau, prior.a0, scale=1 / prior.b0)
        + log_tau[:, :, 0]  # dτ = τ d log τ
    )
    step = float(mu[1, 0, 0] - mu[0, 0, 0]) * float(log_tau[0, 1, 0] - log_tau[0, 0, 0])
    return float(logsumexp(log_joint) + math.log(step))


def test_k0_elbo_is_below_the_exact_student_t_evidence() -> None:
    """d=1, k=0: x_n ~ t_ν(μ, 1/τ); log p(X | ν) = log ∫∫ Π_n t_ν(x_n | μ, τ^{-1/2}) p(μ) p(τ) dμ dτ on a grid."""
    x = make_ppca_data(40, 1, 0, noise_scale=1.0, noise="student-t", df=3.0, rng=5).x
    prior = PPCAPrior()
    nu = 3.0
    fit = fit_robust_vb_ppca(x, 0, prior, nu=nu, tol=1e-14, max_iter=20_000)
    q = fit.posterior
    log_z = _log_evidence_k0(x[:, 0], nu, prior, float(q.mu_mean[0]), math.log(q.tau_mean), 201)
    assert log_z == pytest.approx(-58.2226047577, abs=1e-8)  # recorded; the grid is converged to 1e-13
    gap = log_z - fit.elbo
    assert 0.3 < gap < 1.0, gap  # a bound, and a tight one (0.556): q factorises U, μ and τ


def test_fit_validates_nu_and_bounds() -> None:
    x = make_ppca_data(30, 3, 1, rng=0).x
    with pytest.raises(ValueError, match="nu must be > 0"):
        fit_robust_vb_ppca(x, 1, nu=0.0)
    with pytest.raises(ValueError, match="nu_bounds"):
        fit_robust_vb_ppca(x, 1, nu_bounds=(5.0, 2.0))
    fixed = fit_robust_vb_ppca(x, 1, nu=4.0)
    assert fixed.posterior.nu == 4.0
    assert fixed.posterior.u_shape == pytest.approx(0.5 * (4.0 + 3 + 1))


def test_outlying_rows_get_the_smallest_weights() -> None:
    data = make_ppca_data(300, 6, 2, noise_scale=0.3, rng=9)
    x = data.x.copy()
    outliers = np.array([3, 50, 120, 200, 277])
    x[outliers, 1] += 8.0
    q = fit_robust_vb_ppca(x, 2).posterior
    assert set(np.argsort(q.u_mean)[:5]) == set(outliers)
    assert q.u_mean[outliers].max() < 0.2 < np.median(q.u_mean)


def test_coordinate_ascent_raises_when_a_sweep_lowers_the_bound() -> None:
    with pytest.raises(RuntimeError, match="ELBO decreased"):
        coordinate_ascent(0.0, lambda v: v - 1.0, lambda v: v, tol=1e-9, max_iter=5)
    q, trace, converged = coordinate_ascent(
        8.0, lambda v: 0.5 * v, lambda v: -1.0 - v * v, tol=1e-6, max_iter=100
    )
    # v_t = 8 / 2^t, L_t = -1 - 64 / 4^t: the gain 192 / 4^t first drops below 1e-6 |L_t| at t = 14
    assert converged
    assert q == 8.0 / 2**14
    assert trace.shape == (15,)
    assert np.all(np.diff(trace) > 0)
    _, _, capped = coordinate_ascent(8.0, lambda v: 0.5 * v, lambda v: -1.0 - v * v, tol=1e-6, max_iter=5)
    assert not capped
