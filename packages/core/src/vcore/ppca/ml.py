"""Maximum-likelihood probabilistic PCA in closed form (Tipping & Bishop 1999).

Model: x = W z + μ + ε with z ~ N(0, I_k) and ε ~ N(0, σ² I_d), so x ~ N(μ, C) with C = W Wᵀ + σ² I.

Tipping & Bishop, "Probabilistic Principal Component Analysis", JRSS-B 61(3), 1999, sec. 3.2: with
S = (1/n) Σ_n (x_n - x̄)(x_n - x̄)ᵀ and its eigenvalues λ_1 ≥ … ≥ λ_d (eigenvectors U), the likelihood
is maximised by

    μ_ML = x̄,    σ²_ML = (1 / (d - k)) Σ_{j>k} λ_j,    W_ML = U_k (Λ_k - σ²_ML I)^{1/2}  (up to a rotation),

and at the maximum tr(C⁻¹ S) = d and log|C| = Σ_{j≤k} log λ_j + (d - k) log σ²_ML, so

    log L_max(k) = -(n / 2) [ d log 2π + Σ_{j≤k} log λ_j + (d - k) log σ²_ML + d ].

log L_max(k) never decreases in k (each extra component can only fit the data better), which is why
it cannot choose k on its own; `vcore.ppca.vb` gives the ELBO that can.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MLPPCA:
    """The maximum-likelihood PPCA parameters for one k and the log-likelihood they reach (nats)."""

    mean: np.ndarray  # (d,)
    weights: np.ndarray  # (d, k)
    noise_variance: float
    log_likelihood: float


def covariance_spectrum(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors (columns) of the 1/n sample covariance of rows of `x`."""
    centred = x - x.mean(axis=0)
    cov = centred.T @ centred / x.shape[0]
    eigvals, eigvecs = np.linalg.eigh(cov)
    return eigvals[::-1].copy(), eigvecs[:, ::-1].copy()


def max_log_likelihood(eigvals: np.ndarray, n: int, k: int) -> float:
    """log L_max(k) of Tipping & Bishop from the descending covariance eigenvalues; needs 0 <= k < d."""
    d = eigvals.shape[0]
    if not 0 <= k < d:
        raise ValueError(f"k must be in [0, {d - 1}], got {k}")
    noise_variance = float(eigvals[k:].mean())
    if not noise_variance > 0.0:  # eigenvalues descend, so every λ_j (j <= k) is positive too
        raise ValueError("the sample covariance is singular; the PPCA likelihood is unbounded")
    log_det = float(np.log(eigvals[:k]).sum()) + (d - k) * math.log(noise_variance)
    return -0.5 * n * (d * math.log(2.0 * math.pi) + log_det + d)


def fit_ml_ppca(x: np.ndarray, k: int) -> MLPPCA:
    """Closed-form ML PPCA of the rows of `x` (n, d) with k components (Tipping & Bishop 1999, eq. 7-8)."""
    n = x.shape[0]
    eigvals, eigvecs = covariance_spectrum(x)
    log_lik = max_log_likelihood(eigvals, n, k)
    noise_variance = float(eigvals[k:].mean())
    scales = np.sqrt(np.clip(eigvals[:k] - noise_variance, 0.0, None))
    return MLPPCA(
        mean=x.mean(axis=0),
        weights=eigvecs[:, :k] * scales,
        noise_variance=noise_variance,
        log_likelihood=log_lik,
    )
