r"""Variational Rényi (VR) bound (Li & Turner 2016, "Rényi Divergence Variational Inference", eqs. 5 and 9).

For a proposal q(z | x) and weights w = p(x, z) / q(z | x), the VR bound of order alpha is

    L_alpha = 1/(1 - alpha) log E_q[w^(1 - alpha)] = log p(x) - D_alpha(q(z | x) || p(z | x)),

and its K-sample estimate (their eq. 9; here optionally with sample weights pi_k, sum_k pi_k = 1,
uniform pi_k = 1/K by default) is

    L_alpha,K = 1/(1 - alpha) log sum_k pi_k w_k^(1 - alpha).

This is the log of the (weighted) power mean of the w_k of order r = 1 - alpha. A power mean is
non-decreasing in its order, so for every fixed sample L_alpha,K is non-increasing in alpha:

    alpha = -inf  : max_k log w_k                     (VR-max, their sec. 5.2)
    alpha = 0     : logsumexp(log w) - log K          (IWAE, Burda et al. 2016)
    alpha -> 1    : sum_k pi_k log w_k                (ELBO, the geometric mean)
    alpha = +inf  : min_k log w_k.

Numerics. The direct form (logsumexp_k(log pi_k + r log w_k)) / r is exact in log space for any
spread of log-weights, but divides rounding errors of size eps * log K by r, so it degrades as
alpha -> 1. There we centre the log-weights at their weighted mean m and use

    L_alpha,K = m + log1p(sum_k pi_k expm1(r (log w_k - m))) / r,

whose rounding error stays at eps * max_k |log w_k - m| for every r != 0; it is used where
|r (log w_k - m)| <= 1 for all k, and alpha == 1 returns the ELBO exactly. The two forms agree
where they switch, so the estimate is continuous in alpha through alpha = 1.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

# From this |1 - alpha| on, the direct form's error (eps * log K / |r|) is already at rounding level.
_DIRECT_FROM = 0.25


def vr_max(log_weights: Tensor, dim: int = -1) -> Tensor:
    """VR-max (alpha = -inf, Li & Turner 2016, sec. 5.2): the largest log-weight over `dim`."""
    return log_weights.amax(dim=dim)


def renyi_bound(
    log_weights: Tensor, alpha: float, dim: int = -1, log_sample_weights: Tensor | None = None
) -> Tensor:
    """K-sample VR bound 1/(1 - alpha) log sum_k pi_k w_k^(1 - alpha) over `dim`, for any real alpha or +-inf.

    `log_sample_weights` (same shape as `log_weights`, optional) are unnormalised log pi_k; they are
    normalised over `dim` (items with pi_k = 0, i.e. -inf, are ignored). Default: uniform, pi_k = 1/K.
    """
    # movedim is an autograd node even when it changes nothing: skip it in the usual dim=-1 case.
    lw = log_weights if dim in (-1, log_weights.dim() - 1) else log_weights.movedim(dim, -1)
    r = 1.0 - float(alpha)
    if log_sample_weights is None and math.isfinite(r) and abs(r) >= _DIRECT_FROM:
        # Fast path for the common case (uniform pi, alpha away from 1): the direct form only.
        return (torch.logsumexp(r * lw, dim=-1) - math.log(lw.shape[-1])) / r
    if log_sample_weights is None:
        log_pi = torch.full_like(lw, -math.log(lw.shape[-1]))
    else:
        log_pi = torch.log_softmax(log_sample_weights.movedim(dim, -1).to(lw.dtype), dim=-1)
    support = log_pi > -math.inf
    if alpha == -math.inf:
        return lw.masked_fill(~support, -math.inf).amax(dim=-1)
    if alpha == math.inf:
        return lw.masked_fill(~support, math.inf).amin(dim=-1)
    pi = log_pi.exp()
    if alpha == 1.0:
        return torch.where(support, pi * lw, 0.0).sum(dim=-1)

    terms = (log_pi + r * lw).masked_fill(~support, -math.inf)
    direct = torch.logsumexp(terms, dim=-1) / r
    if abs(r) >= _DIRECT_FROM:
        return direct

    usable = support & torch.isfinite(lw)
    finite = (usable | ~support).all(dim=-1)
    safe = torch.where(usable, lw, 0.0)
    mean = (pi * safe).sum(dim=-1, keepdim=True)
    scaled = r * torch.where(usable, safe - mean, 0.0)
    use_series = finite & (scaled.abs().amax(dim=-1) <= 1.0)
    # Clamping changes nothing where the series form is used; elsewhere it keeps the unused branch finite.
    near_one = mean.squeeze(-1) + torch.log1p((pi * torch.expm1(scaled.clamp(-1.0, 1.0))).sum(dim=-1)) / r
    return torch.where(use_series, near_one, direct)
