"""Variational bounds over log-weights and the VOD estimator."""

from vcore.bounds.annealing import cosine_alpha, exponential_alpha, linear_alpha
from vcore.bounds.elbo import elbo
from vcore.bounds.iwae import iwae
from vcore.bounds.renyi import renyi_bound, vr_max
from vcore.bounds.snis import snis_logsumexp, vod_bound, vod_log_ratios, vod_surrogate

__all__ = [
    "cosine_alpha",
    "elbo",
    "exponential_alpha",
    "iwae",
    "linear_alpha",
    "renyi_bound",
    "snis_logsumexp",
    "vod_bound",
    "vod_log_ratios",
    "vod_surrogate",
    "vr_max",
]
