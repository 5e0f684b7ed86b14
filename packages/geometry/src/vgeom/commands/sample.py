"""`vgeom sample -n 16 [--category chair] -o OUT`: generate point clouds with a trained generator.

Writes OUT/sample_000.ply ..., OUT/samples.npz (points float32 [n, N, 3], category str [n]) and
OUT/samples.png (a render grid), each file atomically. Clouds are in the normalised frame of the training
data (shape_unit: zero mean, unit coordinate standard deviation).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Annotated

import typer

from vcore.cli_support import configure_logging
from vcore.errors import UserError
from vcore.io.checkpoint import shipped_checkpoint

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "pretrained" / "default"


def resolve_checkpoint(checkpoint: Path | None) -> Path:
    """The given checkpoint, or the shipped default one (UserError when none is installed)."""
    return checkpoint if checkpoint is not None else shipped_checkpoint(DEFAULT_CHECKPOINT, "vgeom")


def sample_command(
    n: Annotated[int, typer.Option("-n", help="number of clouds")] = 16,
    out: Annotated[Path, typer.Option("--out", "-o", help="output folder")] = Path("samples"),
    category: Annotated[str | None, typer.Option("--category", help="category to generate")] = None,
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", help="generator checkpoint (default: the shipped one)")
    ] = None,
    points: Annotated[int, typer.Option("--points", help="points per cloud")] = 2048,
    steps: Annotated[int, typer.Option("--steps", help="reverse diffusion steps (<= the model's T)")] = 100,
    precision: Annotated[
        str, typer.Option("--precision", help="auto, fp32 or bf16 network arithmetic")
    ] = "auto",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    device: Annotated[str, typer.Option("--device")] = "cpu",
    json_out: Annotated[bool, typer.Option("--json", help="print a JSON summary")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
) -> None:
    """Generate point clouds from the flow prior and the reverse diffusion."""
    configure_logging(quiet)
    if n < 1:
        raise UserError(f"-n must be at least 1, got {n}")
    if points < 1:
        raise UserError(f"--points must be at least 1, got {points}")
    if precision not in ("auto", "fp32", "bf16"):
        raise UserError(f"--precision must be auto, fp32 or bf16, got {precision!r}")
    import time

    import numpy as np
    import torch

    from vcore.io.atomic import atomic_write_bytes
    from vgeom.io.clouds import write_ply
    from vgeom.model.model import PointDiffusionModel
    from vgeom.render import render_grid

    path = resolve_checkpoint(checkpoint)
    model = PointDiffusionModel.from_pretrained(path, map_location=device)
    if not 1 <= steps <= model.config.num_steps:
        raise UserError(f"--steps must lie in 1..{model.config.num_steps}, got {steps}")
    generator = torch.Generator(device=device).manual_seed(seed)
    start = time.perf_counter()
    with torch.inference_mode():
        z, names = model.sample_latents(n, generator, category)
        clouds = model.decode(z, points, generator, steps, precision, progress=not quiet)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    array = clouds.float().cpu().numpy()
    if not np.isfinite(array).all():
        raise UserError(f"{path}: the model produced non-finite points")

    out.mkdir(parents=True, exist_ok=True)
    files = []
    for k, cloud in enumerate(array):
        files.append(write_ply(out / f"sample_{k:03d}.ply", cloud))
    buffer = io.BytesIO()
    np.savez(buffer, points=array.astype(np.float32), category=np.asarray(names, dtype=str))
    atomic_write_bytes(out / "samples.npz", buffer.getvalue())
    render_grid(array, out / "samples.png", titles=[nm or f"#{k}" for k, nm in enumerate(names)])
    summary = {
        "checkpoint": str(path),
        "n": n,
        "points": points,
        "steps": steps,
        "seed": seed,
        "seconds": round(seconds, 3),
        "seconds_per_cloud": round(seconds / n, 4),
        "out": str(out),
        "categories": sorted(set(names)),
    }
    if json_out:
        typer.echo(json.dumps(summary, indent=2))
    elif not quiet:
        typer.echo(f"wrote {n} clouds to {out} ({seconds:.2f} s, {seconds / n:.3f} s per cloud)")
