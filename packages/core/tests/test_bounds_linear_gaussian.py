"""ELBO / IWAE / VR bounds on a linear-Gaussian (PPCA) model against closed forms.

Model: z ~ N(0, I_k), x | z ~ N(W z + mu, sigma^2 I_d). Then p(x) = N(mu, W W^T + sigma^2 I) and
p(z | x) = N(m, S) with S = (I + W^T W / sigma^2)^-1, m = S W^T (x - mu) / sigma^2. For a Gaussian
q = N(m_q, S_q), L_alpha = log p(x) - D_alpha(q || p(z | x)) with the Gaussian Rényi divergence

    D_alpha(q || p) = alpha/2 d^T S_a^-1 d - 1/(2(alpha - 1)) log(|S_a| / (|S_q|^(1-alpha) |S_p|^alpha)),
    S_a = alpha S_p + (1 - alpha) S_q,  d = m_q - m_p

(Gil, Alajaji & Linder 2013, "Rényi divergence measures for commonly used univariate continuous
distributions", and its multivariate form), checked below against quadrature in 1-D.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import Tensor

from vcore.bounds import elbo, iwae, renyi_bound, vr_max

DT = torch.float64
K_LAT, D_OBS, SIGMA = 3, 5, 0.7


def _log_normal(x: Tensor, mean: Tensor, cov: Tensor) -> Tensor:
    return torch.distributions.MultivariateNormal(mean, covariance_matrix=cov).log_prob(x)


def _build_model(shift: float = 0.5) -> dict[str, Tensor]:
    g = torch.Generator().manual_seed(1234)
    w = torch.randn(D_OBS, K_LAT, generator=g, dtype=DT)
    mu = torch.randn(D_OBS, generator=g, dtype=DT)
    z_true = torch.randn(K_LAT, generator=g, dtype=DT)
    x = w @ z_true + mu + SIGMA * torch.randn(D_OBS, generator=g, dtype=DT)
    eye = torch.eye(K_LAT, dtype=DT)
    post_cov = torch.linalg.inv(eye + w.T @ w / SIGMA**2)
    post_mean = post_cov @ w.T @ (x - mu) / SIGMA**2
    log_px = _log_normal(x, mu, w @ w.T + SIGMA**2 * torch.eye(D_OBS, dtype=DT))
    # Perturbed proposal: shifted by half a posterior standard deviation per axis, 10% narrower
    # (KL(q || p(z|x)) = 0.32 nats, D_2 = 0.58). Narrower keeps
    # E_q[w^(2(1-alpha))] finite for the alphas used below, so Monte Carlo standard errors exist.
    q_mean = post_mean + shift * post_cov.diagonal().sqrt()
    q_cov = 0.9 * post_cov
    return {
        "w": w,
        "mu": mu,
        "x": x,
        "log_px": log_px,
        "post_mean": post_mean,
        "post_cov": post_cov,
        "q_mean": q_mean,
        "q_cov": q_cov,
    }


@pytest.fixture(scope="module")
def model() -> dict[str, Tensor]:
    return _build_model()


def _log_weights(
    m: dict[str, Tensor], q_mean: Tensor, q_cov: Tensor, shape: tuple[int, ...], seed: int
) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    eps = torch.randn(*shape, K_LAT, generator=g, dtype=DT)
    z = q_mean + eps @ torch.linalg.cholesky(q_cov).T
    log_lik = _log_normal(m["x"], z @ m["w"].T + m["mu"], SIGMA**2 * torch.eye(D_OBS, dtype=DT))
    log_prior = _log_normal(z, torch.zeros(K_LAT, dtype=DT), torch.eye(K_LAT, dtype=DT))
    return log_lik + log_prior - _log_normal(z, q_mean, q_cov)


def _renyi_divergence(alpha: float, mq: Tensor, sq: Tensor, mp: Tensor, sp: Tensor) -> float:
    if alpha == 1.0:  # KL(q || p)
        sp_inv = torch.linalg.inv(sp)
        d = mp - mq
        kl = torch.trace(sp_inv @ sq) + d @ sp_inv @ d - mq.numel() + torch.logdet(sp) - torch.logdet(sq)
        return float(0.5 * kl)
    sa = alpha * sp + (1 - alpha) * sq
    d = mq - mp
    quad = alpha / 2 * d @ torch.linalg.solve(sa, d)
    logdet = torch.logdet(sa) - (1 - alpha) * torch.logdet(sq) - alpha * torch.logdet(sp)
    return float(quad - logdet / (2 * (alpha - 1)))


def test_renyi_divergence_closed_form_matches_quadrature_1d() -> None:
    x = torch.linspace(-30, 30, 200001, dtype=DT)
    mq, sq, mp, sp = 0.3, 0.5, -0.2, 0.8
    log_q = -0.5 * (x - mq) ** 2 / sq - 0.5 * math.log(2 * math.pi * sq)
    log_p = -0.5 * (x - mp) ** 2 / sp - 0.5 * math.log(2 * math.pi * sp)
    t = lambda v: torch.tensor([[v]], dtype=DT)  # noqa: E731
    for alpha in (-0.5, 0.5, 1.0, 2.0):
        if alpha == 1.0:
            numeric = float(torch.trapezoid(log_q.exp() * (log_q - log_p), x))
        else:
            numeric = math.log(float(torch.trapezoid(torch.exp(alpha * log_q + (1 - alpha) * log_p), x))) / (
                alpha - 1
            )
        closed = _renyi_divergence(alpha, t(mq)[0], t(sq), t(mp)[0], t(sp))
        assert closed == pytest.approx(numeric, abs=1e-9)


def test_exact_posterior_makes_every_bound_equal_log_px(model: dict[str, Tensor]) -> None:
    lw = _log_weights(model, model["post_mean"], model["post_cov"], (4, 16), seed=0)
    log_px = float(model["log_px"])
    estimates = [elbo(lw), iwae(lw), vr_max(lw)]
    estimates += [renyi_bound(lw, a) for a in (-3.0, -0.5, 0.0, 0.5, 1.0 - 1e-6, 1.0, 2.0, 5.0, math.inf)]
    for est in estimates:
        torch.testing.assert_close(est, torch.full((4,), log_px, dtype=DT), rtol=0, atol=1e-5)


def test_iwae_non_decreasing_in_k(model: dict[str, Tensor]) -> None:
    draws = 1000
    means, ses = [], []
    for i, k in enumerate((1, 2, 4, 16, 64)):
        est = iwae(_log_weights(model, model["q_mean"], model["q_cov"], (draws, k), seed=10 + i))
        means.append(float(est.mean()))
        ses.append(float(est.std() / math.sqrt(draws)))
    log_px = float(model["log_px"])
    for i in range(len(means) - 1):
        margin = 2 * math.hypot(ses[i], ses[i + 1])
        assert means[i + 1] >= means[i] - margin, (means, ses)
    assert means[-1] - means[0] > 5 * math.hypot(ses[0], ses[-1])  # the gain is real, not noise
    assert all(m <= log_px + 3 * s for m, s in zip(means, ses, strict=True))


def test_iwae_5000_samples_within_0_02_nats(model: dict[str, Tensor]) -> None:
    """E[IWAE_5000] within 0.02 nats of log p(x), estimated from 8 draws.

    One draw has sd ~ sqrt((exp(D_2) - 1) / K) = 0.013 nats here, so the mean of 8 has sd ~ 0.005 and 0.02 is
    four of those; each single draw must also lie within 0.05 (~4 sd).
    """
    err = iwae(_log_weights(model, model["q_mean"], model["q_cov"], (8, 5000), seed=99)) - model["log_px"]
    assert abs(float(err.mean())) < 0.02
    assert float(err.abs().max()) < 0.05


@pytest.mark.parametrize("alpha", [-0.5, 0.0, 0.5, 1.0, 2.0])
def test_vr_bound_matches_log_px_minus_renyi_divergence(model: dict[str, Tensor], alpha: float) -> None:
    """K = n -> large: 1/(1-alpha) log mean w^(1-alpha) over n = 2e5 samples, tolerance 4 standard errors.

    Standard error by the delta method: se(log mean y) = sd(y) / (sqrt(n) mean(y)), y = w^(1-alpha),
    divided by |1 - alpha|; for alpha = 1 it is sd(log w) / sqrt(n). The bias of log-mean is O(1/n).
    """
    n = 200_000
    lw = _log_weights(model, model["q_mean"], model["q_cov"], (n,), seed=7)
    d_alpha = _renyi_divergence(alpha, model["q_mean"], model["q_cov"], model["post_mean"], model["post_cov"])
    closed = float(model["log_px"]) - d_alpha
    estimate = float(renyi_bound(lw, alpha))
    if alpha == 1.0:
        se = float(lw.std()) / math.sqrt(n)
    else:
        r = 1 - alpha
        y = torch.exp(r * (lw - lw.max()))
        se = float(y.std() / (math.sqrt(n) * y.mean())) / abs(r)
    assert se < 0.01
    assert abs(estimate - closed) < 4 * se, (estimate, closed, se)
    if alpha > 0:
        assert d_alpha > 0.1  # the perturbation is large enough to matter


def test_vr_non_increasing_in_alpha(model: dict[str, Tensor]) -> None:
    alphas = [-0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0]
    args = (model["q_mean"], model["q_cov"], model["post_mean"], model["post_cov"])
    closed = [float(model["log_px"]) - _renyi_divergence(a, *args) for a in alphas]
    assert all(b < a for a, b in itertools.pairwise(closed))
    lw = _log_weights(model, model["q_mean"], model["q_cov"], (1000, 8), seed=3)
    means = [float(renyi_bound(lw, a).mean()) for a in [-math.inf, *alphas, math.inf]]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(means))
    assert means[0] - means[-1] > 0.1
