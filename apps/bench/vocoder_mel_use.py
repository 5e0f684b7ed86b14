"""Does a DiffWave checkpoint use its mel? The eps objective with the true mel, another clip's mel and zeros.

    PYTHONPATH=apps python -m bench.vocoder_mel_use --checkpoint voc.run/checkpoint --data songs

On `--crops` validation crops (32 frames), the mean over t = 0, 5, ..., T-5 of E||z - eps_theta(y_t, t, mel')||^2,
with y = x / sigma and sigma always from the true mel, so only the network's conditioner input changes:
mel' = the true mel, the mel of another crop in the batch (rolled by one), or zeros. A network that ignores
its mel scores the three alike (the issue's 726-step CPU run did).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from vaudio.vocoder import process
from vaudio.vocoder.choice import load_diffwave
from vaudio.vocoder.dataset import CropDataset, corpus_files, load_clips
from vcore.diffusion.gaussian import q_sample


def mel_use(checkpoint: Path, data: Path, crops: int = 32, seed: int = 0) -> dict[str, float]:
    model = load_diffwave(checkpoint).eval()
    config = model.config.mel
    dataset = CropDataset(load_clips(corpus_files(data, "val"), config), config, 32)
    torch.manual_seed(seed)
    index = torch.randperm(len(dataset))[:crops].tolist()
    audio = torch.stack([dataset[i][0] for i in index])
    mel = torch.stack([dataset[i][1] for i in index])
    schedule = process.schedule_of(model)
    alpha_bar = schedule.alphas_cumprod.float()
    y0 = audio / process.sigma_of(model, mel)
    steps = range(0, schedule.num_steps, 5)
    out = {}
    with torch.inference_mode():
        for name, given in {
            "true": mel,
            "other_clip": mel.roll(1, 0),
            "zeros": torch.zeros_like(mel),
        }.items():
            generator = torch.Generator().manual_seed(seed + 1)
            cond, total = model.condition(given), 0.0
            for t in steps:
                z = torch.randn(y0.shape, generator=generator)
                pred = model.denoise(q_sample(y0, alpha_bar[t], z), torch.full((len(index),), float(t)), cond)
                total += float((pred - z).pow(2).mean())
            out[name] = total / len(steps)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="corpus folder with a val split")
    parser.add_argument("--crops", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(json.dumps(mel_use(args.checkpoint, args.data, args.crops), indent=2))


if __name__ == "__main__":
    main()
