"""DiffSinger acoustic model on held-out songs: auxiliary decoder vs shallow diffusion vs full diffusion.

Runs `vaudio.acoustic.evaluate.evaluate_heldout` (see its docstring for every definition) on the test
split of a `vaudio data songs` corpus (default `out/vaudio/songs`, built by `vaudio data songs --out
out/vaudio/songs --hours 1.5 --seed 0`) with the shipped acoustic checkpoint (or `--checkpoint`),
side by side in one process: over-smoothing (mean per-bin mel variance ratio, generated / Festival),
MCD, PESQ and STOI against Festival's wav for the auxiliary decoder, shallow diffusion at the boundary
k, full diffusion (T DDPM steps, and k DDIM steps) and the ground-truth mel through the same vocoder;
median |F0 - note| in cents of `vaudio synth`'s output; its real-time factor; and k.

`PYTHONPATH=apps python -m bench.acoustic [--checkpoint DIR] [--data DIR] [--limit 12] [--threads 1]`
prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch

DEFAULT_DATA = Path("out/vaudio/songs")


def run(
    checkpoint: Path | None = None, data: Path = DEFAULT_DATA, limit: int = 12, threads: int = 1
) -> dict[str, Any]:
    """The held-out report, or {"skipped": reason} when no model or no corpus is there."""
    from vaudio.acoustic.evaluate import evaluate_heldout
    from vaudio.acoustic.synth import load_acoustic
    from vcore.errors import UserError

    torch.set_num_threads(threads)
    if not data.is_dir():
        return {"skipped": f"no songs corpus at {data} (vaudio data songs --out {data} --hours 1.5)"}
    try:
        model = load_acoustic(checkpoint)
    except UserError as err:
        return {"skipped": str(err)}
    report = evaluate_heldout(model, data, limit=limit)
    report["checkpoint"] = str(checkpoint) if checkpoint is not None else "shipped default"
    return report


def rows(result: dict[str, Any]) -> list[str]:
    """Markdown table of `run`'s result."""
    if "skipped" in result:
        return ["| acoustic model | skipped |", "|---|---|", f"| held-out songs | {result['skipped']} |"]
    out = [
        f"| acoustic model, {len(result['items'])} held-out songs, k = {result['k']} of {result['num_steps']}, "
        f"vocoder {result['vocoder']} | variance ratio | MCD dB | PESQ | STOI |",
        "|---|---|---|---|---|",
    ]
    labels = {
        "gt_mel": "ground-truth mel (vocoder ceiling)",
        "aux": "auxiliary decoder (L1)",
        "shallow": f"shallow diffusion, k = {result['k']} (DDPM)",
        "full": f"full diffusion, {result['num_steps']} steps (DDPM)",
        "full_k": f"full diffusion, {result['k']} steps (DDIM)",
    }
    for name, label in labels.items():
        s = result["systems"][name]
        out.append(
            f"| {label} | {s['variance_ratio']:.3f} | {s['mcd_db']:.2f} | {s['pesq']:.2f} | {s['stoi']:.3f} |"
        )
    pitch, speed = result["pitch"], result["speed"]
    out += [
        "",
        "| acoustic model check | value | target |",
        "|---|---|---|",
        f"| median abs(F0 - note), synth output, f0 from .ds | {pitch['from_f0_seq_median_cents']:.1f} cents | <= 50 |",
        f"| median abs(F0 - note), synth output, f0 from notes | {pitch['from_notes_median_cents']:.1f} cents | (score model) |",
        f"| real-time factor, acoustic + vocoder, {speed['threads']} thread(s) | {speed['realtime_factor']:.2f} | <= 2 |",
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.acoustic", description=__doc__)
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=12)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    result = run(args.checkpoint, args.data, args.limit, args.threads)
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    sys.stdout.write("\n".join(rows(result)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
