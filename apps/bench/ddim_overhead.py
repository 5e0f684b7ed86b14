"""Per-step overhead of the DDIM sampling loop against diffusers' DDIMScheduler.

Both loops run the same trivial model (so the time is the scheduler's, not the network's) on the same
schedule (linear betas, T = 1000), grid (50 "leading" steps), eta = 0 and tensor; each timed call
includes its set-up (`TimeGrid.from_schedule` / `set_timesteps`) and all 50 steps.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from bench.timing import time_interleaved
from vcore.samplers import TimeGrid, sample_ddim
from vcore.schedules import make_schedule

TRAIN_STEPS = 1000
SAMPLE_STEPS = 50
SHAPE = (4, 80, 100)  # a batch of 4 mel spectrograms, 80 bins x 100 frames


def trivial_model(x: Tensor, t: Tensor) -> Tensor:
    """A stand-in network that costs one elementwise multiply."""
    return 0.9 * x


def run(rounds: int = 20) -> dict[str, Any]:
    from diffusers import DDIMScheduler

    schedule = make_schedule("linear", TRAIN_STEPS)
    x = torch.randn(SHAPE, generator=torch.Generator().manual_seed(0))
    scheduler: Any = DDIMScheduler(
        num_train_timesteps=TRAIN_STEPS, beta_schedule="linear", set_alpha_to_one=True, clip_sample=False
    )

    def ours() -> Tensor:
        grid = TimeGrid.from_schedule(schedule, SAMPLE_STEPS, spacing="leading")
        return sample_ddim(trivial_model, x, grid, eta=0.0)

    def theirs() -> Tensor:
        scheduler.set_timesteps(SAMPLE_STEPS)
        sample = x
        for t in scheduler.timesteps:
            sample = scheduler.step(trivial_model(sample, t), t, sample, eta=0.0).prev_sample
        return sample

    with torch.inference_mode():
        assert torch.allclose(ours(), theirs(), rtol=1e-4, atol=1e-4), "the two DDIM loops disagree"
        secs = time_interleaved({"vcore": ours, "diffusers": theirs}, rounds=rounds, calls_per_round=2)
    return {
        "case": f"{SAMPLE_STEPS} steps of {TRAIN_STEPS}, x {list(SHAPE)}, trivial model",
        "vcore_us_per_step": secs["vcore"] / SAMPLE_STEPS * 1e6,
        "diffusers_us_per_step": secs["diffusers"] / SAMPLE_STEPS * 1e6,
        "ratio": secs["diffusers"] / secs["vcore"],
    }
