"""Robust (Student-t) variational-Bayes PPCA, with the exact evidence lower bound (ELBO).

Archambeau, Delannay & Verleysen, "Robust probabilistic projections", ICML 2006, and "Mixtures of robust
probabilistic principal component analyzers", Neurocomputing 71 (2008). Every row has a latent
precision scale u_n:

    u_n ~ Gamma(ν/2, ν/2),    z_n | u_n ~ N(0, u_n⁻¹ I_k),    x_n | z_n, u_n, W, μ, τ ~ N(W z_n + μ, (u_n τ)⁻¹ I_d),

with the fixed priors of `vcore.ppca.vb` on W, μ and τ. Integrating z_n out gives x_n | u_n ~ N(μ, u_n⁻¹ C)
with C = W Wᵀ + τ⁻¹ I, so x_n is multivariate Student-t with ν degrees of freedom, location μ and scale
matrix C: a row with a large residual gets a small ⟨u_n⟩ and little weight. As ν → ∞, u_n → 1 and the
model becomes Gaussian PPCA (Bishop 1999).

Mean field q = q(Z) q(U) q(W) q(μ) q(τ). The exact maximiser of the ELBO over each factor is

    q(z_n) = N(m_n, s_n Σ_z)    Σ_z = (I + ⟨τ⟩⟨WᵀW⟩)⁻¹,  m_n = ⟨τ⟩ Σ_z ⟨W⟩ᵀ (x_n - ⟨μ⟩),  s_n = 1 / ⟨u_n⟩
    q(u_n) = Gamma(a_u, b_n)    a_u = (ν + d + k) / 2,    b_n = ν/2 + ½ (⟨τ⟩ e_n + ⟨‖z_n‖²⟩)
    q(μ), q(W), q(τ)            `vcore.ppca.meanfield` with row weights ω_n = ⟨u_n⟩ = a_u / b_n

where e_n = E_q‖x_n - W z_n - μ‖² (`meanfield.row_squared_errors`) and ⟨‖z_n‖²⟩ = s_n tr Σ_z + ‖m_n‖².
The mean m_n is the Gaussian model's; the scale s_n keeps the ⟨u_n⟩ of the moment q(z_n) was updated.
With ⟨log u_n⟩ = ψ(a_u) - log b_n and ⟨log τ⟩ = ψ(a) - log b, the ELBO is, in closed form,

    L = Σ_n [ (d/2)(⟨log u_n⟩ + ⟨log τ⟩ - log 2π) - ½ ⟨u_n⟩⟨τ⟩ e_n ]            E log p(x_n | z_n, u_n, W, μ, τ)
      + Σ_n [ (k/2) ⟨log u_n⟩ - ½ ⟨u_n⟩⟨‖z_n‖²⟩ + ½ log|s_n Σ_z| + k/2 ]        E log p(z_n | u_n) + H[q(z_n)]
      - Σ_n KL(Gamma(a_u, b_n) ‖ Gamma(ν/2, ν/2)) - KL(q(W)‖p(W)) - KL(q(μ)‖p(μ)) - KL(q(τ)‖p(τ)).

Degrees of freedom. ν is fixed, or a hyperparameter fitted by type-II maximum likelihood on the bound
(Archambeau et al. fit ν by maximum likelihood too). With everything but q(U) fixed, the part of L that
involves q(u_n) and ν is E_q[h log u_n - c_n u_n + log p(u_n | ν) - log q(u_n)], h = (d + k)/2,
c_n = ½(⟨τ⟩ e_n + ⟨‖z_n‖²⟩). Its maximum over q(u_n) is reached at the update above and equals
log ∫ p(u | ν) u^h e^{-c_n u} du, so

    max over q(U) of L = F(ν) + const,
    F(ν) = Σ_n [ (ν/2) log(ν/2) - log Γ(ν/2) + log Γ(ν/2 + h) - (ν/2 + h) log(ν/2 + c_n) ].

`update_u` with ν free maximises F over log ν in [log ν_min, log ν_max] (bounded Brent, scipy's
`minimize_scalar`), keeps the current ν if that is not better, then sets q(U) for the ν chosen: an exact
maximisation over q(U) and an ascent step in ν, so L never decreases. (Updating q(U) and ν one after the
other also ascends, but ν then creeps towards its optimum over hundreds of sweeps on near-Gaussian data.)
For every q and ν, L(q, ν) ≤ log p(X | k, ν); with ν̂ estimated, the reported L(q, ν̂) is a lower bound
on log p(X | k, ν̂), the evidence of the model whose ν is set to ν̂ (one scalar tuned on the data, like an
empirical-Bayes prior), not on the evidence with ν integrated out.

Rescaling step (parameter expansion; Qi & Jaakkola, "Parameter expanded variational Bayesian methods",
NIPS 2006; the VB counterpart of Liu, Rubin & Wu's PX-EM for the t distribution, Biometrika 1998). For
c > 0 the map u_n → c u_n, τ → τ/c, W → √c W, z_n → z_n/√c keeps u_n τ and W z_n, and keeps
N(z_n | 0, u_n⁻¹ I) up to its Jacobian, so applied to q it leaves the expected log-likelihood unchanged
(the k/2 log c of ⟨log u_n⟩ in log p(z_n | u_n) cancels against the entropy of q(z_n)) and changes L only
through the KLs of U, τ and W. With ℓ = log c these give

    L(c) - L(1) = A ℓ - B (e^ℓ - 1) - D (e^{-ℓ} - 1),
    A = nν/2 + dk/2 - a0,    B = (ν/2) Σ_n ⟨u_n⟩ + (α/2) ⟨‖W‖²_F⟩,    D = b0 ⟨τ⟩,

concave in ℓ and maximal at c = (A + sqrt(A² + 4BD)) / (2B). Each sweep ends with that exact 1-D
maximisation, so L still never decreases; it moves the slow mode of coordinate ascent (the scale shared
by U and τ) in one step and roughly halves the number of sweeps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import digamma, gammaln

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
from vcore.ppca.vb import LOG_2PI, PPCAPrior
from vcore.ppca.vb import initial_posterior as gaussian_initial_posterior

NU_BOUNDS = (1.0, 1000.0)  # where ν̂ is searched
NU_START = 10.0  # ν of the initial q when ν is estimated


@dataclass(frozen=True)
class RobustPosterior:
    """q(Z) q(U) q(W) q(μ) q(τ) and the degrees of freedom ν; Cov_q(z_n) = s_n Σ_z, q(u_n) = Gamma(a_u, b_n)."""

    z_mean: np.ndarray  # (n, k)
    z_cov: np.ndarray  # (k, k), Σ_z
    z_scale: np.ndarray  # (n,), s_n
    u_shape: float  # a_u, shared by every row
    u_rate: np.ndarray  # (n,), b_n
    w_mean: np.ndarray  # (d, k)
    w_cov: np.ndarray  # (k, k), the covariance of every row of W
    mu_mean: np.ndarray  # (d,)
    mu_var: float
    tau_shape: float
    tau_rate: float
    nu: float

    @property
    def tau_mean(self) -> float:
        return self.tau_shape / self.tau_rate

    @property
    def u_mean(self) -> np.ndarray:
        """⟨u_n⟩ = a_u / b_n."""
        return self.u_shape / self.u_rate

    @property
    def u_log_mean(self) -> np.ndarray:
        """⟨log u_n⟩ = ψ(a_u) - log b_n."""
        return float(digamma(self.u_shape)) - np.log(self.u_rate)

    def z_sq_norms(self) -> np.ndarray:
        """⟨‖z_n‖²⟩ = s_n tr Σ_z + ‖m_n‖²."""
        return self.z_scale * float(np.trace(self.z_cov)) + np.sum(self.z_mean**2, axis=1)

    def row_errors(self, x: np.ndarray) -> np.ndarray:
        """e_n = E_q‖x_n - W z_n - μ‖²."""
        return row_squared_errors(
            x, self.z_mean, self.z_cov, self.z_scale, self.w_mean, self.w_cov, self.mu_mean, self.mu_var
        )


@dataclass(frozen=True)
class RobustVBFit:
    """A converged (or capped) coordinate-ascent run: the posterior (with ν), its ELBO and the ELBO per sweep."""

    posterior: RobustPosterior
    elbo: float
    trace: np.ndarray  # ELBO at the initial q, then after every sweep
    iterations: int
    converged: bool


def elbo(x: np.ndarray, q: RobustPosterior, prior: PPCAPrior) -> float:
    """The exact ELBO L(q, ν) ≤ log p(X | k, ν) of the module docstring, in nats (total over the rows)."""
    n, d = x.shape
    k = q.w_mean.shape[1]
    e_u, e_log_u = q.u_mean, q.u_log_mean
    e_log_tau = float(digamma(q.tau_shape)) - math.log(q.tau_rate)
    log_lik = 0.5 * d * (float(e_log_u.sum()) + n * (e_log_tau - LOG_2PI)) - 0.5 * q.tau_mean * float(
        e_u @ q.row_errors(x)
    )
    z_terms = (
        0.5 * k * float(e_log_u.sum())
        - 0.5 * float(e_u @ q.z_sq_norms())
        + 0.5 * k * float(np.log(q.z_scale).sum())
        + 0.5 * n * (logdet_spd(q.z_cov) + k)
    )
    kl_u = gamma_kl(q.u_shape, q.u_rate, 0.5 * q.nu, 0.5 * q.nu)
    kl_w = w_kl(q.w_mean, q.w_cov, prior.alpha)
    kl_mu = mu_kl(q.mu_mean, q.mu_var, prior.beta)
    kl_tau = gamma_kl(q.tau_shape, q.tau_rate, prior.a0, prior.b0)
    return float(log_lik + z_terms - kl_u - kl_w - kl_mu - kl_tau)


def update_z(x: np.ndarray, q: RobustPosterior) -> RobustPosterior:
    """q(z_n) = N(⟨τ⟩ Σ_z ⟨W⟩ᵀ (x_n - ⟨μ⟩), Σ_z / ⟨u_n⟩) with Σ_z = (I + ⟨τ⟩⟨WᵀW⟩)⁻¹."""
    d, k = q.w_mean.shape
    wtw = q.w_mean.T @ q.w_mean + d * q.w_cov
    z_cov = spd_inverse(np.eye(k) + q.tau_mean * wtw)
    z_mean = q.tau_mean * (x - q.mu_mean) @ q.w_mean @ z_cov
    return replace(q, z_mean=z_mean, z_cov=z_cov, z_scale=1.0 / q.u_mean)


def u_rate_offsets(x: np.ndarray, q: RobustPosterior) -> np.ndarray:
    """c_n = ½ (⟨τ⟩ e_n + ⟨‖z_n‖²⟩), so that the optimal q(u_n) is Gamma(ν/2 + h, ν/2 + c_n)."""
    return 0.5 * (q.tau_mean * q.row_errors(x) + q.z_sq_norms())


def nu_objective(nu: float, offsets: np.ndarray, h: float) -> float:
    """F(ν) = Σ_n [(ν/2) log(ν/2) - log Γ(ν/2) + log Γ(ν/2 + h) - (ν/2 + h) log(ν/2 + c_n)]: L over ν, q(U) optimal."""
    half = 0.5 * nu
    per_row = half * math.log(half) - float(gammaln(half)) + float(gammaln(half + h))
    return offsets.shape[0] * per_row - (half + h) * float(np.log(half + offsets).sum())


def best_nu(offsets: np.ndarray, h: float, current: float, bounds: tuple[float, float] = NU_BOUNDS) -> float:
    """argmax of F over log ν in `bounds` by bounded Brent, or `current` if Brent finds nothing better."""

    def negative(log_nu: float) -> float:
        return -nu_objective(math.exp(log_nu), offsets, h)

    found = minimize_scalar(
        negative, bounds=(math.log(bounds[0]), math.log(bounds[1])), method="bounded", options={"xatol": 1e-5}
    )
    if found.fun < negative(math.log(current)):
        return math.exp(float(found.x))
    return current


def update_u(
    x: np.ndarray, q: RobustPosterior, nu_bounds: tuple[float, float] | None = None
) -> RobustPosterior:
    """q(u_n) = Gamma((ν + d + k)/2, ν/2 + c_n); with `nu_bounds`, ν is first moved to `best_nu`, else kept."""
    d, k = q.w_mean.shape
    offsets = u_rate_offsets(x, q)
    h = 0.5 * (d + k)
    nu = q.nu if nu_bounds is None else best_nu(offsets, h, q.nu, nu_bounds)
    return replace(q, nu=nu, u_shape=0.5 * nu + h, u_rate=0.5 * nu + offsets)


def update_mu(x: np.ndarray, q: RobustPosterior, prior: PPCAPrior) -> RobustPosterior:
    """q(μ) = N(⟨τ⟩ v_μ Σ_n ⟨u_n⟩ (x_n - ⟨W⟩ m_n), v_μ I) with v_μ = 1 / (β + ⟨τ⟩ Σ_n ⟨u_n⟩)."""
    mu_mean, mu_var = mu_factor(x, q.z_mean, q.w_mean, q.u_mean, q.tau_mean, prior.beta)
    return replace(q, mu_mean=mu_mean, mu_var=mu_var)


def update_w(x: np.ndarray, q: RobustPosterior, prior: PPCAPrior) -> RobustPosterior:
    """q(w_i) = N(⟨τ⟩ Σ_w Σ_n ⟨u_n⟩ m_n (x_ni - m_μi), Σ_w), Σ_w = (αI + ⟨τ⟩ Σ_n ⟨u_n⟩⟨z_n z_nᵀ⟩)⁻¹."""
    w_mean, w_cov = w_factor(x, q.z_mean, q.z_cov, q.z_scale, q.mu_mean, q.u_mean, q.tau_mean, prior.alpha)
    return replace(q, w_mean=w_mean, w_cov=w_cov)


def update_tau(x: np.ndarray, q: RobustPosterior, prior: PPCAPrior) -> RobustPosterior:
    """q(τ) = Gamma(a0 + nd/2, b0 + ½ Σ_n ⟨u_n⟩ e_n)."""
    n, d = x.shape
    shape, rate = tau_factor(float(q.u_mean @ q.row_errors(x)), n, d, prior.a0, prior.b0)
    return replace(q, tau_shape=shape, tau_rate=rate)


def rescaled(q: RobustPosterior, c: float) -> RobustPosterior:
    """q transformed by u_n → c u_n, τ → τ/c, W → √c W, z_n → z_n/√c (module docstring)."""
    root = math.sqrt(c)
    return replace(
        q,
        u_rate=q.u_rate / c,
        tau_rate=q.tau_rate * c,
        w_mean=q.w_mean * root,
        w_cov=q.w_cov * c,
        z_mean=q.z_mean / root,
        z_cov=q.z_cov / c,
    )


def optimal_scale(q: RobustPosterior, prior: PPCAPrior) -> float:
    """The c > 0 that maximises L(rescaled(q, c)): (A + sqrt(A² + 4BD)) / (2B) (module docstring)."""
    n = q.u_rate.shape[0]
    d, k = q.w_mean.shape
    a = 0.5 * n * q.nu + 0.5 * d * k - prior.a0
    b = 0.5 * q.nu * float(q.u_mean.sum()) + 0.5 * prior.alpha * (
        d * float(np.trace(q.w_cov)) + float(np.sum(q.w_mean**2))
    )
    c = prior.b0 * q.tau_mean
    return (a + math.sqrt(a * a + 4.0 * b * c)) / (2.0 * b)


def sweep(
    x: np.ndarray, q: RobustPosterior, prior: PPCAPrior, nu_bounds: tuple[float, float] | None = NU_BOUNDS
) -> RobustPosterior:
    """One round of coordinate ascent: Z, then U and ν (ν fixed if `nu_bounds` is None), μ, W, τ, rescaling."""
    q = update_u(x, update_z(x, q), nu_bounds)
    q = update_mu(x, q, prior)
    q = update_w(x, q, prior)
    q = update_tau(x, q, prior)
    return rescaled(q, optimal_scale(q, prior))


def initial_posterior(
    x: np.ndarray, k: int, prior: PPCAPrior, nu: float, rng: np.random.Generator | None = None
) -> RobustPosterior:
    """The Gaussian model's starting q (`vcore.ppca.vb.initial_posterior`) with q(u_n) = Gamma(a_u, a_u), mean 1."""
    if not nu > 0.0:
        raise ValueError(f"nu must be > 0, got {nu}")
    g = gaussian_initial_posterior(x, k, prior, rng)
    n, d = x.shape
    u_shape = 0.5 * (nu + d + k)
    return RobustPosterior(
        z_mean=g.z_mean,
        z_cov=g.z_cov,
        z_scale=np.ones(n),
        u_shape=u_shape,
        u_rate=np.full(n, u_shape),
        w_mean=g.w_mean,
        w_cov=g.w_cov,
        mu_mean=g.mu_mean,
        mu_var=g.mu_var,
        tau_shape=g.tau_shape,
        tau_rate=g.tau_rate,
        nu=nu,
    )


def fit_robust_vb_ppca(
    x: np.ndarray,
    k: int,
    prior: PPCAPrior | None = None,
    *,
    nu: float | None = None,
    nu_bounds: tuple[float, float] = NU_BOUNDS,
    tol: float = 1e-7,
    max_iter: int = 5000,
    rng: np.random.Generator | None = None,
) -> RobustVBFit:
    """Coordinate-ascent Student-t VB PPCA until the relative ELBO gain per sweep is below `tol`.

    `nu` fixes the degrees of freedom (up to about 1e6: beyond that the Gamma KLs lose precision and
    the Gaussian model is the same to 1e-3 nats); None estimates ν in `nu_bounds` by maximising the
    ELBO, starting at NU_START. Starts from ML PPCA, or from a random q when `rng` is given. Raises RuntimeError if a
    sweep lowers the ELBO by more than rounding, which coordinate ascent cannot do.
    """
    prior = PPCAPrior() if prior is None else prior
    lo, hi = nu_bounds
    if not 0.0 < lo <= hi:
        raise ValueError(f"nu_bounds must satisfy 0 < low <= high, got {nu_bounds}")
    x = np.asarray(x, dtype=np.float64)
    start = min(max(NU_START, lo), hi) if nu is None else nu
    bounds = None if nu is not None else nu_bounds
    q, trace, converged = coordinate_ascent(
        initial_posterior(x, k, prior, start, rng),
        lambda q: sweep(x, q, prior, bounds),
        lambda q: elbo(x, q, prior),
        tol=tol,
        max_iter=max_iter,
    )
    return RobustVBFit(
        posterior=q, elbo=float(trace[-1]), trace=trace, iterations=len(trace) - 1, converged=converged
    )
