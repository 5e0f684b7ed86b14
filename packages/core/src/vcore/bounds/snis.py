r"""Self-normalised importance sampling over a discrete set, and the VOD objective (Liévin, Motzfeldt,
Jensen & Winther 2023, "Variational Open-Domain Question Answering", ICML, sec. 2).

Setting. A latent item d (a document) takes one of N values with prior p_theta(d) = exp f_theta(d) / Z_theta
(the retriever) and likelihood p_theta(x | d) (the reader); the target is log p_theta(x) =
log sum_d p_theta(d) p_theta(x | d), a log-sum-exp over the whole set. K items d_1..d_K are drawn from a
proposal r(d) = exp f_r(d) / Z_r (cached retriever / approximate posterior) together with sampling weights
s_k such that sum_k s_k h(d_k) estimates E_r[h] (s_k = 1/K for i.i.d. draws; Horvitz-Thompson weights
max(r_k, tau) for priority sampling, `vcore.samplers.priority`). Write pi_k = s_k / sum_j s_j.

SNIS. With zeta_k = exp(f_theta(d_k) - f_r(d_k)) the unnormalised ratio p_theta / r, Z_theta / Z_r is
estimated by sum_j pi_j zeta_j, so neither normaliser over the N items is ever computed.

VOD objective (the self-normalised estimate of the Rényi bound, Li & Turner 2016, taken under r):

    v_k        = p_theta(x | d_k) zeta_k / sum_j pi_j zeta_j,
    L_alpha,K  = 1/(1 - alpha) log sum_k pi_k v_k^(1 - alpha).

alpha = 0 gives the SNIS estimate of log p_theta(x), alpha = 1 the self-normalised ELBO. With every item
sampled (K = N, pi = r) L_alpha,K is exactly the Rényi bound of order alpha with q = r. It is consistent
as K grows and, like every self-normalised estimate, biased at finite K.

VOD gradient (sec. 2 of the paper). Holding the samples and their weights fixed,

    grad_theta L_alpha,K = sum_k w_k [grad log p_theta(x | d_k) + grad f_theta(d_k) - sum_j rho_j grad f_theta(d_j)],
    w_k   = pi_k v_k^(1 - alpha) / sum_j pi_j v_j^(1 - alpha),     rho_j = pi_j zeta_j / sum_l pi_l zeta_l,

where the last sum is the SNIS estimate of grad log Z_theta = E_{p_theta}[grad f_theta]. `vod_surrogate`
returns a scalar per batch element whose value is L_alpha,K and whose gradient is this estimator; the
proposal scores f_r and the weights s receive no gradient (the paper samples from a fixed, cached r).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from vcore.bounds.renyi import renyi_bound


def _log_pi(log_sample_weights: Tensor | None, like: Tensor, dim: int) -> Tensor:
    if log_sample_weights is None:
        return torch.full_like(like, -math.log(like.shape[dim]))
    return torch.log_softmax(log_sample_weights.to(like.dtype), dim=dim)


def snis_logsumexp(
    log_values: Tensor, log_proposal: Tensor, log_sample_weights: Tensor | None = None, dim: int = -1
) -> Tensor:
    """SNIS estimate of log sum_{i in set} exp(v_i) = log E_q[exp(v) / q] from K sampled items.

    `log_values` are v_k and `log_proposal` the normalised log q(d_k) of the sampled items; the estimate is
    log sum_k pi_k exp(v_k - log q(d_k)) with pi = normalised sampling weights (uniform when None).
    """
    log_pi = _log_pi(log_sample_weights, log_values, dim)
    return torch.logsumexp(log_pi + log_values - log_proposal, dim=dim)


def vod_log_ratios(
    log_likelihood: Tensor,
    log_prior: Tensor,
    log_proposal: Tensor,
    log_sample_weights: Tensor | None = None,
    dim: int = -1,
) -> Tensor:
    """log v_k = log p(x | d_k) + log zeta_k - log sum_j pi_j zeta_j, with log zeta = f_theta - f_r.

    `log_prior` (f_theta) and `log_proposal` (f_r) may be unnormalised over the N items.
    """
    log_pi = _log_pi(log_sample_weights, log_likelihood, dim)
    log_zeta = log_prior - log_proposal
    return log_likelihood + log_zeta - torch.logsumexp(log_pi + log_zeta, dim=dim, keepdim=True)


def vod_bound(
    log_likelihood: Tensor,
    log_prior: Tensor,
    log_proposal: Tensor,
    alpha: float,
    log_sample_weights: Tensor | None = None,
    dim: int = -1,
) -> Tensor:
    """VOD objective L_alpha,K = 1/(1 - alpha) log sum_k pi_k v_k^(1 - alpha) over the K samples on `dim`."""
    log_v = vod_log_ratios(log_likelihood, log_prior, log_proposal, log_sample_weights, dim)
    return renyi_bound(log_v, alpha, dim=dim, log_sample_weights=log_sample_weights)


def vod_surrogate(
    log_likelihood: Tensor,
    log_prior: Tensor,
    log_proposal: Tensor,
    alpha: float,
    log_sample_weights: Tensor | None = None,
    dim: int = -1,
) -> Tensor:
    """Value L_alpha,K; gradient the VOD estimator sum_k w_k [grad log p(x|d_k) + grad f_k - sum_j rho_j grad f_j].

    Maximise it (or minimise its negative). `alpha` must be finite; f_r and the sample weights get no gradient.
    """
    if not math.isfinite(alpha):
        raise ValueError(f"vod_surrogate needs a finite alpha, got {alpha}")
    log_proposal = log_proposal.detach()
    log_pi = _log_pi(None if log_sample_weights is None else log_sample_weights.detach(), log_likelihood, dim)
    with torch.no_grad():
        log_v = vod_log_ratios(log_likelihood, log_prior, log_proposal, log_sample_weights, dim)
        weights = torch.softmax(log_pi + (1.0 - alpha) * log_v, dim=dim)
        rho = torch.softmax(log_pi + log_prior - log_proposal, dim=dim)
        value = renyi_bound(log_v, alpha, dim=dim, log_sample_weights=log_sample_weights)
    centred_prior = log_prior - (rho * log_prior).sum(dim=dim, keepdim=True)
    signal = torch.where(weights > 0, weights * (log_likelihood + centred_prior), 0.0).sum(dim=dim)
    return value + (signal - signal.detach())
