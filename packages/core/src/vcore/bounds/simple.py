r"""L_simple (Ho et al. 2020, "Denoising Diffusion Probabilistic Models", eq. 14) for eps-, x0- and
v-prediction.

With x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps and t drawn uniformly (the caller draws t, the noise and
x_t; see `vcore.bounds.time_sampling.uniform_timesteps` and `vcore.diffusion.gaussian.q_sample`),

    L_simple = E_{t, x0, eps} || target - prediction ||^2,

with target eps (Ho et al.), x0, or v = sqrt(ab_t) eps - sqrt(1 - ab_t) x0 (Salimans & Ho 2022,
"Progressive Distillation for Fast Sampling of Diffusion Models", sec. 4). Here the squared error is
averaged over the non-batch dimensions (improved-diffusion's `mean_flat`), one value per example.

The three losses differ only by a weight per noise level: if every prediction is converted to an eps
prediction, ||x0 - x0_hat||^2 = (1 - ab)/ab ||eps - eps_hat||^2 and ||v - v_hat||^2 = ||eps - eps_hat||^2 / ab
(`vcore.bounds.weighting.implied_weight` writes them as weighted ELBOs).
"""

from __future__ import annotations

from torch import Tensor

from vcore.diffusion.gaussian import Prediction, broadcast_to


def simple_target(x0: Tensor, noise: Tensor, alpha_bar: Tensor, kind: Prediction) -> Tensor:
    """Regression target of the parametrisation `kind`; `alpha_bar` is per example [B] or a scalar."""
    if kind == "eps":
        return noise
    if kind == "x0":
        return x0
    if kind == "v":
        ab = broadcast_to(alpha_bar, x0)
        return ab.sqrt() * noise - (1.0 - ab).sqrt() * x0
    raise ValueError(f"unknown prediction type {kind!r}; expected 'eps', 'x0' or 'v'")


def simple_loss(prediction: Tensor, x0: Tensor, noise: Tensor, alpha_bar: Tensor, kind: Prediction) -> Tensor:
    """Per-example mean squared error [B] between `prediction` and the target of `kind` (Ho et al. eq. 14)."""
    if prediction.shape != x0.shape or noise.shape != x0.shape:
        raise ValueError(
            f"prediction {tuple(prediction.shape)}, x0 {tuple(x0.shape)} and noise {tuple(noise.shape)} "
            "must have the same shape"
        )
    err = (prediction - simple_target(x0, noise, alpha_bar, kind)) ** 2
    return err.reshape(err.shape[0], -1).mean(dim=1)
