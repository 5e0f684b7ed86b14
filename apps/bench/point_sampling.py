"""Sampling one 2048-point cloud with 100 reverse steps: vgeom's decoder against the reference architecture.

Both sides get the same weights (the reference network is loaded from ours, and one network call is checked
to agree), the same latent, width, points and steps:
- `vgeom`: `PointDiffusionModel.decode` (folded ConcatSquash layers, vcore's `sample_ddpm`, inference mode,
  bfloat16 products where the CPU has native bf16 ("auto"));
- `vgeom_fp32`: the same with float32 products (the fold alone);
- `reference`: the paper's PointwiseNet and sampling loop in float32 (`bench.peers.luost26_pointwise`),
  under `torch.no_grad()` as the reference's test script runs it.
"""

from __future__ import annotations

from typing import Any

import torch

from bench.peers.luost26_pointwise import RefPointwiseNet, RefSchedule, ref_sample
from bench.timing import time_interleaved
from vgeom.model.model import PointDiffusionConfig, PointDiffusionModel

POINTS = 2048
STEPS = 100
LATENT = 256  # the paper's latent size
WIDTHS = (128, 64)  # the paper's width (our default) and half width


def _reference_from(model: PointDiffusionModel) -> RefPointwiseNet:
    ref = RefPointwiseNet(model.config.latent_dim, model.config.width)
    ref.load_state_dict(model.net.state_dict())
    return ref.eval()


def run_width(width: int, rounds: int) -> dict[str, Any]:
    torch.manual_seed(0)
    config = PointDiffusionConfig(mode="ae", latent_dim=LATENT, width=width, encoder_width=8, num_steps=STEPS)
    model = PointDiffusionModel(config).eval()
    ref = _reference_from(model)
    sched = RefSchedule(STEPS, config.beta_1, config.beta_T)
    z = torch.randn(1, LATENT)
    with torch.no_grad():  # the two networks agree on one call
        x = torch.randn(1, POINTS, 3)
        beta = torch.tensor([0.01])
        gap = float((model.net(x, beta, z) - ref(x, beta, z)).abs().max())
        if gap > 1e-4:
            raise AssertionError(f"the reference network disagrees with ours by {gap}")

    def ours() -> torch.Tensor:
        return model.decode(z, POINTS, torch.Generator().manual_seed(1), STEPS, "auto")

    def ours_fp32() -> torch.Tensor:
        return model.decode(z, POINTS, torch.Generator().manual_seed(1), STEPS, "fp32")

    def theirs() -> torch.Tensor:
        with torch.no_grad():
            return ref_sample(ref, sched, z, POINTS)

    with torch.inference_mode():
        secs = time_interleaved(
            {"vgeom": ours, "vgeom_fp32": ours_fp32, "reference": theirs},
            rounds=rounds,
            calls_per_round=1,
            warmup=1,
        )
    params = sum(p.numel() for p in model.net.parameters())
    return {
        "case": f"width {width} ({params / 1e6:.2f}M params), {POINTS} points, {STEPS} steps, latent {LATENT}",
        "width": width,
        "seconds_per_cloud": secs,
        "ratio": secs["reference"] / secs["vgeom"],
        "ratio_fp32": secs["reference"] / secs["vgeom_fp32"],
        "bf16": model.compute_dtype("auto") == torch.bfloat16,
    }


def run(rounds: int = 10) -> dict[str, Any]:
    """Seconds per cloud for each contender at every width in `WIDTHS`, and the speed-ups."""
    return {"threads": torch.get_num_threads(), "results": [run_width(w, rounds) for w in WIDTHS]}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
