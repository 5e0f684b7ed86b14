"""Choose the number of PPCA components k, and the noise model, by maximal ELBO (Chérief-Abdellatif 2019).

Chérief-Abdellatif, "Consistency of ELBO maximization for model selection", AABI 2019 (PMLR 96):
choosing the model with the largest L_m = max_q ELBO_m(q) ≤ log p(X | m) from a countable set of
models m is consistent. Here a model is a pair (noise, k), k = 1..max_k, with the same fixed prior on
W, μ, τ for every pair, and noise one of

    "gaussian"   variational-Bayes PPCA, x_n | z_n ~ N(W z_n + μ, τ⁻¹ I) (Bishop 1999; `vcore.ppca.vb`)
    "student-t"  robust VB PPCA, x_n multivariate t_ν (Archambeau et al. 2006; `vcore.ppca.robust_vb`),
                 ν fitted by maximising the bound, so L is a bound on log p(X | k, ν̂)

`noise="auto"` fits both for every k and takes the (noise, k) with the largest ELBO; a single noise
model fixes the family and chooses k only. Heavy-tailed noise makes the Gaussian model add spurious
components (outlying rows look like extra variance directions whose likelihood gain grows with n);
the Student-t model downweights those rows. The maximised likelihood log L_max(k) of `vcore.ppca.ml`
(Gaussian PPCA, Tipping & Bishop, whatever the noise setting) is reported alongside; it never
decreases in k, so maximising it would always choose max_k.

Preprocessing (the same for every model, so the comparison is fair): each column is centred and the
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
from vcore.ppca.robust_vb import fit_robust_vb_ppca
from vcore.ppca.vb import PPCAPrior, fit_vb_ppca

NOISE_MODELS = ("gaussian", "student-t")
NOISE_CHOICES = ("auto", *NOISE_MODELS)


@dataclass(frozen=True)
class Preprocessing:
    """x_pre = (x - mean) / scale; log_jacobian = -n d log(scale)."""

    mean: np.ndarray  # (d,)
    scale: float
    log_jacobian: float


@dataclass(frozen=True)
class NoiseFit:
    """The best run of one noise model for one k, in nats over the whole (preprocessed) data set."""

    noise: str  # "gaussian" or "student-t"
    elbo: float
    iterations: int
    converged: bool
    nu: float | None  # the fitted degrees of freedom of the Student-t model; None for the Gaussian


@dataclass(frozen=True)
class ComponentResult:
    """Numbers for one k: a fit per noise model tried and the Gaussian maximised log-likelihood."""

    k: int
    max_log_likelihood: float  # Gaussian PPCA (Tipping & Bishop) whatever the noise models fitted
    fits: tuple[NoiseFit, ...]  # in NOISE_MODELS order

    @property
    def best(self) -> NoiseFit:
        """The fit with the largest ELBO (the first one on a tie)."""
        return max(self.fits, key=lambda fit: fit.elbo)

    @property
    def elbo(self) -> float:
        return self.best.elbo

    @property
    def iterations(self) -> int:
        return self.best.iterations

    @property
    def converged(self) -> bool:
        return self.best.converged

    def fit(self, noise: str) -> NoiseFit | None:
        """The fit of one noise model, or None if it was not fitted."""
        return next((fit for fit in self.fits if fit.noise == noise), None)


@dataclass(frozen=True)
class Selection:
    """Per-k results and the (noise model, k) with the largest ELBO."""

    results: tuple[ComponentResult, ...]
    chosen_k: int
    n: int
    d: int
    preprocessing: Preprocessing
    prior: PPCAPrior
    noise: str  # what was asked: "auto", "gaussian" or "student-t"
    chosen_noise: str  # "gaussian" or "student-t"

    @property
    def chosen(self) -> NoiseFit:
        """The winning fit."""
        fit = self.results[self.chosen_k - 1].fit(self.chosen_noise)
        assert fit is not None
        return fit


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


def _fit(
    xs: np.ndarray,
    k: int,
    noise: str,
    prior: PPCAPrior,
    restarts: int,
    seed: int,
    tol: float,
    max_iter: int,
) -> NoiseFit:
    """The best of the ML-PPCA start and `restarts` random starts (NumPy generator seeded per noise model and k)."""
    if noise == "gaussian":
        rng = np.random.default_rng([seed, k])
        runs = [fit_vb_ppca(xs, k, prior, tol=tol, max_iter=max_iter)]
        runs += [fit_vb_ppca(xs, k, prior, tol=tol, max_iter=max_iter, rng=rng) for _ in range(restarts)]
        g = max(runs, key=lambda run: run.elbo)
        return NoiseFit("gaussian", g.elbo, g.iterations, g.converged, None)
    rng = np.random.default_rng([seed, k, 1])
    robust = [fit_robust_vb_ppca(xs, k, prior, tol=tol, max_iter=max_iter)]
    robust += [fit_robust_vb_ppca(xs, k, prior, tol=tol, max_iter=max_iter, rng=rng) for _ in range(restarts)]
    t = max(robust, key=lambda run: run.elbo)
    return NoiseFit("student-t", t.elbo, t.iterations, t.converged, t.posterior.nu)


def select_components(
    x: np.ndarray,
    max_k: int,
    *,
    prior: PPCAPrior | None = None,
    noise: str = "gaussian",
    restarts: int = 0,
    seed: int = 0,
    tol: float = 1e-7,
    max_iter: int = 5000,
    source: str = "data",
    on_result: Callable[[ComponentResult], None] | None = None,
) -> Selection:
    """Fit VB PPCA for k = 1..max_k on standardised x with `noise` and return every ELBO and the argmax.

    `noise` is "gaussian", "student-t" or "auto" (both; the (noise, k) with the largest ELBO wins).
    Each k starts from ML PPCA and from `restarts` random posteriors (NumPy generators seeded with
    (seed, k) for the Gaussian model, (seed, k, 1) for the Student-t one); the largest ELBO is kept,
    which is still a lower bound on the evidence of that model.
    """
    if noise not in NOISE_CHOICES:
        raise ValueError(f"noise must be one of {', '.join(NOISE_CHOICES)}, got {noise!r}")
    x = np.asarray(x, dtype=np.float64)
    check_data(x, source)
    n, d = x.shape
    check_max_k(max_k, d, source)
    prior = PPCAPrior() if prior is None else prior
    families = NOISE_MODELS if noise == "auto" else (noise,)
    xs, pre = standardise(x)
    eigvals, _ = covariance_spectrum(xs)
    results = []
    for k in range(1, max_k + 1):
        fits = tuple(_fit(xs, k, family, prior, restarts, seed, tol, max_iter) for family in families)
        result = ComponentResult(k=k, max_log_likelihood=max_log_likelihood(eigvals, n, k), fits=fits)
        results.append(result)
        if on_result is not None:
            on_result(result)
    best = max(results, key=lambda r: r.elbo)
    return Selection(tuple(results), best.k, n, d, pre, prior, noise, best.best.noise)
