r"""Evidence lower bound over importance log-weights (Jordan et al. 1999, "An Introduction to Variational
Methods for Graphical Models"; Kingma & Welling 2014, "Auto-Encoding Variational Bayes", eq. 3).

With K samples z_k ~ q(z | x) and log-weights log w_k = log p(x, z_k) - log q(z_k | x),

    ELBO_K = 1/K sum_k log w_k,

an unbiased estimate of E_q[log p(x, z) - log q(z | x)] = log p(x) - KL(q(z | x) || p(z | x)).
It is the alpha -> 1 member of the Rényi family (see `renyi.py`).
"""

from __future__ import annotations

from torch import Tensor


def elbo(log_weights: Tensor, dim: int = -1) -> Tensor:
    """Monte Carlo ELBO: the mean of `log_weights` over the sample dimension `dim` (K samples)."""
    return log_weights.mean(dim=dim)
