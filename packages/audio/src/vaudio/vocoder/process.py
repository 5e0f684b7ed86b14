r"""Training loss, validation bound and sampling of a DiffWave vocoder, all through vcore.

Everything runs on whitened audio y = x / sigma (sigma from `vaudio.vocoder.prior`: PriorGrad's
data-dependent level, or 1), where the forward process is the standard one of the training schedule
beta_1..beta_T (linear, DiffWave's 50 steps 1e-4 .. 0.05):

- `loss`: E_{t, z} ||z - eps_theta(sqrt(ab_t) y_0 + sqrt(1 - ab_t) z, t, mel)||^2 averaged over samples,
  the unweighted eps objective of Ho et al. (2020) that DiffWave trains with (Kong et al. 2021, Alg. 1).
  In x coordinates this is PriorGrad's ||eps - eps_theta||^2_{Sigma^{-1}} (Lee et al. 2022, eq. 6).
- `vlb`: the full discrete-time bound L_vlb of y (`vcore.bounds.diffusion_vlb.vlb_full`, posterior
  variance, Gaussian decoder: a density) plus sum log sigma, the change of variables x = sigma y, so it
  bounds -log p(x | mel) of the waveform density; reported in nats per sample.
- `sample`: x_T = sigma z, then the reverse process on y through a vcore sampler, x = sigma y:
  "ddpm" over all T steps (ancestral, posterior variance), "fast" over DiffWave's fractional 6-step
  schedule (`TimeGrid.from_fractional` with `DIFFWAVE_FAST_BETAS`; `sample_ddpm`), or "ddim" (eta = 0)
  over N evenly spaced training steps. The conditioner is computed once for all steps.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from vaudio.vocoder.diffwave import DiffWave
from vaudio.vocoder.prior import sample_sigma, standard_sigma
from vcore.bounds.diffusion_vlb import vlb_full
from vcore.diffusion.gaussian import q_sample
from vcore.samplers.ddim import sample_ddim
from vcore.samplers.ddpm import sample_ddpm
from vcore.samplers.grid import TimeGrid
from vcore.schedules.discrete import DiscreteSchedule
from vcore.schedules.fractional import DIFFWAVE_FAST_BETAS
from vcore.schedules.linear import linear_betas

Method = Literal["fast", "ddpm", "ddim"]
METHODS: tuple[str, ...] = ("fast", "ddpm", "ddim")


def schedule_of(model: DiffWave) -> DiscreteSchedule:
    """The model's training schedule (linear betas)."""
    cfg = model.config
    return DiscreteSchedule(linear_betas(cfg.num_steps, cfg.beta_start, cfg.beta_end))


def sigma_of(model: DiffWave, mel: Tensor) -> Tensor:
    """The prior's per-sample standard deviation [B, F * hop] for mel [B, n_mels, F]."""
    cfg = model.config
    if cfg.prior == "standard":
        return standard_sigma(mel, cfg.mel)
    return sample_sigma(mel, cfg.mel, cfg.prior_gain, cfg.prior_floor)


def loss(model: DiffWave, audio: Tensor, mel: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """The eps objective (mean over batch and samples) for audio [B, F * hop] and its mel [B, n_mels, F]."""
    schedule = schedule_of(model)
    sigma = sigma_of(model, mel)
    y0 = audio / sigma
    t = torch.randint(0, schedule.num_steps, (audio.shape[0],), generator=generator)
    noise = torch.randn(y0.shape, generator=generator)
    ab = schedule.alphas_cumprod.to(torch.float32)[t].unsqueeze(1)
    y_t = q_sample(y0, ab, noise)
    prediction = model(y_t, t.float(), mel)
    return (prediction.float() - noise).pow(2).mean()


@torch.no_grad()
def vlb(model: DiffWave, audio: Tensor, mel: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Upper bound on -log p(x | mel) per example [B], in nats per sample (one x_t per step)."""
    schedule = schedule_of(model)
    sigma = sigma_of(model, mel)
    cond = model.condition(mel)
    batch = audio.shape[0]

    def eps(y_t: Tensor, t: Tensor) -> Tensor:
        reps = y_t.shape[0] // batch
        return model.denoise(y_t, t.float(), cond.repeat_interleave(reps, dim=0)).to(y_t.dtype)

    result = vlb_full(
        eps, audio / sigma, schedule.alphas_cumprod, generator=generator, decoder="gaussian", chunk_size=5
    )
    nats = result.total + sigma.log().sum(dim=1)
    return nats / audio.shape[1]


def time_grid(model: DiffWave, method: Method, steps: int | None = None) -> TimeGrid:
    """The sampling grid of `method` ("fast": DiffWave's 6 fractional steps; `steps` for ddim/ddpm)."""
    schedule = schedule_of(model)
    if method == "fast":
        return TimeGrid.from_fractional(schedule, DIFFWAVE_FAST_BETAS)
    if method == "ddpm":
        return TimeGrid.from_schedule(schedule, steps, spacing="trailing")
    if method == "ddim":
        return TimeGrid.from_schedule(schedule, steps or 6, spacing="trailing")
    raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")


@torch.inference_mode()
def sample(
    model: DiffWave,
    mel: Tensor,
    method: Method = "fast",
    steps: int | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Waveforms [B, F * hop] for mels [B, n_mels, F] (or [n_mels, F] -> [F * hop])."""
    squeeze = mel.dim() == 2
    mel = mel.unsqueeze(0) if squeeze else mel
    mel = mel.to(next(model.parameters()).dtype)
    sigma = sigma_of(model, mel)
    cond = model.condition(mel)
    grid = time_grid(model, method, steps)
    y = torch.randn(sigma.shape, generator=generator, dtype=mel.dtype)

    def eps(y_t: Tensor, t: Tensor) -> Tensor:
        return model.denoise(y_t, t, cond)

    if method == "ddim":
        y = sample_ddim(eps, y, grid, disable=True, generator=generator)
    else:
        y = sample_ddpm(eps, y, grid, disable=True, generator=generator)
    audio = (y * sigma).float()
    return audio[0] if squeeze else audio
