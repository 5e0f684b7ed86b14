"""Variational Bayes for probabilistic PCA, with the exact evidence lower bound (ELBO).

Bishop, "Variational Principal Components", ICANN 1999, and Bishop, PRML (2006) sec. 12.2.4 / 10.1.
The model for n rows x_n ∈ R^d and k components:

    x_n | z_n, W, μ, τ ~ N(W z_n + μ, τ⁻¹ I_d),      z_n ~ N(0, I_k),
    W_ij ~ N(0, α⁻¹),    μ_i ~ N(0, β⁻¹),    τ ~ Gamma(a0, b0)   (shape, rate).

The prior is fixed (α, β, a0, b0 are constants, no type-II ML), so for every q the ELBO

    L(q) = E_q[log p(X, Z, W, μ, τ)] - E_q[log q] = log p(X | k) - KL(q || p(Z, W, μ, τ | X)) ≤ log p(X | k)

is a lower bound on the evidence of the stated model. Mean field q = q(Z) q(W) q(μ) q(τ) with

    q(z_n) = N(m_zn, Σ_z)               Σ_z = (I + ⟨τ⟩⟨WᵀW⟩)⁻¹,         m_zn = ⟨τ⟩ Σ_z ⟨W⟩ᵀ (x_n - ⟨μ⟩)
    q(μ)   = N(m_μ, v_μ I)              v_μ = 1 / (β + n⟨τ⟩),           m_μ = ⟨τ⟩ v_μ Σ_n (x_n - ⟨W⟩ m_zn)
    q(w_i) = N(m_wi, Σ_w) (rows of W)   Σ_w = (α I + ⟨τ⟩ Σ_n ⟨z_n z_nᵀ⟩)⁻¹,  m_wi = ⟨τ⟩ Σ_w Σ_n m_zn (x_ni - m_μi)
    q(τ)   = Gamma(a, b)                a = a0 + nd/2,                  b = b0 + ½ Σ_n E‖x_n - W z_n - μ‖²

Each update is the exact maximiser of L over its factor with the others fixed (PRML eq. 10.9), so
coordinate ascent never decreases L; `fit_vb_ppca` checks that after every sweep. The q(μ), q(W),
q(τ) updates and KL terms are `vcore.ppca.meanfield`'s, with every row weight 1. All expectations
are closed form:

    L = (nd/2)(⟨log τ⟩ - log 2π) - (⟨τ⟩/2) Σ_n E‖x_n - W z_n - μ‖²
        - KL(q(Z)‖p(Z)) - KL(q(W)‖p(W)) - KL(q(μ)‖p(μ)) - KL(q(τ)‖p(τ)),

with ⟨τ⟩ = a/b, ⟨log τ⟩ = ψ(a) - log b, ⟨WᵀW⟩ = MᵀM + d Σ_w and, writing R = X - 1 m_μᵀ - M_z Mᵀ,

    Σ_n E‖x_n - W z_n - μ‖² = ‖R‖² + n d v_μ + n tr(MᵀM Σ_z) + d tr(Σ_w (n Σ_z + M_zᵀ M_z)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.special import digamma

from vcore.ppca.meanfield import (
    coordinate_ascent,
    gamma_kl,
    logdet_spd,
    mu_factor,
    mu_kl,
    row_squared_errors,
    spd_inverse,
    tau_factor,
    w_factor,
    w_kl,
)
from vcore.ppca.ml import fit_ml_ppca

LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class PPCAPrior:
    """Fixed prior: W_ij ~ N(0, 1/alpha), μ_i ~ N(0, 1/beta), τ ~ Gamma(a0, b0) (shape, rate)."""

    alpha: float = 1.0
    beta: float = 1.0
    a0: float = 1e-3
    b0: float = 1e-3


@dataclass(frozen=True)
class VBPosterior:
    """The mean-field posterior q(Z) q(W) q(μ) q(τ); rows of Z and of W share one covariance each."""

    z_mean: np.ndarray  # (n, k)
    z_cov: np.ndarray  # (k, k)
    w_mean: np.ndarray  # (d, k)
    w_cov: np.ndarray  # (k, k), the covariance of every row of W
    mu_mean: np.ndarray  # (d,)
    mu_var: float
    tau_shape: float
    tau_rate: float

    @property
    def tau_mean(self) -> float:
        return self.tau_shape / self.tau_rate

    def wtw(self) -> np.ndarray:
        """⟨WᵀW⟩ = MᵀM + d Σ_w."""
        return self.w_mean.T @ self.w_mean + self.w_mean.shape[0] * self.w_cov

    def zz_sum(self) -> np.ndarray:
        """Σ_n ⟨z_n z_nᵀ⟩ = n Σ_z + M_zᵀ M_z."""
        return self.z_mean.shape[0] * self.z_cov + self.z_mean.T @ self.z_mean


@dataclass(frozen=True)
class VBFit:
    """A converged (or capped) coordinate-ascent run: the posterior, its ELBO and the ELBO per sweep."""

    posterior: VBPosterior
    elbo: float
    trace: np.ndarray  # ELBO at the initial q, then after every sweep
    iterations: int
    converged: bool


def expected_squared_error(x: np.ndarray, q: VBPosterior) -> float:
    """Σ_n E_q‖x_n - W z_n - μ‖², as a sum of non-negative terms (see the module docstring)."""
    errors = row_squared_errors(x, q.z_mean, q.z_cov, 1.0, q.w_mean, q.w_cov, q.mu_mean, q.mu_var)
    return float(errors.sum())


def elbo(x: np.ndarray, q: VBPosterior, prior: PPCAPrior) -> float:
    """The exact ELBO L(q) ≤ log p(X | k) of the module docstring, in nats (total over the rows)."""
    n, d = x.shape
    k = q.w_mean.shape[1]
    e_log_tau = float(digamma(q.tau_shape)) - math.log(q.tau_rate)
    log_lik = 0.5 * n * d * (e_log_tau - LOG_2PI) - 0.5 * q.tau_mean * expected_squared_error(x, q)
    kl_z = 0.5 * (n * np.trace(q.z_cov) + np.sum(q.z_mean**2) - n * k - n * logdet_spd(q.z_cov))
    kl_w = w_kl(q.w_mean, q.w_cov, prior.alpha)
    kl_mu = mu_kl(q.mu_mean, q.mu_var, prior.beta)
    kl_tau = gamma_kl(q.tau_shape, q.tau_rate, prior.a0, prior.b0)
    return float(log_lik - kl_z - kl_w - kl_mu - kl_tau)


def update_z(x: np.ndarray, q: VBPosterior) -> VBPosterior:
    """q(z_n) = N(⟨τ⟩ Σ_z ⟨W⟩ᵀ (x_n - ⟨μ⟩), Σ_z) with Σ_z = (I + ⟨τ⟩⟨WᵀW⟩)⁻¹."""
    k = q.w_mean.shape[1]
    z_cov = spd_inverse(np.eye(k) + q.tau_mean * q.wtw())
    z_mean = q.tau_mean * (x - q.mu_mean) @ q.w_mean @ z_cov
    return replace(q, z_mean=z_mean, z_cov=z_cov)


def update_mu(x: np.ndarray, q: VBPosterior, prior: PPCAPrior) -> VBPosterior:
    """q(μ) = N(⟨τ⟩ v_μ Σ_n (x_n - ⟨W⟩ m_zn), v_μ I) with v_μ = 1 / (β + n⟨τ⟩)."""
    ones = np.ones(x.shape[0])
    mu_mean, mu_var = mu_factor(x, q.z_mean, q.w_mean, ones, q.tau_mean, prior.beta)
    return replace(q, mu_mean=mu_mean, mu_var=mu_var)


def update_w(x: np.ndarray, q: VBPosterior, prior: PPCAPrior) -> VBPosterior:
    """q(w_i) = N(⟨τ⟩ Σ_w Σ_n m_zn (x_ni - m_μi), Σ_w) with Σ_w = (αI + ⟨τ⟩ Σ_n ⟨z_n z_nᵀ⟩)⁻¹."""
    ones = np.ones(x.shape[0])
    w_mean, w_cov = w_factor(x, q.z_mean, q.z_cov, ones, q.mu_mean, ones, q.tau_mean, prior.alpha)
    return replace(q, w_mean=w_mean, w_cov=w_cov)


def update_tau(x: np.ndarray, q: VBPosterior, prior: PPCAPrior) -> VBPosterior:
    """q(τ) = Gamma(a0 + nd/2, b0 + ½ Σ_n E‖x_n - W z_n - μ‖²)."""
    n, d = x.shape
    shape, rate = tau_factor(expected_squared_error(x, q), n, d, prior.a0, prior.b0)
    return replace(q, tau_shape=shape, tau_rate=rate)


def sweep(x: np.ndarray, q: VBPosterior, prior: PPCAPrior) -> VBPosterior:
    """One round of coordinate ascent: Z, then μ, then W, then τ."""
    q = update_z(x, q)
    q = update_mu(x, q, prior)
    q = update_w(x, q, prior)
    return update_tau(x, q, prior)


def initial_posterior(
    x: np.ndarray, k: int, prior: PPCAPrior, rng: np.random.Generator | None = None
) -> VBPosterior:
    """A valid starting q: ⟨W⟩ from ML PPCA (Tipping & Bishop) when `rng` is None, else random.

    q(Z) starts at the prior, Σ_w at 1/(α + n⟨τ⟩) I and ⟨τ⟩ at 1/σ²; any such q already has a finite ELBO.
    """
    n, d = x.shape
    if not 0 <= k < d:
        raise ValueError(f"k must be in [0, {d - 1}], got {k}")
    shape = prior.a0 + 0.5 * n * d
    if rng is None:
        ml = fit_ml_ppca(x, k)
        w_mean, noise_variance = ml.weights, ml.noise_variance
    else:
        centred = x - x.mean(axis=0)
        total = float(np.mean(centred**2))
        w_mean = rng.normal(scale=math.sqrt(total / max(k, 1)), size=(d, k))
        noise_variance = total
    tau = 1.0 / noise_variance
    return VBPosterior(
        z_mean=np.zeros((n, k)),
        z_cov=np.eye(k),
        w_mean=w_mean,
        w_cov=np.eye(k) / (prior.alpha + n * tau),
        mu_mean=x.mean(axis=0),
        mu_var=1.0 / (prior.beta + n * tau),
        tau_shape=shape,
        tau_rate=shape * noise_variance,
    )


def fit_vb_ppca(
    x: np.ndarray,
    k: int,
    prior: PPCAPrior | None = None,
    *,
    tol: float = 1e-7,
    max_iter: int = 5000,
    rng: np.random.Generator | None = None,
) -> VBFit:
    """Coordinate-ascent VB PPCA (Bishop 1999) until the relative ELBO gain per sweep is below `tol`.

    Starts from ML PPCA, or from a random q when `rng` is given. Raises RuntimeError if a sweep
    lowers the ELBO by more than rounding, which coordinate ascent cannot do.
    """
    prior = PPCAPrior() if prior is None else prior
    x = np.asarray(x, dtype=np.float64)
    q, trace, converged = coordinate_ascent(
        initial_posterior(x, k, prior, rng),
        lambda q: sweep(x, q, prior),
        lambda q: elbo(x, q, prior),
        tol=tol,
        max_iter=max_iter,
    )
    return VBFit(
        posterior=q, elbo=float(trace[-1]), trace=trace, iterations=len(trace) - 1, converged=converged
    )
