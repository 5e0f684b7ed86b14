"""Choose the number of PPCA components k by maximal ELBO (Chérief-Abdellatif 2019).

Chérief-Abdellatif, "Consistency of ELBO maximization for model selection", AABI 2019 (PMLR 96):
choosing k̂ = argmax_k L_k, where L_k = max_q ELBO_k(q) ≤ log p(X | k), is consistent. Here L_k is
the variational-Bayes bound of `vcore.ppca.vb` (Bishop 1999) for k = 1..max_k, with the same fixed
prior for every k. The maximised likelihood log L_max(k) of `vcore.ppca.ml` is reported alongside;
it never decreases in k, so maximising it would always choose max_k.

Preprocessing (the same for every k, so the comparison is fair): each column is centred and the
whole matrix is divided by one global scale s = sqrt(mean of the squared centred entries), so that
the average variance per column is 1 and the fixed unit-scale prior is weakly informative whatever
the units. Columns are not scaled separately, which would change the covariance structure PPCA
models. ELBO and log-likelihood are densities of the preprocessed data; adding
`log_jacobian` = -n d log s expresses them as densities of the centred data in its original units.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vcore.errors import UserError
from vcore.ppca.ml import covariance_spectrum, max_log_likelihood
from vcore.ppca.vb import PPCAPrior, fit_vb_ppca


@dataclass(frozen=True)
class Preprocessing:
    """x_pre = (x - mean) / scale; log_jacobian = -n d log(scale)."""

    mean: np.ndarray  # (d,)
    scale: float
    log_jacobian: float


@dataclass(frozen=True)
class ComponentResult:
    """Numbers for one k, in nats over the whole (preprocessed) data set."""

    k: int
    elbo: float
    max_log_likelihood: float
    iterations: int
    converged: bool


@dataclass(frozen=True)
class Selection:
    """Per-k results and the k with the largest ELBO."""

    results: tuple[ComponentResult, ...]
    chosen_k: int
    n: int
    d: int
    preprocessing: Preprocessing
    prior: PPCAPrior


def standardise(x: np.ndarray) -> tuple[np.ndarray, Preprocessing]:
    """Centre each column and divide everything by one scale s (RMS of the centred entries)."""
    n, d = x.shape
    mean = x.mean(axis=0)
    centred = x - mean
    scale = math.sqrt(float(np.mean(centred**2)))
    if not scale > 0.0:
        raise ValueError("every column is constant")
    return centred / scale, Preprocessing(mean=mean, scale=scale, log_jacobian=-n * d * math.log(scale))


def check_data(x: np.ndarray, source: str) -> None:
    """Raise `UserError` unless x (n, d) has d >= 2, n > d, only finite values and a full-rank covariance."""
    n, d = x.shape
    if not np.all(np.isfinite(x)):
        raise UserError(f"{source}: the data contain NaN or infinite values")
    if d < 2:
        raise UserError(f"{source}: has {d} column; PPCA model selection needs at least 2")
    if n <= d:
        raise UserError(f"{source}: has {n} data rows and {d} columns; PPCA needs more rows than columns")
    eigvals, _ = covariance_spectrum(x)
    if not eigvals[-1] > 1e-12 * max(eigvals[0], 0.0):
        raise UserError(
            f"{source}: the columns are linearly dependent (e.g. a constant or repeated column), "
            "so the sample covariance is singular"
        )


def check_max_k(max_k: int, d: int, source: str) -> None:
    """Raise `UserError` unless 1 <= max_k <= d - 1 (k = d leaves no noise dimension)."""
    if not 1 <= max_k <= d - 1:
        raise UserError(f"--max-k {max_k} is out of range for {source} with {d} columns: use 1 to {d - 1}")


def select_components(
    x: np.ndarray,
    max_k: int,
    *,
    prior: PPCAPrior | None = None,
    restarts: int = 0,
    seed: int = 0,
    tol: float = 1e-7,
    max_iter: int = 5000,
    source: str = "data",
    on_result: Callable[[ComponentResult], None] | None = None,
) -> Selection:
    """Fit VB PPCA for k = 1..max_k on standardised x and return every ELBO and the argmax.

    Each k starts from ML PPCA and from `restarts` random posteriors (NumPy generator seeded with
    (seed, k)); the largest ELBO is kept, which is still a lower bound on log p(X | k).
    """
    x = np.asarray(x, dtype=np.float64)
    check_data(x, source)
    n, d = x.shape
    check_max_k(max_k, d, source)
    prior = PPCAPrior() if prior is None else prior
    xs, pre = standardise(x)
    eigvals, _ = covariance_spectrum(xs)
    results = []
    for k in range(1, max_k + 1):
        rng = np.random.default_rng([seed, k])
        fits = [fit_vb_ppca(xs, k, prior, tol=tol, max_iter=max_iter)]
        fits += [fit_vb_ppca(xs, k, prior, tol=tol, max_iter=max_iter, rng=rng) for _ in range(restarts)]
        best = max(fits, key=lambda fit: fit.elbo)
        result = ComponentResult(
            k=k,
            elbo=best.elbo,
            max_log_likelihood=max_log_likelihood(eigvals, n, k),
            iterations=best.iterations,
            converged=best.converged,
        )
        results.append(result)
        if on_result is not None:
            on_result(result)
    chosen = max(results, key=lambda r: r.elbo).k
    return Selection(tuple(results), chosen, n, d, pre, prior)
