r"""Importance-weighted bound (Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders", eq. 8).

With K samples z_k ~ q(z | x) and log-weights log w_k = log p(x, z_k) - log q(z_k | x),

    L_K = log (1/K sum_k w_k) = logsumexp_k(log w_k) - log K.

E[L_K] <= log p(x), E[L_K] is non-decreasing in K (their Theorem 1) and tends to log p(x) when the
weights are bounded. L_1 is the single-sample ELBO; L_K is the alpha = 0 member of the Rényi family.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def iwae(log_weights: Tensor, dim: int = -1) -> Tensor:
    """IWAE estimate logsumexp(log w) - log K over the sample dimension `dim`."""
    return torch.logsumexp(log_weights, dim=dim) - math.log(log_weights.shape[dim])
