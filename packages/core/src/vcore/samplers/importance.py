r"""Self-normalised importance sampling over a discrete set (Kahn & Marshall 1953; Owen 2013, "Monte Carlo
theory, methods and examples", sec. 9.2).

K items are drawn i.i.d. (with replacement) from a proposal q over N items. For a target p known up to a
constant, the importance ratios are log p(i_k) - log q(i_k) and the self-normalised weights
w_bar_k = exp(ratio_k) / sum_j exp(ratio_j) give sum_k w_bar_k h(i_k), a consistent estimate of E_p[h]
(biased at finite K by O(1/K)). The unknown normaliser of p cancels in w_bar.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


class ImportanceSample(NamedTuple):
    """`indices` [..., K]; `log_ratios` [..., K] = log p_i - log q_i (q normalised); `weights` = softmax(log_ratios)."""

    indices: Tensor
    log_ratios: Tensor
    weights: Tensor


def importance_sample(
    log_target: Tensor, log_proposal: Tensor, k: int, generator: torch.Generator | None = None
) -> ImportanceSample:
    """Draw K i.i.d. items from q = softmax(`log_proposal`) on the last dim; weigh them towards p.

    `log_target` may be unnormalised (it shifts every log ratio by the same constant). Gradients flow into
    the log ratios and weights (not into the draws).
    """
    if k < 1:
        raise ValueError(f"importance_sample needs k >= 1, got {k}")
    log_q = torch.log_softmax(log_proposal, dim=-1)
    probs = log_q.detach().exp().reshape(-1, log_q.shape[-1])
    flat = torch.multinomial(probs, k, replacement=True, generator=generator)
    indices = flat.reshape(*log_q.shape[:-1], k)
    log_ratios = log_target.gather(-1, indices) - log_q.gather(-1, indices)
    return ImportanceSample(indices, log_ratios, torch.softmax(log_ratios, dim=-1))
