r"""Priority sampling over a discrete set (Duffield, Lund & Thorup 2007, "Priority Sampling for Estimation of
Arbitrary Subset Sums", J. ACM 54(6)), as used by VOD to sample documents (Liévin et al. 2023).

Given weights w_1..w_N >= 0, draw u_i ~ U(0, 1] independently and give item i the priority q_i = w_i / u_i.
The sample S is the K items of highest priority and tau is the (K+1)-th highest priority (tau = 0 when
K = N). Each i in S gets the estimate

    w_hat_i = max(w_i, tau),

and for every function f, sum_{i in S} w_hat_i f_i is an unbiased estimate of sum_i w_i f_i (conditioned
on tau with i in S, the inclusion probability of i is min(1, w_i / tau), which w_hat_i inverts). Everything here is in log space: priorities log w_i - log u_i, estimates log max(w_i, tau).
Passing log_softmax scores of a distribution r gives weights s_i with sum_{i in S} s_i h_i ~ E_r[h].

`truncate_top_m` keeps the M largest log-weights and sets the rest to -inf, as VOD truncates the
retriever to its top-M documents before sampling.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor


class PrioritySample(NamedTuple):
    """`indices` [..., K] into the last dim of the input; `log_weights` [..., K] = log max(w_i, tau)."""

    indices: Tensor
    log_weights: Tensor


def priority_sample(log_weights: Tensor, k: int, generator: torch.Generator | None = None) -> PrioritySample:
    """Draw K of the N items on the last dim without replacement by priority log w_i - log u_i.

    Returns indices sorted by decreasing priority and the log Horvitz-Thompson-style weights
    log max(w_i, tau). Items with w_i = 0 (-inf) are drawn only when fewer than K items have w_i > 0, and
    then with weight 0. Sampling is not differentiable: the input is detached.
    """
    n = log_weights.shape[-1]
    if not 1 <= k <= n:
        raise ValueError(f"priority_sample needs 1 <= k <= N = {n}, got k = {k}")
    log_w = log_weights.detach()
    uniform = torch.rand(log_w.shape, generator=generator, dtype=log_w.dtype, device=log_w.device)
    log_priority = log_w - torch.log1p(-uniform)  # 1 - U(0, 1) lies in (0, 1]
    if k < n:
        top = torch.topk(log_priority, k + 1, dim=-1)
        indices = top.indices[..., :k]
        log_tau = top.values[..., k:]
    else:
        indices = torch.argsort(log_priority, dim=-1, descending=True)
        log_tau = torch.full_like(log_w[..., :1], -math.inf)
    return PrioritySample(indices, torch.maximum(log_w.gather(-1, indices), log_tau))


def truncate_top_m(log_weights: Tensor, m: int) -> Tensor:
    """Keep the top-`m` entries of the last dim (exactly m, ties broken by `torch.topk`); the rest become -inf."""
    n = log_weights.shape[-1]
    if m < 1:
        raise ValueError(f"truncate_top_m needs m >= 1, got {m}")
    if m >= n:
        return log_weights.clone()
    keep = torch.topk(log_weights, m, dim=-1).indices
    mask = torch.zeros_like(log_weights, dtype=torch.bool).scatter(-1, keep, True)
    return log_weights.masked_fill(~mask, -math.inf)
