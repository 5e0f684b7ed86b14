"""Mean-field pieces shared by Gaussian and Student-t variational-Bayes PPCA: factors, KLs, the ascent loop.

Both `vcore.ppca.vb` (Bishop 1999) and `vcore.ppca.robust_vb` (Archambeau, Delannay & Verleysen 2006)
have, for n rows x_n ∈ R^d and k components, the likelihood and priors

    x_n | z_n, u_n, W, μ, τ ~ N(W z_n + μ, (u_n τ)⁻¹ I_d),
    W_ij ~ N(0, α⁻¹),    μ_i ~ N(0, β⁻¹),    τ ~ Gamma(a0, b0)   (shape, rate),

with a per-row precision scale u_n (u_n ≡ 1 in the Gaussian model). Under mean field with row weights
ω_n = ⟨u_n⟩ and q(z_n) = N(m_n, s_n Σ_z) (s_n ≡ 1 in the Gaussian model), the exact maximisers of the
ELBO over q(μ), q(W) (rows w_i) and q(τ) with everything else fixed (PRML eq. 10.9) are

    q(μ)   = N(m_μ, v_μ I)    v_μ = 1 / (β + ⟨τ⟩ Σ_n ω_n),          m_μ = ⟨τ⟩ v_μ Σ_n ω_n (x_n - ⟨W⟩ m_n)
    q(w_i) = N(m_wi, Σ_w)     Σ_w = (α I + ⟨τ⟩ Σ_n ω_n ⟨z_n z_nᵀ⟩)⁻¹,  m_wi = ⟨τ⟩ Σ_w Σ_n ω_n m_n (x_ni - m_μi)
    q(τ)   = Gamma(a, b)      a = a0 + nd/2,                        b = b0 + ½ Σ_n ω_n e_n

with ⟨z_n z_nᵀ⟩ = s_n Σ_z + m_n m_nᵀ and the expected squared error of row n (M = ⟨W⟩)

    e_n = E_q‖x_n - W z_n - μ‖² = ‖x_n - m_μ - M m_n‖² + d v_μ + s_n tr(MᵀM Σ_z) + d tr(Σ_w ⟨z_n z_nᵀ⟩),

a sum of non-negative terms. The KL divergences of these factors from their priors are closed form too.

`coordinate_ascent` runs the sweeps of either model and checks the property that makes them correct:
each update maximises the ELBO over its factor, so the ELBO never decreases.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from scipy.special import digamma, gammaln

Q = TypeVar("Q")


def spd_inverse(a: np.ndarray) -> np.ndarray:
    """The inverse of a symmetric positive-definite matrix, symmetrised against rounding."""
    inv = np.linalg.inv(a)
    return 0.5 * (inv + inv.T)


def logdet_spd(a: np.ndarray) -> float:
    """log|A| of a symmetric positive-definite A through its Cholesky factor (0 for a 0x0 matrix)."""
    if a.shape[0] == 0:
        return 0.0
    return 2.0 * float(np.log(np.diag(np.linalg.cholesky(a))).sum())


def gamma_kl(
    a: float | np.ndarray, b: float | np.ndarray, a0: float | np.ndarray, b0: float | np.ndarray
) -> float:
    """KL(Gamma(a, b) ‖ Gamma(a0, b0)) (shape, rate), summed over the broadcast entries of arrays.

    = (a - a0) ψ(a) - log Γ(a) + log Γ(a0) + a0 (log b - log b0) + a (b0 - b) / b.
    """
    a, b, a0, b0 = (np.asarray(v, dtype=np.float64) for v in (a, b, a0, b0))
    terms = (
        (a - a0) * digamma(a) - gammaln(a) + gammaln(a0) + a0 * (np.log(b) - np.log(b0)) + a * (b0 - b) / b
    )
    return float(np.sum(terms))


def w_kl(w_mean: np.ndarray, w_cov: np.ndarray, alpha: float) -> float:
    """KL(q(W) ‖ p(W)) for rows q(w_i) = N(m_wi, Σ_w) and W_ij ~ N(0, 1/α)."""
    d, k = w_mean.shape
    return 0.5 * (
        alpha * (d * float(np.trace(w_cov)) + float(np.sum(w_mean**2)))
        - d * k
        - d * k * math.log(alpha)
        - d * logdet_spd(w_cov)
    )


def mu_kl(mu_mean: np.ndarray, mu_var: float, beta: float) -> float:
    """KL(N(m_μ, v_μ I) ‖ N(0, I/β))."""
    d = mu_mean.shape[0]
    return 0.5 * (
        beta * (d * mu_var + float(np.sum(mu_mean**2))) - d - d * math.log(beta) - d * math.log(mu_var)
    )


def row_squared_errors(
    x: np.ndarray,
    z_mean: np.ndarray,
    z_cov: np.ndarray,
    z_scale: float | np.ndarray,
    w_mean: np.ndarray,
    w_cov: np.ndarray,
    mu_mean: np.ndarray,
    mu_var: float,
) -> np.ndarray:
    """e_n = E_q‖x_n - W z_n - μ‖² for every row (n,), with Cov_q(z_n) = s_n Σ_z (module docstring)."""
    d = x.shape[1]
    resid = x - mu_mean - z_mean @ w_mean.T
    per_unit_scale = float(np.vdot(w_mean.T @ w_mean, z_cov)) + d * float(np.vdot(w_cov, z_cov))
    return (
        np.einsum("ij,ij->i", resid, resid)
        + d * mu_var
        + z_scale * per_unit_scale
        + d * np.einsum("ij,ij->i", z_mean @ w_cov, z_mean)
    )


def mu_factor(
    x: np.ndarray, z_mean: np.ndarray, w_mean: np.ndarray, weights: np.ndarray, tau_mean: float, beta: float
) -> tuple[np.ndarray, float]:
    """(m_μ, v_μ) of the optimal q(μ) = N(m_μ, v_μ I) for row weights ω (n,)."""
    mu_var = 1.0 / (beta + tau_mean * float(weights.sum()))
    mu_mean = tau_mean * mu_var * (weights @ x - w_mean @ (weights @ z_mean))
    return mu_mean, mu_var


def w_factor(
    x: np.ndarray,
    z_mean: np.ndarray,
    z_cov: np.ndarray,
    z_scale: np.ndarray,
    mu_mean: np.ndarray,
    weights: np.ndarray,
    tau_mean: float,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(M, Σ_w) of the optimal q(W), rows N(m_wi, Σ_w), for row weights ω (n,) and z scales s (n,)."""
    k = z_mean.shape[1]
    weighted_z = z_mean * weights[:, None]
    zz = float(weights @ z_scale) * z_cov + weighted_z.T @ z_mean  # Σ_n ω_n ⟨z_n z_nᵀ⟩
    w_cov = spd_inverse(alpha * np.eye(k) + tau_mean * zz)
    w_mean = tau_mean * ((x - mu_mean).T @ weighted_z) @ w_cov
    return w_mean, w_cov


def tau_factor(weighted_error: float, n: int, d: int, a0: float, b0: float) -> tuple[float, float]:
    """(a, b) of the optimal q(τ) = Gamma(a, b), given Σ_n ω_n e_n."""
    return a0 + 0.5 * n * d, b0 + 0.5 * weighted_error


def coordinate_ascent(
    q: Q, sweep: Callable[[Q], Q], elbo: Callable[[Q], float], *, tol: float, max_iter: int
) -> tuple[Q, np.ndarray, bool]:
    """Sweep until the ELBO gain of a sweep is at most `tol` |ELBO|; return (q, ELBO trace, converged).

    The trace holds the ELBO at the initial q, then after every sweep. Raises RuntimeError if a sweep
    lowers the ELBO by more than rounding, which coordinate ascent cannot do.
    """
    trace = [elbo(q)]
    for _ in range(max_iter):
        q = sweep(q)
        value, previous = elbo(q), trace[-1]
        trace.append(value)
        if value < previous - (1e-10 * abs(previous) + 1e-9):
            raise RuntimeError(f"ELBO decreased from {previous!r} to {value!r}: a coordinate update is wrong")
        if value - previous <= tol * abs(value):
            return q, np.asarray(trace), True
    return q, np.asarray(trace), False
