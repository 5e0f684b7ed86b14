r"""Shallow diffusion (Liu et al. 2022, "DiffSinger: Singing Voice Synthesis via Shallow Diffusion Mechanism",
sec. 3.3).

A simple decoder (DiffSinger's auxiliary mel decoder) gives an estimate x0_est of the data. Its noised
version and the noised real data become indistinguishable at some intermediate level, so instead of
starting from pure noise at the top of the chain the sampler diffuses the estimate to grid level
ab_k with the forward marginal

    x_k = sqrt(ab_k) x0_est + sqrt(1 - ab_k) z,      z ~ N(0, I)   (`q_sample`),

and runs the reverse process over grid entries k..N-1 only (DDPM or DDIM). `start` is a grid index:
0 is the noisiest entry (the full reverse process from a noised estimate), N - 1 the last (a single step).
On the full T-step grid, DiffSinger's shallow step K (1-based training step) is index T - K.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import torch
from torch import Tensor

from vcore.diffusion.gaussian import Prediction, q_sample
from vcore.samplers.ddim import sample_ddim
from vcore.samplers.ddpm import Variance, sample_ddpm
from vcore.samplers.grid import TimeGrid


def sample_shallow(
    model: Callable[..., Tensor],
    x0_estimate: Tensor,
    grid: TimeGrid,
    extra_args: dict[str, Any] | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
    disable: bool | None = None,
    *,
    start: int,
    method: Literal["ddpm", "ddim"] = "ddpm",
    prediction: Prediction = "eps",
    generator: torch.Generator | None = None,
    noise: Tensor | None = None,
    variance: Variance = "fixed_small",
    eta: float = 0.0,
    clip_x0: float | None = None,
) -> Tensor:
    """Shallow diffusion, Liu et al. 2022 ("DiffSinger"), sec. 3.3: noise x0_estimate to grid entry `start`
    and run the reverse process from there.

    The forward noise is `noise` if given, else drawn from `generator` before the reverse process draws
    its own. `method` picks `sample_ddpm` (with `variance`) or `sample_ddim` (with `eta`); the other
    arguments pass through. Callback indices count from `start` (0 is the first step taken).
    """
    n = len(grid)
    if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < n:
        raise ValueError(
            f"start must be a grid index in [0, {n - 1}] (0 = noisiest, {n - 1} = last step), got {start!r}"
        )
    if method not in ("ddpm", "ddim"):
        raise ValueError(f"unknown method {method!r}; expected 'ddpm' or 'ddim'")
    if noise is None:
        device = x0_estimate.device if generator is None else generator.device
        noise = torch.randn(x0_estimate.shape, generator=generator, dtype=x0_estimate.dtype, device=device)
    level = grid.alpha_bar[start].to(dtype=x0_estimate.dtype, device=x0_estimate.device)
    x = q_sample(x0_estimate, level, noise.to(x0_estimate.device))
    tail = grid.starting_at(start)
    if method == "ddpm":
        return sample_ddpm(
            model,
            x,
            tail,
            extra_args,
            callback,
            disable,
            prediction=prediction,
            generator=generator,
            variance=variance,
            clip_x0=clip_x0,
        )
    return sample_ddim(
        model,
        x,
        tail,
        extra_args,
        callback,
        disable,
        prediction=prediction,
        eta=eta,
        generator=generator,
        clip_x0=clip_x0,
    )
