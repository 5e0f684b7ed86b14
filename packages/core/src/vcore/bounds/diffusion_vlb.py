r"""The discrete-time variational bound of a Gaussian diffusion model (Ho et al. 2020, "Denoising Diffusion
Probabilistic Models", eq. 5; Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models",
sec. 2).

For a schedule ab_1 > ... > ab_T (ab_0 = 1, beta_t = 1 - ab_t / ab_{t-1}) the negative ELBO of x_0 is

    L_vlb = L_T + sum_{t=2}^T L_{t-1} + L_0,
    L_T     = KL(q(x_T | x_0) || N(0, I)),
    L_{t-1} = E_{q(x_t | x_0)} KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)),
    L_0     = E_{q(x_1 | x_0)} [-log p(x_0 | x_1)],

in nats. The reverse step is p(x_{t-1} | x_t) = N(mu, Sigma) with mu = c0 x0_hat + ct x_t, the posterior
mean with the model's x0_hat in place of x_0 (`vcore.diffusion.gaussian.posterior_coefficients`; x0_hat
from an eps, x0 or v prediction through `split_prediction`). Sigma is, per step t,

- "fixed_small": beta~_t = beta_t (1 - ab_{t-1}) / (1 - ab_t), the posterior variance;
- "fixed_large": beta_t (Ho et al. sec. 3.2);
- "learned": exp(v log beta_t + (1 - v) log beta~_t) with the network's output v (Nichol & Dhariwal
  eq. 15), elementwise.

beta~_1 = 0, so at t = 1 the "small" end is clipped to beta~_2 (as improved-diffusion does; beta_1 when
T = 1). At t = 1 the same mean (which is x0_hat, since ab_0 = 1) and variance define the decoder:

- "discretized": data in [-1, 1] on 2^bits levels; the likelihood of x_0 is the Gaussian mass of its bin
  [x - 1/(2^bits - 1), x + 1/(2^bits - 1)], the outermost bins extended to -inf and +inf (Ho et al.
  sec. 3.3); computed with the exact normal CDF in log space.
- "gaussian": the density N(x_0; mu, Sigma), for real-valued data (a density, so L_0 may be negative).

Reports are in nats per example; `nats_to_bits_per_dim` divides by D ln 2.

Two entry points:

- `vlb_full(model, x0, ...)`: every term, one x_t ~ q(x_t | x_0) per step, the steps batched in chunks.
  An unbiased estimate of L_vlb (exact for the KLs given x_t, one sample of x_t per term).
- `vlb_estimate(prediction, x0, x_t, t, ...)`: L_T + T L_{t-1}(x_t) for one t ~ U{1..T} per example; an
  unbiased single-t estimate for training (`vlb_loss` draws t and x_t and calls the model).

The model is called as `model(x_t, t_index)` with `t_index = t - 1` as a float tensor [B] (index i is step
t = i + 1, as in `vcore.schedules.discrete.DiscreteSchedule`). With variance "learned" it returns a pair
(prediction, v), v of the shape of x_t; otherwise the prediction.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from vcore.diffusion.gaussian import (
    Prediction,
    broadcast_to,
    gaussian_kl,
    posterior_coefficients,
    q_sample,
    split_prediction,
)

VarianceType = Literal["fixed_small", "fixed_large", "learned"]
DecoderType = Literal["discretized", "gaussian"]
ModelOutput = Tensor | tuple[Tensor, Tensor]
Model = Callable[[Tensor, Tensor], ModelOutput]

_LOG_2PI = math.log(2.0 * math.pi)


def nats_to_bits_per_dim(nats: Tensor, num_dims: int) -> Tensor:
    """Convert nats per example into bits per dimension: nats / (D ln 2)."""
    return nats / (num_dims * math.log(2.0))


def gaussian_log_likelihood(x: Tensor, mean: Tensor, log_var: Tensor) -> Tensor:
    """Elementwise log N(x; mean, exp(log_var)) in nats."""
    return -0.5 * (_LOG_2PI + log_var + (x - mean) ** 2 * torch.exp(-log_var))


def _log_normal_mass(lower: Tensor, upper: Tensor) -> Tensor:
    """log(Phi(upper) - Phi(lower)) for lower < upper, stable in both tails and for narrow intervals."""
    # Reflect intervals in the upper half so that both ends sit in the lower tail, where log_ndtr is exact.
    flip = (lower + upper) > 0
    lo = torch.where(flip, -upper, lower)
    hi = torch.where(flip, -lower, upper)
    log_hi = torch.special.log_ndtr(hi)
    log_lo = torch.special.log_ndtr(lo)
    exact = log_hi + torch.log(torch.clamp(-torch.expm1(log_lo - log_hi), min=1e-300))
    # For a very narrow interval (in float64) the CDF difference cancels; the midpoint rule (width times
    # density) is then accurate to O(width^2 mid^2).
    mid = 0.5 * (lo + hi)
    width = hi - lo
    midpoint = torch.log(torch.clamp(width, min=1e-300)) - 0.5 * (_LOG_2PI + mid**2)
    return torch.where(width > 1e-5, exact, midpoint)


def discretized_gaussian_log_likelihood(x: Tensor, mean: Tensor, log_var: Tensor, bits: int = 8) -> Tensor:
    """Elementwise log-probability of the bin of x under N(mean, exp(log_var)) (Ho et al. 2020 sec. 3.3).

    x must lie on the grid -1 + 2k / (2^bits - 1), k = 0..2^bits-1; each bin has half-width
    1 / (2^bits - 1), the first one extends to -inf and the last one to +inf, so the 2^bits
    probabilities sum to one.
    """
    if bits < 1:
        raise ValueError(f"bits must be >= 1, got {bits}")
    half = 1.0 / (2**bits - 1)
    # float64 inside: the bin masses of a narrow Gaussian cancel badly in float32.
    centred = (x - mean).to(torch.float64)
    inv_std = torch.exp(-0.5 * log_var.to(torch.float64))
    upper = (centred + half) * inv_std
    lower = (centred - half) * inv_std
    interior = _log_normal_mass(lower, upper)
    first = torch.special.log_ndtr(upper)
    last = torch.special.log_ndtr(-lower)
    out = torch.where(x < -1.0 + half, first, torch.where(x > 1.0 - half, last, interior))
    return out.to(torch.promote_types(x.dtype, mean.dtype))


def _schedule_at(alphas_cumprod: Tensor, t: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(ab_t, ab_{t-1}, beta_t, clipped beta~_t) for steps t in 1..T, as float64 [B]."""
    ab = alphas_cumprod.to(device=t.device, dtype=torch.float64)
    ab_prev = torch.cat([torch.ones(1, dtype=ab.dtype, device=ab.device), ab[:-1]])
    betas = 1.0 - ab / ab_prev
    post_var = betas * (1.0 - ab_prev) / (1.0 - ab)
    post_var_clipped = post_var.clone()
    post_var_clipped[0] = post_var[1] if ab.numel() > 1 else betas[0]
    i = t - 1
    return ab[i], ab_prev[i], betas[i], post_var_clipped[i]


def reverse_log_variance(
    alphas_cumprod: Tensor,
    t: Tensor,
    variance: VarianceType = "fixed_small",
    var_interp: Tensor | None = None,
) -> Tensor:
    """log Sigma_t of p(x_{t-1} | x_t) for steps t [B] in 1..T: [B], or the shape of `var_interp` if learned."""
    _, _, beta, post_var = _schedule_at(alphas_cumprod, t)
    if variance == "fixed_small":
        return torch.log(post_var)
    if variance == "fixed_large":
        return torch.log(beta)
    if variance == "learned":
        if var_interp is None:
            raise ValueError("variance 'learned' needs var_interp, the network's interpolation output v")
        v = var_interp
        return v * broadcast_to(torch.log(beta), v) + (1.0 - v) * broadcast_to(torch.log(post_var), v)
    raise ValueError(
        f"unknown variance type {variance!r}; expected 'fixed_small', 'fixed_large' or 'learned'"
    )


def prior_kl(x0: Tensor, alpha_bar_T: Tensor | float) -> Tensor:
    """L_T = KL(q(x_T | x_0) || N(0, I)) per example [B], in nats."""
    ab = torch.as_tensor(alpha_bar_T, dtype=x0.dtype, device=x0.device)
    ab = broadcast_to(ab, x0) if ab.dim() > 0 else ab
    kl = gaussian_kl(ab.sqrt() * x0, (1.0 - ab).expand_as(x0), torch.zeros_like(x0), torch.ones_like(x0))
    return kl.reshape(x0.shape[0], -1).sum(dim=1)


def vlb_terms(
    prediction: Tensor,
    x0: Tensor,
    x_t: Tensor,
    t: Tensor,
    alphas_cumprod: Tensor,
    *,
    kind: Prediction = "eps",
    variance: VarianceType = "fixed_small",
    var_interp: Tensor | None = None,
    decoder: DecoderType = "discretized",
    bits: int = 8,
    clip_x0: bool = False,
) -> Tensor:
    """The bound's term of step t per example [B] in nats: L_{t-1} for t >= 2, L_0 = -log p(x_0 | x_1) for t = 1.

    `prediction` is the network output at (x_t, t) for the parametrisation `kind`; `t` [B] int in 1..T.
    `clip_x0` clamps x0_hat to [-1, 1] (data on that range, as for the discretized decoder).
    """
    if t.dim() != 1 or t.shape[0] != x0.shape[0]:
        raise ValueError(f"t must have shape [B] = [{x0.shape[0]}], got {tuple(t.shape)}")
    if bool((t < 1).any()) or bool((t > alphas_cumprod.numel()).any()):
        raise ValueError(f"steps t must lie in 1..{alphas_cumprod.numel()}")
    ab_t, ab_prev, _, post_var = _schedule_at(alphas_cumprod, t)
    ab_t_x, ab_prev_x = broadcast_to(ab_t, x0), broadcast_to(ab_prev, x0)
    x0_hat, _ = split_prediction(prediction, x_t, ab_t_x, kind)
    if clip_x0:
        x0_hat = x0_hat.clamp(-1.0, 1.0)
    c0, ct, _ = posterior_coefficients(ab_t_x, ab_prev_x)
    model_mean = c0 * x0_hat + ct * x_t
    log_var = reverse_log_variance(alphas_cumprod, t, variance, var_interp).to(x0.dtype)
    log_var = broadcast_to(log_var, x0) if log_var.dim() == 1 else log_var

    first = t == 1
    # KL to the posterior (the posterior variance at t = 1 is 0; it is replaced there and the value unused).
    true_var = broadcast_to(torch.where(first, torch.ones_like(post_var), post_var), x0)
    true_mean = c0 * x0 + ct * x_t
    kl = gaussian_kl(true_mean, true_var.expand_as(x0), model_mean, torch.exp(log_var).expand_as(x0))
    if decoder == "discretized":
        nll = -discretized_gaussian_log_likelihood(x0, model_mean, log_var.expand_as(x0), bits)
    elif decoder == "gaussian":
        nll = -gaussian_log_likelihood(x0, model_mean, log_var.expand_as(x0))
    else:
        raise ValueError(f"unknown decoder {decoder!r}; expected 'discretized' or 'gaussian'")
    first_x = first.reshape(-1, *([1] * (x0.dim() - 1)))
    per_elem = torch.where(first_x, nll, kl)
    return per_elem.reshape(x0.shape[0], -1).sum(dim=1)


def vlb_estimate(
    prediction: Tensor,
    x0: Tensor,
    x_t: Tensor,
    t: Tensor,
    alphas_cumprod: Tensor,
    *,
    kind: Prediction = "eps",
    variance: VarianceType = "fixed_small",
    var_interp: Tensor | None = None,
    decoder: DecoderType = "discretized",
    bits: int = 8,
    clip_x0: bool = False,
    include_prior: bool = True,
) -> Tensor:
    """Unbiased single-t estimate of L_vlb per example [B]: L_T + T * term_t, for t ~ U{1..T}, x_t ~ q(x_t | x_0).

    `include_prior=False` drops L_T (constant in the network, as improved-diffusion's L_vlb does).
    """
    num_steps = alphas_cumprod.numel()
    term = vlb_terms(
        prediction,
        x0,
        x_t,
        t,
        alphas_cumprod,
        kind=kind,
        variance=variance,
        var_interp=var_interp,
        decoder=decoder,
        bits=bits,
        clip_x0=clip_x0,
    )
    if not include_prior:
        return num_steps * term
    return num_steps * term + prior_kl(x0, alphas_cumprod[-1].to(x0.dtype))


def _call_model(model: Model, x_t: Tensor, t: Tensor, variance: VarianceType) -> tuple[Tensor, Tensor | None]:
    out = model(x_t, (t - 1).to(x_t.dtype))
    if variance == "learned":
        if not isinstance(out, tuple) or len(out) != 2:
            raise ValueError("with variance 'learned' the model must return (prediction, var_interp)")
        return out[0], out[1]
    if isinstance(out, tuple):
        raise ValueError("the model returned a tuple; pass variance='learned' to use its variance output")
    return out, None


def vlb_loss(
    model: Model,
    x0: Tensor,
    alphas_cumprod: Tensor,
    *,
    generator: torch.Generator | None = None,
    kind: Prediction = "eps",
    variance: VarianceType = "fixed_small",
    decoder: DecoderType = "discretized",
    bits: int = 8,
    include_prior: bool = True,
) -> Tensor:
    """Draw t ~ U{1..T} and x_t ~ q(x_t | x_0) per example, call the model once, return `vlb_estimate` [B]."""
    num_steps = alphas_cumprod.numel()
    t = torch.randint(1, num_steps + 1, (x0.shape[0],), generator=generator, device=x0.device)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)
    ab_t = alphas_cumprod.to(device=x0.device, dtype=x0.dtype)[t - 1]
    x_t = q_sample(x0, broadcast_to(ab_t, x0), noise)
    prediction, var_interp = _call_model(model, x_t, t, variance)
    return vlb_estimate(
        prediction,
        x0,
        x_t,
        t,
        alphas_cumprod,
        kind=kind,
        variance=variance,
        var_interp=var_interp,
        decoder=decoder,
        bits=bits,
        include_prior=include_prior,
    )


@dataclass(frozen=True)
class VLBResult:
    """All terms of L_vlb per example, in nats: `prior` [B] = L_T, `terms` [B, T] with terms[:, t-1] = L_{t-1}."""

    prior: Tensor
    terms: Tensor
    num_dims: int

    @property
    def total(self) -> Tensor:
        """L_vlb per example [B] in nats."""
        return self.prior + self.terms.sum(dim=1)

    @property
    def bits_per_dim(self) -> Tensor:
        """L_vlb per example [B] in bits per dimension."""
        return nats_to_bits_per_dim(self.total, self.num_dims)


def vlb_full(
    model: Model,
    x0: Tensor,
    alphas_cumprod: Tensor,
    *,
    generator: torch.Generator | None = None,
    kind: Prediction = "eps",
    variance: VarianceType = "fixed_small",
    decoder: DecoderType = "discretized",
    bits: int = 8,
    clip_x0: bool = False,
    chunk_size: int = 32,
) -> VLBResult:
    """Every term of L_vlb for each example of `x0` [B, ...]: `chunk_size` steps per model call (batch B * chunk).

    Run it under `torch.no_grad()` for evaluation.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    batch = x0.shape[0]
    num_steps = alphas_cumprod.numel()
    ab_all = alphas_cumprod.to(device=x0.device, dtype=x0.dtype)
    columns = []
    for start in range(1, num_steps + 1, chunk_size):
        steps = torch.arange(start, min(start + chunk_size, num_steps + 1), device=x0.device)
        c = steps.numel()
        x0_rep = x0.unsqueeze(1).expand(batch, c, *x0.shape[1:]).reshape(batch * c, *x0.shape[1:])
        t = steps.repeat(batch)
        noise = torch.randn(x0_rep.shape, generator=generator, dtype=x0.dtype, device=x0.device)
        x_t = q_sample(x0_rep, broadcast_to(ab_all[t - 1], x0_rep), noise)
        prediction, var_interp = _call_model(model, x_t, t, variance)
        term = vlb_terms(
            prediction,
            x0_rep,
            x_t,
            t,
            alphas_cumprod,
            kind=kind,
            variance=variance,
            var_interp=var_interp,
            decoder=decoder,
            bits=bits,
            clip_x0=clip_x0,
        )
        columns.append(term.reshape(batch, c))
    terms = torch.cat(columns, dim=1)
    prior = prior_kl(x0, ab_all[-1])
    return VLBResult(prior=prior, terms=terms, num_dims=int(x0[0].numel()))
