r"""The point-wise diffusion of Luo & Hu 2021 ("Diffusion Probabilistic Models for 3D Point Cloud
Generation", sec. 4) and its variational bound, computed with vcore.

Every point x^i of a cloud X = {x^i}_{i=1..N} diffuses independently, q(x^i_t | x^i_0) =
N(sqrt(ab_t) x^i_0, (1 - ab_t) I), and is denoised by p(x^i_{t-1} | x^i_t, z) given the shape latent z
(the reverse mean from the network's eps prediction, variance fixed; T = 100, linear betas 1e-4..0.02 as
in the paper's generation setting). The negative ELBO of a cloud (eq. 13 of the paper, written per point),

    L(X) = E_{q(z|X)} [ sum_i ( KL(q(x^i_T | x^i_0) || N(0, I))
                               + sum_{t>=2} KL(q(x^i_{t-1} | x^i_t, x^i_0) || p(x^i_{t-1} | x^i_t, z))
                               - log p(x^i_0 | x^i_1, z) ) ]
           + KL(q(z | X) || p(z)),

is in nats per cloud; divided by N it is reported in nats per point. The per-step terms are
`vcore.bounds.diffusion_vlb` with the "gaussian" decoder (the coordinates are continuous, so L_0 is a
density term and can be negative), the prior term is `prior_kl`. The latent KL to the flow prior has no
closed form; with z = mu + sigma * eps drawn from q it is estimated without bias as

    KL(q(z | X) || p(z)) = -H[q(z | X)] - E_q[log p(z)],   H = 1/2 sum_j (log var_j + 1 + log 2 pi),

the entropy in closed form and log p(z) through the flow's change of variables.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from vcore.bounds.diffusion_vlb import VarianceType, vlb_estimate, vlb_full
from vcore.bounds.simple import simple_loss
from vcore.diffusion.gaussian import broadcast_to, q_sample
from vcore.schedules import DiscreteSchedule, linear_betas

_LOG_2PI = math.log(2.0 * math.pi)

EpsNet = Callable[[Tensor, Tensor, Tensor], Tensor]
"""net(x_t [B, N, 3], beta_t [B], z [B, F]) -> eps prediction [B, N, 3]."""


def point_schedule(num_steps: int = 100, beta_1: float = 1e-4, beta_T: float = 0.02) -> DiscreteSchedule:
    """Luo & Hu's schedule: T betas spaced linearly from beta_1 to beta_T."""
    return DiscreteSchedule(linear_betas(num_steps, beta_1, beta_T))


def gaussian_entropy(log_var: Tensor) -> Tensor:
    """H[N(mu, diag exp(log_var))] = 1/2 sum_j (log_var_j + 1 + log 2 pi) per row [B]."""
    return 0.5 * (log_var + 1.0 + _LOG_2PI).sum(dim=1)


def reparameterize(mean: Tensor, log_var: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """z = mean + exp(log_var / 2) * eps, eps ~ N(0, I) (Kingma & Welling 2014)."""
    eps = torch.randn(mean.shape, generator=generator, dtype=mean.dtype, device=mean.device)
    return mean + torch.exp(0.5 * log_var) * eps


def latent_kl(log_var: Tensor, log_prior: Tensor) -> Tensor:
    """One-sample estimate of KL(q(z | X) || p(z)) = -H[q] - log p(z) per cloud [B], z drawn from q."""
    return -gaussian_entropy(log_var) - log_prior


def eps_model(net: EpsNet, z: Tensor, betas: Tensor) -> Callable[[Tensor, Tensor], Tensor]:
    """vcore's model(x_t, t_index) for the point net conditioned on z.

    t_index = t - 1 selects beta_t (the network's time input); when x_t stacks k copies of each cloud
    (`vlb_full` evaluates k steps per call, copies of cloud b at rows b*k..b*k+k-1) z is repeated to match.
    """

    def model(x_t: Tensor, t_index: Tensor) -> Tensor:
        beta = betas.to(x_t.device)[t_index.round().long()].to(x_t.dtype)
        zz = z if x_t.shape[0] == z.shape[0] else z.repeat_interleave(x_t.shape[0] // z.shape[0], dim=0)
        return net(x_t, beta, zz)

    return model


@dataclass(frozen=True)
class DiffusionTerms:
    """Per-cloud [B] training quantities from one draw of t ~ U{1..T} and x_t ~ q(x_t | x_0).

    `vlb` = L_T + T * L_{t-1} (the unbiased single-t estimate of the diffusion part of the bound, nats per
    cloud); `mse` = mean squared eps error per coordinate (L_simple, Ho et al. 2020 eq. 14).
    """

    vlb: Tensor
    mse: Tensor


def diffusion_terms(
    net: EpsNet,
    x0: Tensor,
    z: Tensor,
    schedule: DiscreteSchedule,
    *,
    variance: VarianceType = "fixed_small",
    generator: torch.Generator | None = None,
) -> DiffusionTerms:
    """Draw t and x_t per cloud, call the network once, return both the bound estimate and L_simple."""
    ab = schedule.alphas_cumprod.to(x0.device)
    betas = schedule.betas.to(device=x0.device, dtype=x0.dtype)
    steps = ab.numel()
    t = torch.randint(1, steps + 1, (x0.shape[0],), generator=generator, device=x0.device)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)
    ab_t = ab[t - 1].to(x0.dtype)
    x_t = q_sample(x0, broadcast_to(ab_t, x0), noise)
    pred = net(x_t, betas[t - 1], z)
    vlb = vlb_estimate(pred, x0, x_t, t, ab, kind="eps", variance=variance, decoder="gaussian")
    mse = simple_loss(pred, x0, noise, ab_t, "eps")
    return DiffusionTerms(vlb=vlb, mse=mse)


def diffusion_bound(
    net: EpsNet,
    x0: Tensor,
    z: Tensor,
    schedule: DiscreteSchedule,
    *,
    variance: VarianceType = "fixed_small",
    generator: torch.Generator | None = None,
    chunk_size: int = 10,
) -> Tensor:
    """-log p(X | z) bounded with every term of the chain (`vcore.bounds.diffusion_vlb.vlb_full`), nats [B]."""
    model = eps_model(net, z, schedule.betas)
    result = vlb_full(
        model,
        x0,
        schedule.alphas_cumprod.to(x0.device),
        generator=generator,
        kind="eps",
        variance=variance,
        decoder="gaussian",
        chunk_size=chunk_size,
    )
    return result.total
