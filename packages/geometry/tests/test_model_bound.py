"""The model's bound against hand-written Gaussian KLs, and the latent KL against its closed form."""

from __future__ import annotations

import math

import pytest
import torch

from vgeom.model.diffusion import diffusion_terms, gaussian_entropy, latent_kl, point_schedule
from vgeom.model.flow import LatentFlow
from vgeom.model.model import PointDiffusionConfig, PointDiffusionModel

LOG_2PI = math.log(2 * math.pi)


def _tiny(mode: str = "gen", steps: int = 4) -> PointDiffusionModel:
    torch.manual_seed(0)
    config = PointDiffusionConfig(
        mode=mode,
        latent_dim=4,
        width=4,
        encoder_width=4,
        num_steps=steps,
        beta_1=0.05,
        beta_T=0.3,
        flow_depth=2,
        flow_hidden=8,
        num_points=5,
    )
    return PointDiffusionModel(config).double().eval()


def _kl(m1: torch.Tensor, v1: torch.Tensor, m2: torch.Tensor, v2: torch.Tensor) -> torch.Tensor:
    return 0.5 * (torch.log(v2 / v1) + (v1 + (m1 - m2) ** 2) / v2 - 1.0)


def test_diffusion_bound_equals_hand_written_terms() -> None:
    model = _tiny(steps=4)
    x0 = torch.randn(2, 5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    z = torch.randn(2, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    betas = model.schedule.betas
    ab = torch.cumprod(1 - betas, 0)
    with torch.no_grad():
        from vgeom.model.diffusion import diffusion_bound

        got = diffusion_bound(model.net, x0, z, model.schedule, generator=torch.Generator().manual_seed(3))
        # the same draws: vlb_full makes one noise tensor [B * T, N, 3] (cloud-major) for all T steps
        noise = torch.randn((2 * 4, 5, 3), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
        expected = torch.zeros(2, dtype=torch.float64)
        for b in range(2):
            for t in range(1, 5):
                e = noise[b * 4 + t - 1]
                x_t = ab[t - 1].sqrt() * x0[b] + (1 - ab[t - 1]).sqrt() * e
                eps = model.net(x_t[None], betas[t - 1 : t], z[b : b + 1])[0]
                ab_prev = ab[t - 2] if t > 1 else torch.tensor(1.0, dtype=torch.float64)
                x0_hat = (x_t - (1 - ab[t - 1]).sqrt() * eps) / ab[t - 1].sqrt()
                c0 = ab_prev.sqrt() * betas[t - 1] / (1 - ab[t - 1])
                ct = (1 - betas[t - 1]).sqrt() * (1 - ab_prev) / (1 - ab[t - 1])
                post_var = lambda s: betas[s - 1] * (1 - ab[s - 2]) / (1 - ab[s - 1])  # noqa: E731
                var_p = post_var(t) if t > 1 else post_var(2)  # beta~_1 = 0 is clipped to beta~_2
                mean_p = c0 * x0_hat + ct * x_t
                if t == 1:  # -log N(x0; mean_p, var_p)
                    expected[b] += (0.5 * (LOG_2PI + torch.log(var_p) + (x0[b] - mean_p) ** 2 / var_p)).sum()
                else:
                    expected[b] += _kl(c0 * x0[b] + ct * x_t, post_var(t), mean_p, var_p).sum()
            # L_T = KL(N(sqrt(ab_T) x0, 1 - ab_T) || N(0, 1))
            expected[b] += _kl(ab[-1].sqrt() * x0[b], 1 - ab[-1], torch.zeros(()), torch.ones(())).sum()
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


def test_training_terms_are_the_single_step_estimate() -> None:
    model = _tiny(steps=4)
    x0 = torch.randn(3, 5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    z = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        terms = diffusion_terms(model.net, x0, z, model.schedule, generator=torch.Generator().manual_seed(6))
        g = torch.Generator().manual_seed(6)
        t = torch.randint(1, 5, (3,), generator=g)
        noise = torch.randn(x0.shape, generator=g, dtype=torch.float64)
        ab = model.schedule.alphas_cumprod[t - 1].view(3, 1, 1)
        eps = model.net(ab.sqrt() * x0 + (1 - ab).sqrt() * noise, model.schedule.betas[t - 1], z)
    torch.testing.assert_close(terms.mse, ((eps - noise) ** 2).mean(dim=(1, 2)))
    # the vlb estimate of a cloud is the sum of the estimates of its points (they diffuse independently)
    assert terms.vlb.shape == (3,)
    assert bool(torch.isfinite(terms.vlb).all())


def test_gaussian_entropy_closed_form() -> None:
    log_var = torch.tensor([[0.0, 0.0], [math.log(4.0), math.log(0.25)]], dtype=torch.float64)
    expected = torch.distributions.Normal(torch.zeros(2, 2), log_var.mul(0.5).exp()).entropy().sum(dim=1)
    torch.testing.assert_close(gaussian_entropy(log_var), expected.double())
    assert float(gaussian_entropy(log_var)[0]) == pytest.approx(1.0 + LOG_2PI)


@pytest.mark.parametrize("classes", [1, 2])
def test_latent_kl_to_an_identity_flow_is_the_gaussian_kl(classes: int) -> None:
    """With no coupling layers p(z) is the base Gaussian and E_q[-H - log p(z)] is KL of two Gaussians."""
    flow = LatentFlow(3, depth=0, num_classes=classes).double()
    if classes == 2:
        with torch.no_grad():
            flow.base_mean.copy_(torch.tensor([[0.0, 0.0, 0.0], [0.5, -1.0, 2.0]]))
            flow.base_log_std.copy_(torch.tensor([[0.0, 0.0, 0.0], [0.3, -0.2, 0.1]]))
    label = torch.tensor([classes - 1])
    mean = torch.tensor([[0.4, -0.3, 1.2]], dtype=torch.float64)
    log_var = torch.tensor([[0.2, -0.7, 0.4]], dtype=torch.float64)
    # antithetic draws: the estimator is then exact up to the even moments of eps, averaged over 40k draws
    eps = torch.randn(20000, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    eps = torch.cat([eps, -eps])
    z = mean + (0.5 * log_var).exp() * eps
    labels = label.expand(z.shape[0]) if classes == 2 else None
    with torch.no_grad():
        estimate = latent_kl(log_var.expand(z.shape[0], -1), flow.log_prob(z, labels))
    prior_mean, prior_std = flow.base_mean[label].detach(), flow.base_log_std[label].exp().detach()
    closed = torch.distributions.kl_divergence(
        torch.distributions.Normal(mean, (0.5 * log_var).exp()),
        torch.distributions.Normal(prior_mean, prior_std),
    ).sum()
    stderr = float(estimate.std()) / math.sqrt(z.shape[0])
    assert float(estimate.mean()) == pytest.approx(float(closed), abs=4 * stderr + 1e-12)
    assert stderr < 0.02


def test_model_bound_adds_the_latent_kl_and_ae_has_none() -> None:
    gen, ae = _tiny("gen"), _tiny("ae")
    x = torch.randn(2, 5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        out = gen.bound(x, generator=torch.Generator().manual_seed(9))
        torch.testing.assert_close(out["total"], out["diffusion"] + out["kl"])
        mean, log_var = gen.encode(x)
        z = mean + (0.5 * log_var).exp() * torch.randn(
            mean.shape, generator=torch.Generator().manual_seed(9), dtype=torch.float64
        )
        assert gen.flow is not None
        torch.testing.assert_close(out["kl"], -gaussian_entropy(log_var) - gen.flow.log_prob(z))
        assert float(ae.bound(x)["kl"].abs().max()) == 0.0
    assert ae.flow is None
    assert point_schedule().num_steps == 100
    torch.testing.assert_close(
        point_schedule().betas[[0, -1]], torch.tensor([1e-4, 0.02], dtype=torch.float64)
    )
