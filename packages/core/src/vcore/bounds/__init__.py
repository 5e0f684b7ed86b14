"""Variational bounds: over log-weights (ELBO, IWAE, Rényi/VR, the VOD estimator) and for diffusion models
(DDPM VLB, L_simple, the VDM ELBO, weighted ELBOs and their t-samplers)."""

from vcore.bounds.annealing import cosine_alpha, exponential_alpha, linear_alpha
from vcore.bounds.diffusion_vlb import (
    VLBResult,
    nats_to_bits_per_dim,
    vlb_estimate,
    vlb_full,
    vlb_loss,
    vlb_terms,
)
from vcore.bounds.elbo import elbo
from vcore.bounds.iwae import iwae
from vcore.bounds.renyi import renyi_bound, vr_max
from vcore.bounds.simple import simple_loss, simple_target
from vcore.bounds.snis import snis_logsumexp, vod_bound, vod_log_ratios, vod_surrogate
from vcore.bounds.time_sampling import (
    antithetic_times,
    low_discrepancy_times,
    uniform_times,
    uniform_timesteps,
)
from vcore.bounds.vdm import VDMTerms, vdm_loss
from vcore.bounds.weighting import (
    edm_weight,
    elbo_weight,
    eps_cosine_weight,
    sigmoid_weight,
    v_cosine_weight,
    weighted_loss,
    weighted_loss_lambda,
)

__all__ = [
    "VDMTerms",
    "VLBResult",
    "antithetic_times",
    "cosine_alpha",
    "edm_weight",
    "elbo",
    "elbo_weight",
    "eps_cosine_weight",
    "exponential_alpha",
    "iwae",
    "linear_alpha",
    "low_discrepancy_times",
    "nats_to_bits_per_dim",
    "renyi_bound",
    "sigmoid_weight",
    "simple_loss",
    "simple_target",
    "snis_logsumexp",
    "uniform_times",
    "uniform_timesteps",
    "v_cosine_weight",
    "vdm_loss",
    "vlb_estimate",
    "vlb_full",
    "vlb_loss",
    "vlb_terms",
    "vod_bound",
    "vod_log_ratios",
    "vod_surrogate",
    "vr_max",
    "weighted_loss",
    "weighted_loss_lambda",
]
