r"""Training objective, validation bound and the three ways to decode a mel (Liu et al. 2022, sec. 3).

Objective per crop of frames: L1(m_aux, m) (the auxiliary decoder, "FFT-Singer") plus L_simple, the
mean-squared error of Ho et al. 2020 eq. 14 (`vcore.bounds.simple.simple_loss`) on x_0 = 2 m - 1 with
t ~ U{1..T} and x_t ~ q(x_t | x_0) = N(sqrt(ab_t) x_0, (1 - ab_t) I), for the parametrisation in
`AcousticConfig.prediction`. Each is a weighted form of the diffusion bound (`vcore.bounds.weighting`):
eps is the paper's; the default here is x0, whose weight (1 - ab_t) / ab_t relative to eps puts less
weight on the barely noisy steps. Why: shallow diffusion only ever uses steps t < k, where an eps
network must recover noise that is small next to the signal; on 1 CPU thread an eps denoiser was
still leaving most of that noise in after 1,000 steps (held-out mel variance 3.8x the ground truth's),
while an x0 network starts from the identity x_0 ~ x_t / sqrt(ab_t) there. `vlb` is the full
discrete-time bound (`vcore.bounds.diffusion_vlb.vlb_full`, Gaussian decoder) in nats per mel element.
Sampling clips x0_hat to [-1, 1] (the mel's range).

Decoding (`decode`):

- "aux": m_aux alone.
- "shallow": DiffSinger's shallow diffusion (sec. 3.3, `vcore.samplers.shallow.sample_shallow`): x_k =
  sqrt(ab_k) x_aux + sqrt(1 - ab_k) z at the boundary step k (1-based), then the reverse process over
  the training steps k-1 .. 0 (model times), all of them with DDPM (`steps` = k) or `steps` of them
  spread evenly with deterministic DDIM.
- "full": from x_T ~ N(0, I) over `steps` of the T training steps (DDPM when steps = T, else DDIM).
"""

from __future__ import annotations

from typing import Literal, cast

import torch
from torch import Tensor

from vaudio.acoustic.model import AcousticModel
from vcore.bounds.diffusion_vlb import vlb_full
from vcore.bounds.simple import simple_loss
from vcore.diffusion.gaussian import Prediction, q_sample
from vcore.samplers.ddim import sample_ddim
from vcore.samplers.ddpm import sample_ddpm
from vcore.samplers.grid import TimeGrid
from vcore.samplers.shallow import sample_shallow

Mode = Literal["aux", "shallow", "full"]
MODES: tuple[str, ...] = ("aux", "shallow", "full")


def diffusion_loss(model: AcousticModel, x0: Tensor, cond: Tensor, min_snr_gamma: float = 0.0) -> Tensor:
    """L_simple (of `config.prediction`) per example [B] for x0 [B, n_mels, F] and condition [B, H, F].

    With `min_snr_gamma` = g > 0 each example is weighted so that its eps-equivalent weight is
    min(1, g / SNR_t) (Hang et al. 2023, "Efficient Diffusion Training via Min-SNR Weighting Strategy";
    SNR_t = ab_t / (1 - ab_t)): for x0 that is min(SNR_t, g), for eps min(1, g / SNR_t), for v
    min(SNR_t, g) / (SNR_t + 1).
    """
    schedule = model.schedule()
    t = torch.randint(0, schedule.num_steps, (x0.shape[0],), device=x0.device)
    noise = torch.randn_like(x0)
    ab = schedule.alphas_cumprod.to(x0.dtype).to(x0.device)[t]
    x_t = q_sample(x0, ab[:, None, None], noise)
    prediction = model.denoiser(x_t, t.float(), cond)
    kind = cast(Prediction, model.config.prediction)
    loss = simple_loss(prediction, x0, noise, ab, kind)
    if min_snr_gamma > 0:
        snr = ab / (1.0 - ab)
        clipped = snr.clamp(max=min_snr_gamma)
        weight = {"x0": clipped, "eps": clipped / snr, "v": clipped / (snr + 1.0)}[kind]
        loss = loss * weight
    return loss


@torch.no_grad()
def vlb(model: AcousticModel, x0: Tensor, cond: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """The full bound L_vlb per example [B], in nats per mel element."""
    projected = model.denoiser.condition(cond)

    def network(x_t: Tensor, t: Tensor) -> Tensor:
        return model.denoiser.denoise(x_t, t.float(), projected)

    kind = cast(Prediction, model.config.prediction)
    result = vlb_full(
        network,
        x0,
        model.schedule().alphas_cumprod,
        generator=generator,
        kind=kind,
        decoder="gaussian",
        chunk_size=10,
    )
    return result.total / x0[0].numel()


def shallow_grid(model: AcousticModel, k: int, steps: int) -> TimeGrid:
    """Model times k-1 .. 0 (`steps` of them, evenly spaced, always including k-1 and 0) with their levels."""
    schedule = model.schedule()
    if not 1 <= k <= schedule.num_steps:
        raise ValueError(f"k must lie in [1, {schedule.num_steps}], got {k}")
    steps = max(1, min(steps, k))
    index = torch.unique(torch.round(torch.linspace(k - 1, 0, steps, dtype=torch.float64)).long()).flip(0)
    return TimeGrid(index.double(), schedule.alphas_cumprod[index])


def full_grid(model: AcousticModel, steps: int) -> TimeGrid:
    """`steps` of the T training steps from T-1 down to 0."""
    return shallow_grid(model, model.config.num_steps, steps)


@torch.inference_mode()
def decode(
    model: AcousticModel,
    cond: Tensor,
    pad: Tensor,
    mode: Mode = "shallow",
    k: int | None = None,
    steps: int | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Mel [B, n_mels, F] in [0, 1] from the condition [B, F, H] (see the module docstring).

    `k` defaults to the checkpoint's boundary (`config.boundary_k`), `steps` to all steps of the chain.
    """
    from vaudio.acoustic.model import from_model_scale

    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    aux = model.aux(cond, pad)
    if mode == "aux":
        return from_model_scale(aux)
    projected = model.denoiser.condition(cond.transpose(1, 2))

    def network(x_t: Tensor, t: Tensor) -> Tensor:
        return model.denoiser.denoise(x_t, t, projected)

    total = model.config.num_steps
    kind = cast(Prediction, model.config.prediction)
    if mode == "shallow":
        k = k or model.config.boundary_k or total // 2
        n = k if steps is None else steps
        grid = shallow_grid(model, k, n)
        method: Literal["ddpm", "ddim"] = "ddpm" if len(grid) == k else "ddim"
        x = sample_shallow(
            network,
            aux,
            grid,
            start=0,
            method=method,
            generator=generator,
            disable=True,
            prediction=kind,
            clip_x0=1.0,
        )
    else:
        n = total if steps is None else steps
        grid = full_grid(model, n)
        noise = torch.randn(aux.shape, generator=generator, dtype=aux.dtype)
        if len(grid) == total:
            x = sample_ddpm(
                network, noise, grid, generator=generator, disable=True, prediction=kind, clip_x0=1.0
            )
        else:
            x = sample_ddim(
                network, noise, grid, generator=generator, disable=True, prediction=kind, clip_x0=1.0
            )
    return from_model_scale(x)


def noised_aux(model: AcousticModel, aux: Tensor, k: int, noise: Tensor) -> Tensor:
    """q(x_k | x_aux) draw for a 1-based step k (what shallow diffusion starts from)."""
    ab = model.schedule().alphas_cumprod[k - 1].to(aux.dtype)
    return q_sample(aux, ab, noise)
