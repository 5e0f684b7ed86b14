"""Does a DiffWave checkpoint improve on Griffin-Lim when its reverse process starts from Griffin-Lim's audio?

    PYTHONPATH=apps python -m bench.vocoder_gl_start --checkpoint voc.run/checkpoint --data songs [--limit 2]

The idea of GLA-Grad (Liu et al. 2024) in its simplest, shallow-diffusion form (Liu et al. 2022, sec. 3.3):
Griffin-Lim (32 iterations) turns the mel into audio g, whose whitened version y_g = g / sigma is diffused
to level K of the model's T-step training grid, y_K = sqrt(ab_K) y_g + sqrt(1 - ab_K) z, and the model runs
the last K ancestral steps (`vcore.samplers.shallow.sample_shallow`). On the held-out songs (`--limit` per
voice) and arctic_a0007 it prints mean PESQ-wb and STOI against the recording for Griffin-Lim, DiffWave's
6-step fast schedule from noise, and the shallow start for each K in `--steps`: a network that has learnt
more than Griffin-Lim knows should beat it at some small K; one that has not only adds noise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaudio.features.mel import griffin_lim, mel_spectrogram
from vaudio.io.audio import load_audio
from vaudio.metrics.evaluate import evaluate_pair
from vaudio.vocoder import process
from vaudio.vocoder.choice import load_diffwave
from vaudio.vocoder.heldout import heldout_files
from vcore.samplers.grid import TimeGrid
from vcore.samplers.shallow import sample_shallow


def gl_start(checkpoint: Path, data: Path, limit: int, steps: list[int], seed: int = 0) -> dict[str, Any]:
    model = load_diffwave(checkpoint).eval()
    config = model.config.mel
    grid = TimeGrid.from_schedule(process.schedule_of(model), model.config.num_steps, spacing="trailing")
    scores: dict[str, list[tuple[float, float]]] = {}
    for i, item in enumerate(heldout_files([data], limit=limit)):
        audio = torch.from_numpy(load_audio(item.path, config.sample_rate))
        mel = mel_spectrogram(audio, config)
        ref = audio[: mel.shape[-1] * config.hop_length].numpy()
        gl = griffin_lim(mel, config, n_iter=32, seed=seed + i)
        outputs = {"griffin_lim": gl}
        with torch.inference_mode():
            batch = mel.unsqueeze(0)
            sigma = process.sigma_of(model, batch)
            cond = model.condition(batch)

            def eps(y_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor = cond) -> torch.Tensor:
                return model.denoise(y_t, t, cond)

            generator = torch.Generator().manual_seed(seed + i)
            outputs["fast_from_noise"] = process.sample(model, mel, "fast", generator=generator)
            y_gl = (gl[: sigma.shape[1]] / sigma[0]).unsqueeze(0)
            for k in steps:
                generator = torch.Generator().manual_seed(seed + i)
                y = sample_shallow(eps, y_gl, grid, start=len(grid) - k, generator=generator, disable=True)
                outputs[f"from_griffin_lim_K{k}"] = (y * sigma)[0]
        for name, wav in outputs.items():
            result = evaluate_pair(ref, wav.float().clamp(-1, 1).numpy(), config.sample_rate)
            scores.setdefault(name, []).append((result["pesq_wb"], result["stoi"]))
    return {
        name: {"pesq_wb": float(np.mean([p for p, _ in rows])), "stoi": float(np.mean([s for _, s in rows]))}
        for name, rows in scores.items()
    } | {"files": len(next(iter(scores.values())))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="corpus folder with a test split")
    parser.add_argument("--limit", type=int, default=2, help="held-out songs per voice")
    parser.add_argument(
        "--steps", default="2,4,8,15", help="comma-separated K (reverse steps from Griffin-Lim)"
    )
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    steps = [int(k) for k in args.steps.split(",")]
    print(json.dumps(gl_start(args.checkpoint, args.data, args.limit, steps), indent=2))


if __name__ == "__main__":
    main()
