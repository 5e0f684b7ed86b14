"""`make bench`: run every benchmark side by side against its peer, write JSON and a Markdown table."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Any

import torch

from bench import (
    acoustic,
    ddim_overhead,
    molecules,
    point_sampling,
    retrieval,
    vae_bounds,
    vocoder_speed,
    vodqa_ask,
)
from vcore.io.atomic import atomic_write_text

TARGETS = {"small": 3.0, "MNIST": 1.25}


def bound_rows(results: list[dict[str, Any]]) -> list[str]:
    rows = [
        "| case | bound | K | vcore ms | inline ms | pyro ms | speed-up vs pyro | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        secs = r["seconds_per_step"]
        target = next(v for key, v in TARGETS.items() if str(r["case"]).startswith(key))
        rows.append(
            f"| {r['case']} | {r['bound']} | {r['k']} | {secs['vcore'] * 1e3:.3f} | {secs['inline'] * 1e3:.3f} "
            f"| {secs['pyro'] * 1e3:.3f} | {r['speedup_vs_pyro']:.2f}x | >= {target}x |"
        )
    return rows


def ddim_rows(result: dict[str, Any]) -> list[str]:
    return [
        "| DDIM loop | vcore us/step | diffusers us/step | diffusers / vcore | target |",
        "|---|---|---|---|---|",
        f"| {result['case']} | {float(result['vcore_us_per_step']):.1f} | {float(result['diffusers_us_per_step']):.1f} "
        f"| {float(result['ratio']):.2f}x | >= 1x |",
    ]


def point_rows(result: dict[str, Any]) -> list[str]:
    rows = [
        "| point-cloud sampling (2048 points, 100 steps) | vgeom s | vgeom fp32 s | reference s | speed-up | target |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["results"]:
        secs = r["seconds_per_cloud"]
        rows.append(
            f"| width {r['width']} | {secs['vgeom']:.3f} | {secs['vgeom_fp32']:.3f} | {secs['reference']:.3f} "
            f"| {r['ratio']:.2f}x (fp32 {r['ratio_fp32']:.2f}x) | <= 1 s, >= 1.5x |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument("--rounds", type=int, default=20, help="interleaved timing rounds per contender")
    parser.add_argument(
        "--only",
        choices=["core", "audio", "acoustic", "geometry", "molecules", "retrieval"],
        action="append",
        help="run these groups (default: all)",
    )
    args = parser.parse_args(argv)
    groups = set(args.only or ["core", "audio", "acoustic", "geometry", "molecules", "retrieval"])
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        },
    }
    if "core" in groups:
        report["bounds_vs_pyro"] = vae_bounds.run(rounds=args.rounds)
        report["ddim_overhead_vs_diffusers"] = ddim_overhead.run(rounds=args.rounds)
    if "audio" in groups:
        report["vocoder_speed_vs_lmnt"] = vocoder_speed.run(seconds=10.0, threads=2)
    if "acoustic" in groups:
        report["acoustic_heldout"] = acoustic.run()
    if "geometry" in groups:
        report["point_cloud_sampling_vs_reference"] = point_sampling.run(rounds=max(3, args.rounds // 4))
    if "molecules" in groups:
        report["vmol_edm_samples"] = molecules.run(args.out)
    if "retrieval" in groups:
        report["retrieval_wordnet"] = retrieval.run(args.out)
        wordnet = Path(report["retrieval_wordnet"]["index_dir"])
        report["vodqa_ask"] = vodqa_ask.run(args.out, base_index=wordnet)
    sections: list[list[str]] = []
    if "core" in groups:
        sections += [bound_rows(report["bounds_vs_pyro"]), ddim_rows(report["ddim_overhead_vs_diffusers"])]
    if "audio" in groups:
        sections.append(vocoder_speed.rows(report["vocoder_speed_vs_lmnt"]))
    if "acoustic" in groups:
        sections.append(acoustic.rows(report["acoustic_heldout"]))
    if "geometry" in groups:
        sections.append(point_rows(report["point_cloud_sampling_vs_reference"]))
    if "molecules" in groups:
        sections.append(molecules.rows(report["vmol_edm_samples"]))
    if "retrieval" in groups:
        sections += [retrieval.rows(report["retrieval_wordnet"]), vodqa_ask.rows(report["vodqa_ask"])]
    markdown = "\n".join(["# vbound benchmarks", ""] + [line for rows in sections for line in [*rows, ""]])
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "core.json", json.dumps(report, indent=2) + "\n")
    atomic_write_text(args.out / "core.md", markdown)
    sys.stdout.write(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
