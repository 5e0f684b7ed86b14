r"""The ELBO of a Variational Diffusion Model (Kingma et al. 2021, "Variational Diffusion Models",
sec. 3-4, eqs. 11-17), in nats per example.

With gamma(t) = -log SNR(t) increasing on [0, 1], alpha_t^2 = sigmoid(-gamma(t)), sigma_t^2 =
sigmoid(gamma(t)) and z_t = alpha_t x + sigma_t eps, the negative ELBO of x is

    -ELBO(x) = L_prior + L_recon + L_diffusion,
    L_prior  = KL(q(z_1 | x) || N(0, I)),
    L_recon  = E_{q(z_0 | x)} [-log p(x | z_0)],

and the diffusion loss, for T discrete steps s(i) = (i-1)/T, t(i) = i/T (eq. 14),

    L_T(x) = T/2 E_{i ~ U{1..T}, eps} [(exp(gamma(t) - gamma(s)) - 1) ||eps - eps_hat(z_t; t)||^2],

and in continuous time (T -> infinity, eq. 17; the paper's -1/2 E[SNR'(t) ...] written with
SNR' / SNR = -gamma' so that it is a positive loss)

    L_inf(x) = 1/2 E_{t ~ U(0,1), eps} [gamma'(t) ||eps - eps_hat(z_t; t)||^2].

gamma'(t) comes from autograd (`gamma_and_derivative`, with `create_graph=True` so that a learned schedule
is trained through it). VDM (sec. 4.1) argues that doubling T lowers the loss for a good enough
denoiser, so L_inf is the tightest; for the exact denoiser of Gaussian data the tests check
L_10 >= L_100 >= L_1000 -> L_inf.

Decoders p(x | z_0), factorised over dimensions:

- "gaussian" (real-valued data): N(x; z_0 / alpha_0, sigma_0^2 / alpha_0^2) = N(x; z_0 / alpha_0,
  exp(gamma(0))), the inverse of the forward step, so L_recon = D/2 (log 2 pi + gamma(0)) + 1/2 ||eps_0||^2.
- "discretized" (data in [-1, 1] on 2^bits levels): VDM's p(x_i | z_0,i) proportional to
  q(z_0,i | x_i), normalised over the 2^bits values.

`vdm_loss` draws nothing itself: the caller passes t (e.g. from `vcore.bounds.time_sampling`) and the noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from vcore.diffusion.gaussian import Prediction, broadcast_to, gaussian_kl, split_prediction

GammaFn = Callable[[Tensor], Tensor]
DecoderType = Literal["gaussian", "discretized"]

_LOG_2PI = math.log(2.0 * math.pi)


def _flat_sum(x: Tensor) -> Tensor:
    return x.reshape(x.shape[0], -1).sum(dim=1)


def gamma_and_derivative(gamma: GammaFn, t: Tensor, create_graph: bool = True) -> tuple[Tensor, Tensor]:
    """(gamma(t), d gamma / dt) elementwise for t [B], by reverse-mode autograd.

    `gamma` must act elementwise on t. With `create_graph=True` the derivative stays differentiable
    (needed to train a learned schedule through the diffusion loss). Under `torch.no_grad()` grad is
    re-enabled locally and both outputs come back detached; `torch.inference_mode()` is not supported.
    """
    outer_grad = torch.is_grad_enabled()
    with torch.enable_grad():
        t_req = t.detach().requires_grad_(True)
        g = gamma(t_req)
        (dg,) = torch.autograd.grad(g.sum(), t_req, create_graph=create_graph and outer_grad)
    if not outer_grad:
        return g.detach(), dg.detach()
    return g, dg


def alpha_sigma(gamma_t: Tensor) -> tuple[Tensor, Tensor]:
    """(alpha_t, sigma_t) = (sqrt(sigmoid(-gamma)), sqrt(sigmoid(gamma))) (variance preserving)."""
    return torch.sigmoid(-gamma_t).sqrt(), torch.sigmoid(gamma_t).sqrt()


def diffusion_loss(eps: Tensor, eps_hat: Tensor, dgamma_dt: Tensor) -> Tensor:
    """Continuous-time integrand per example [B]: 1/2 gamma'(t) ||eps - eps_hat||^2 (VDM eq. 17)."""
    return 0.5 * dgamma_dt * _flat_sum((eps - eps_hat) ** 2)


def diffusion_loss_discrete(
    eps: Tensor, eps_hat: Tensor, gamma_t: Tensor, gamma_s: Tensor, num_steps: int
) -> Tensor:
    """Discrete-time integrand per example [B]: T/2 (exp(gamma_t - gamma_s) - 1) ||eps - eps_hat||^2 (eq. 14)."""
    return 0.5 * num_steps * torch.expm1(gamma_t - gamma_s) * _flat_sum((eps - eps_hat) ** 2)


def prior_loss(x: Tensor, gamma_1: Tensor) -> Tensor:
    """KL(q(z_1 | x) || N(0, I)) per example [B]; `gamma_1` is a scalar or [B]."""
    g = broadcast_to(gamma_1, x) if gamma_1.dim() > 0 else gamma_1.to(x.dtype)
    alpha_sq, sigma_sq = torch.sigmoid(-g), torch.sigmoid(g)
    kl = gaussian_kl(alpha_sq.sqrt() * x, sigma_sq.expand_as(x), torch.zeros_like(x), torch.ones_like(x))
    return _flat_sum(kl)


def reconstruction_loss_gaussian(x: Tensor, z_0: Tensor, gamma_0: Tensor) -> Tensor:
    """-log N(x; z_0 / alpha_0, exp(gamma_0)) per example [B] (a density: may be negative)."""
    g = broadcast_to(gamma_0, x) if gamma_0.dim() > 0 else gamma_0.to(x.dtype)
    alpha_0 = torch.sigmoid(-g).sqrt()
    nll = 0.5 * (_LOG_2PI + g + (x - z_0 / alpha_0) ** 2 * torch.exp(-g))
    return _flat_sum(nll.expand_as(x))


def reconstruction_loss_discrete(x: Tensor, z_0: Tensor, gamma_0: Tensor, bits: int = 8) -> Tensor:
    """-log p(x | z_0) per example [B] with VDM's decoder p(x_i | z_0,i) ~ q(z_0,i | x_i) over 2^bits levels.

    x must lie on the grid -1 + 2k / (2^bits - 1). The logits of level k are
    -(z_0 / alpha_0 - x_k)^2 / (2 exp(gamma_0)). Memory grows as B * D * 2^bits.
    """
    levels = 2**bits
    g = broadcast_to(gamma_0, x) if gamma_0.dim() > 0 else gamma_0.to(x.dtype)
    alpha_0 = torch.sigmoid(-g).sqrt()
    grid = torch.linspace(-1.0, 1.0, levels, dtype=x.dtype, device=x.device)
    z_rescaled = (z_0 / alpha_0).unsqueeze(-1)
    logits = -0.5 * (z_rescaled - grid) ** 2 * torch.exp(-g).unsqueeze(-1)
    log_probs = torch.log_softmax(logits, dim=-1)
    index = torch.round((x + 1.0) * 0.5 * (levels - 1)).long().clamp(0, levels - 1)
    return -_flat_sum(log_probs.gather(-1, index.unsqueeze(-1)).squeeze(-1))


@dataclass(frozen=True)
class VDMTerms:
    """The three parts of VDM's negative ELBO per example [B], in nats."""

    diffusion: Tensor
    prior: Tensor
    reconstruction: Tensor
    num_dims: int

    @property
    def total(self) -> Tensor:
        return self.diffusion + self.prior + self.reconstruction

    @property
    def bits_per_dim(self) -> Tensor:
        return self.total / (self.num_dims * math.log(2.0))


def discrete_times(t: Tensor, num_steps: int) -> tuple[Tensor, Tensor]:
    """Map t in [0, 1) to the grid: (t(i), s(i)) = (i/T, (i-1)/T) with i = floor(t T) + 1, uniform on 1..T."""
    i = torch.clamp(torch.floor(t * num_steps) + 1.0, 1.0, float(num_steps))
    return i / num_steps, (i - 1.0) / num_steps


def vdm_loss(
    model: Callable[[Tensor, Tensor], Tensor],
    x: Tensor,
    gamma: GammaFn,
    t: Tensor,
    noise: Tensor,
    *,
    noise_0: Tensor | None = None,
    kind: Prediction = "eps",
    num_steps: int | None = None,
    decoder: DecoderType = "gaussian",
    bits: int = 8,
    create_graph: bool = True,
) -> VDMTerms:
    """One-sample estimate of VDM's negative ELBO per example, its three parts kept apart.

    `model(z_t, t)` returns a prediction of type `kind` (eps, x0 or v; converted to eps_hat with
    alpha_bar = sigmoid(-gamma(t))). `t` [B] in [0, 1); `num_steps=None` gives the continuous-time loss,
    an integer T the discrete one (t is moved onto the grid by `discrete_times`). `noise_0` draws
    z_0 ~ q(z_0 | x) for the reconstruction term (default: `noise`, which keeps each term unbiased).
    """
    batch = x.shape[0]
    ends = torch.tensor([0.0, 1.0], dtype=x.dtype, device=x.device)
    gamma_ends = gamma(ends)
    gamma_0, gamma_1 = gamma_ends[0], gamma_ends[1]

    prior = prior_loss(x, gamma_1.expand(batch))
    eps_0 = noise if noise_0 is None else noise_0
    a0, s0 = alpha_sigma(gamma_0)
    z_0 = a0 * x + s0 * eps_0
    if decoder == "gaussian":
        recon = reconstruction_loss_gaussian(x, z_0, gamma_0.expand(batch))
    elif decoder == "discretized":
        recon = reconstruction_loss_discrete(x, z_0, gamma_0.expand(batch), bits)
    else:
        raise ValueError(f"unknown decoder {decoder!r}; expected 'gaussian' or 'discretized'")

    if num_steps is None:
        t_in = t.to(x.dtype)
        gamma_t, dgamma = gamma_and_derivative(gamma, t_in, create_graph=create_graph)
    else:
        if num_steps < 1:
            raise ValueError(f"num_steps must be >= 1, got {num_steps}")
        t_in, s_in = discrete_times(t.to(x.dtype), num_steps)
        gamma_t, gamma_s = gamma(t_in), gamma(s_in)
    alpha_t, sigma_t = alpha_sigma(broadcast_to(gamma_t, x))
    z_t = alpha_t * x + sigma_t * noise
    _, eps_hat = split_prediction(model(z_t, t_in), z_t, alpha_t**2, kind)
    if num_steps is None:
        diff = diffusion_loss(noise, eps_hat, dgamma)
    else:
        diff = diffusion_loss_discrete(noise, eps_hat, gamma_t, gamma_s, num_steps)
    return VDMTerms(diffusion=diff, prior=prior, reconstruction=recon, num_dims=int(x[0].numel()))
