"""VDM's ELBO (vcore.bounds.vdm) and the learned schedule (vcore.schedules.learned) against closed forms.

Data x ~ N(mu, diag(s^2)), D = 3. With z_t = alpha_t x + sigma_t eps and gamma = -log SNR, the exact
denoiser has E||eps - E[eps | z_t]||^2 = sum_d s_d^2 / (s_d^2 + exp(gamma_t)) (the posterior variance of
eps), so for the fixed linear schedule gamma(t) = g0 + (g1 - g0) t

    E L_inf = 1/2 int gamma' sum_d s_d^2 / (s_d^2 + e^gamma) dt
            = 1/2 sum_d [gamma - log(s_d^2 + e^gamma)]_{g0}^{g1},
    E L_T   = 1/2 sum_{i=1}^T (exp(gamma_i - gamma_{i-1}) - 1) sum_d s_d^2 / (s_d^2 + e^{gamma_i}),
    E L_prior = 1/2 sum_d (sigma_1^2 + alpha_1^2 (mu_d^2 + s_d^2) - 1 - log sigma_1^2),
    E L_recon = D/2 (log 2 pi + g0 + 1)          (Gaussian decoder N(z_0 / alpha_0, e^{g0})),

and -E log N(x; mu, s^2) = sum_d 1/2 log(2 pi e s_d^2). vcore's own expectations are taken by
Gauss-Hermite quadrature over (x, eps) (exact: every term is quadratic in them) and, in continuous time,
Gauss-Legendre quadrature over t.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vcore.bounds.time_sampling import low_discrepancy_times
from vcore.bounds.vdm import (
    VDMTerms,
    alpha_sigma,
    diffusion_loss,
    diffusion_loss_discrete,
    discrete_times,
    gamma_and_derivative,
    prior_loss,
    reconstruction_loss_discrete,
    reconstruction_loss_gaussian,
    vdm_loss,
)
from vcore.schedules.learned import FixedLinearGamma, LearnedGamma

DT = torch.float64
MU = torch.tensor([0.3, -0.5, 1.0], dtype=DT)
S = torch.tensor([0.5, 0.8, 1.2], dtype=DT)
D = 3
G0, G1 = -13.3, 5.0
ENTROPY = float((0.5 * torch.log(2 * math.pi * math.e * S**2)).sum())
GAMMA = FixedLinearGamma(G0, G1)


def exact_model(kind: str = "eps"):
    def model(z_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        ab = torch.sigmoid(-GAMMA(t))[:, None]
        x0 = MU + ab.sqrt() * S**2 / (ab * S**2 + 1 - ab) * (z_t - ab.sqrt() * MU)
        eps = (z_t - ab.sqrt() * x0) / (1 - ab).sqrt()
        return {"x0": x0, "eps": eps, "v": ab.sqrt() * eps - (1 - ab).sqrt() * x0}[kind]

    return model


def closed_diffusion_continuous() -> float:
    def f(g: float) -> torch.Tensor:
        return g - torch.log(S**2 + math.exp(g))

    return float(0.5 * (f(G1) - f(G0)).sum())


def closed_diffusion_discrete(num_steps: int) -> float:
    i = torch.arange(1, num_steps + 1, dtype=DT)
    g_t, g_s = G0 + (G1 - G0) * i / num_steps, G0 + (G1 - G0) * (i - 1) / num_steps
    return float(0.5 * (torch.expm1(g_t - g_s)[:, None] * S**2 / (S**2 + torch.exp(g_t)[:, None])).sum())


def closed_prior_recon() -> tuple[float, float]:
    a1, s1 = math.sqrt(1 / (1 + math.exp(G1))), math.sqrt(1 / (1 + math.exp(-G1)))
    prior = float((0.5 * (s1**2 + a1**2 * (MU**2 + S**2) - 1 - math.log(s1**2))).sum())
    recon = 0.5 * D * (math.log(2 * math.pi) + G0 + 1)
    return prior, recon


def hermite_grid(nodes: int = 5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x [n, D], eps [n, D], weights [n]) for E over x ~ N(mu, s^2), eps ~ N(0, 1), per dimension."""
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    z, w = torch.tensor(z, dtype=DT), torch.tensor(w / w.sum(), dtype=DT)
    zx, ze = torch.meshgrid(z, z, indexing="ij")
    x = MU + S * zx.reshape(-1, 1)
    return x, ze.reshape(-1, 1).expand_as(x).contiguous(), (w[:, None] * w[None, :]).reshape(-1)


def expected_terms(num_steps: int | None, kind: str = "eps") -> dict[str, float]:
    """vcore's E[terms] with the exact denoiser: over t (exactly on the grid, or Gauss-Legendre) and (x, eps)."""
    x, eps, w = hermite_grid()
    n = x.shape[0]
    if num_steps is None:
        nodes, t_w = np.polynomial.legendre.leggauss(64)
        t = torch.tensor((nodes + 1) / 2, dtype=DT)
        t_w = torch.tensor(t_w / 2, dtype=DT)
    else:
        t = (torch.arange(num_steps, dtype=DT) + 0.5) / num_steps
        t_w = torch.full((num_steps,), 1.0 / num_steps, dtype=DT)
    m = t.numel()
    terms = vdm_loss(
        exact_model(kind),
        x.repeat(m, 1),
        GAMMA,
        t.repeat_interleave(n),
        eps.repeat(m, 1),
        num_steps=num_steps,
    )
    weights = (t_w[:, None] * w[None, :]).reshape(-1)
    terms = VDMTerms(terms.diffusion.detach(), terms.prior, terms.reconstruction, terms.num_dims)
    return {
        "diffusion": float((terms.diffusion * weights).sum()),
        "prior": float((terms.prior * weights).sum()),
        "reconstruction": float((terms.reconstruction * weights).sum()),
    }


def test_discrete_loss_decreases_to_the_continuous_one() -> None:
    continuous = expected_terms(None)["diffusion"]
    assert continuous == pytest.approx(closed_diffusion_continuous(), rel=1e-10)
    losses = []
    for num_steps in (10, 20, 100, 1000):
        got = expected_terms(num_steps)["diffusion"]
        assert got == pytest.approx(closed_diffusion_discrete(num_steps), rel=1e-10)
        losses.append(got)
    # VDM: L_{2T} <= L_T, and L_T -> L_inf from above.
    assert losses[0] > losses[1] > losses[2] > losses[3] > continuous
    excess = [loss - continuous for loss in losses]
    assert excess[3] < 0.01 * excess[0]
    # The excess falls like 1/T: a factor of 10 from T = 100 to T = 1000.
    assert 8.0 < excess[2] / excess[3] < 12.0


def test_continuous_elbo_is_above_the_nll() -> None:
    exp = expected_terms(None)
    prior, recon = closed_prior_recon()
    assert exp["prior"] == pytest.approx(prior, rel=1e-12)
    assert exp["reconstruction"] == pytest.approx(recon, rel=1e-12)
    expected_total = closed_diffusion_continuous() + prior + recon
    assert expected_total > ENTROPY
    # Monte Carlo with the low-discrepancy sampler: within error of the closed form and above the NLL.
    n = 4000
    gen = torch.Generator().manual_seed(0)
    x = MU + S * torch.randn(n, D, generator=gen, dtype=DT)
    t = low_discrepancy_times(n, generator=gen, dtype=DT)
    eps, eps_0 = torch.randn(2, n, D, generator=gen, dtype=DT)
    with torch.no_grad():
        terms = vdm_loss(exact_model(), x, GAMMA, t, eps, noise_0=eps_0)
    assert not terms.diffusion.requires_grad
    nll = -(-0.5 * math.log(2 * math.pi) - torch.log(S) - 0.5 * ((x - MU) / S) ** 2).sum(1)
    gap = terms.total - nll
    se = float(gap.std()) / math.sqrt(n)
    assert abs(float(gap.mean()) - (expected_total - ENTROPY)) < 4 * se
    assert float(gap.mean()) > -3 * se
    torch.testing.assert_close(terms.bits_per_dim, terms.total / (D * math.log(2.0)))


@pytest.mark.parametrize("num_steps", [None, 10])
def test_parametrisations_give_the_same_loss(num_steps: int | None) -> None:
    gen = torch.Generator().manual_seed(1)
    x = MU + S * torch.randn(64, D, generator=gen, dtype=DT)
    t = torch.rand(64, generator=gen, dtype=DT)
    eps = torch.randn(64, D, generator=gen, dtype=DT)
    out = {
        k: vdm_loss(exact_model(k), x, GAMMA, t, eps, kind=k, num_steps=num_steps) for k in ("eps", "x0", "v")
    }
    for k in ("x0", "v"):
        torch.testing.assert_close(out[k].diffusion, out["eps"].diffusion, rtol=1e-9, atol=1e-9)


def test_pieces_by_hand() -> None:
    x = torch.tensor([[0.4, -1.1, 2.0]], dtype=DT)
    eps = torch.tensor([[0.3, 0.2, -0.5]], dtype=DT)
    eps_hat = torch.tensor([[0.1, 0.6, -0.4]], dtype=DT)
    sq = float(((eps - eps_hat) ** 2).sum())
    assert float(diffusion_loss(eps, eps_hat, torch.tensor([2.5], dtype=DT))) == pytest.approx(0.5 * 2.5 * sq)
    got = diffusion_loss_discrete(
        eps, eps_hat, torch.tensor([1.2], dtype=DT), torch.tensor([0.7], dtype=DT), 50
    )
    assert float(got) == pytest.approx(25 * math.expm1(0.5) * sq)
    g1 = torch.tensor(2.0, dtype=DT)
    a2, s2 = 1 / (1 + math.exp(2.0)), 1 / (1 + math.exp(-2.0))
    want_prior = sum(0.5 * (s2 + a2 * v * v - 1 - math.log(s2)) for v in x[0].tolist())
    assert float(prior_loss(x, g1)) == pytest.approx(want_prior, rel=1e-12)
    g0 = torch.tensor(-3.0, dtype=DT)
    a0, s0 = alpha_sigma(g0)
    assert float(a0**2 + s0**2) == pytest.approx(1.0)
    z0 = a0 * x + s0 * eps
    want_recon = sum(
        0.5 * (math.log(2 * math.pi) - 3.0 + (v - float(zz) / float(a0)) ** 2 * math.exp(3.0))
        for v, zz in zip(x[0].tolist(), z0[0].tolist(), strict=True)
    )
    assert float(reconstruction_loss_gaussian(x, z0, g0)) == pytest.approx(want_recon, rel=1e-12)


def test_discrete_reconstruction_by_enumeration() -> None:
    bits = 2
    grid = [-1.0, -1.0 / 3.0, 1.0 / 3.0, 1.0]
    x = torch.tensor([[-1.0 / 3.0, 1.0]], dtype=DT)
    z0 = torch.tensor([[-0.2, 0.7]], dtype=DT)
    g0 = torch.tensor(-1.5, dtype=DT)
    a0 = math.sqrt(1 / (1 + math.exp(-1.5)))
    want = 0.0
    for xv, zv in zip(x[0].tolist(), z0[0].tolist(), strict=True):
        logits = [-0.5 * (zv / a0 - k) ** 2 / math.exp(-1.5) for k in grid]
        norm = math.log(sum(math.exp(v) for v in logits))
        want -= logits[grid.index(min(grid, key=lambda k: abs(k - xv)))] - norm
    assert float(reconstruction_loss_discrete(x, z0, g0, bits)) == pytest.approx(want, rel=1e-12)
    terms = vdm_loss(
        lambda z, t: 0.1 * z, x, GAMMA, torch.tensor([0.3], dtype=DT), z0, decoder="discretized", bits=bits
    )
    assert isinstance(terms, VDMTerms)
    assert bool(torch.isfinite(terms.total).all())


def test_discrete_times_grid() -> None:
    t = torch.tensor([0.0, 0.05, 0.1, 0.55, 0.999999], dtype=DT)
    t_i, s_i = discrete_times(t, 10)
    torch.testing.assert_close(t_i * 10, torch.tensor([1.0, 1.0, 2.0, 6.0, 10.0], dtype=DT))
    torch.testing.assert_close(t_i - s_i, torch.full_like(t, 0.1))


def test_gamma_derivative_by_autograd() -> None:
    t = torch.tensor([0.0, 0.3, 1.0], dtype=DT)
    g, dg = gamma_and_derivative(GAMMA, t)
    torch.testing.assert_close(g, G0 + (G1 - G0) * t)
    torch.testing.assert_close(dg, torch.full_like(t, G1 - G0))
    torch.manual_seed(0)
    learned = LearnedGamma(hidden=64)
    t_in = torch.tensor([0.1, 0.3, 0.9], dtype=DT)
    with torch.no_grad():
        _, dg = gamma_and_derivative(learned, t_in, create_graph=False)
        h = 1e-5
        fd = (learned(t_in + h) - learned(t_in - h)) / (2 * h)
    torch.testing.assert_close(dg, fd, rtol=1e-7, atol=1e-7)


def test_learned_gamma_is_monotone_with_exact_endpoints() -> None:
    t = torch.linspace(0, 1, 2001, dtype=DT)
    for seed in range(5):
        torch.manual_seed(seed)
        gamma = LearnedGamma(gamma_0=-13.3 + seed, gamma_1=5.0 - seed).double()
        with torch.no_grad():
            for p in gamma.parameters():
                if p.dim() == 2:
                    p.normal_(0.0, 3.0)
            g = gamma(t)
        assert float(g[0]) == pytest.approx(gamma.gamma_0.item(), abs=1e-12)
        assert float(g[-1]) == pytest.approx(gamma.gamma_1.item(), abs=1e-12)
        assert float(g[0]) == pytest.approx(-13.3 + seed, abs=1e-5)
        assert float(g[-1]) == pytest.approx(5.0 - seed, abs=1e-5)
        assert bool((g[1:] - g[:-1] > 0).all())
        _, dg = gamma_and_derivative(gamma, t, create_graph=False)
        assert bool((dg > 0).all())
    assert gamma(torch.zeros(2, 3, dtype=DT)).shape == (2, 3)


def test_learned_gamma_trains_through_the_diffusion_loss() -> None:
    torch.manual_seed(0)
    gamma = LearnedGamma(hidden=32).double()
    gen = torch.Generator().manual_seed(2)
    x = MU + S * torch.randn(16, D, generator=gen, dtype=DT)
    eps = torch.randn(16, D, generator=gen, dtype=DT)
    t = low_discrepancy_times(16, generator=gen, dtype=DT)
    terms = vdm_loss(lambda z, tt: 0.5 * z, x, gamma, t, eps)
    terms.total.mean().backward()
    for name, p in gamma.named_parameters():
        assert p.grad is not None, name
        assert bool(torch.isfinite(p.grad).all()), name
    # The hidden layer's weights only reach the loss through gamma'(t) and gamma(t) (create_graph=True).
    assert float(gamma.l2.weight.grad.abs().sum()) > 0
    assert float(gamma.gamma_0.grad.abs()) > 0
