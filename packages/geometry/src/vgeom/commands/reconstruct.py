"""`vgeom reconstruct in.ply -o out.ply`: auto-encode a point cloud (or a mesh's surface samples).

The input is read with `vgeom.io.clouds.read_cloud`, normalised like the training data (shape_unit:
subtract the mean point, divide by the standard deviation of all coordinates), encoded to the posterior
mean of q(z | X), decoded by the reverse diffusion, mapped back to the input's frame and written as PLY.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vcore.cli_support import configure_logging
from vcore.errors import UserError


def reconstruct_command(
    input: Annotated[Path, typer.Argument(help="point cloud or mesh (PLY, PCD, XYZ, OFF, OBJ, NPY, ...)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="output PLY")] = Path("reconstruction.ply"),
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", help="ae or gen checkpoint (default: the shipped one)")
    ] = None,
    points: Annotated[
        int | None, typer.Option("--points", help="points to decode (default: as many as the input)")
    ] = None,
    steps: Annotated[int, typer.Option("--steps", help="reverse diffusion steps")] = 100,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    device: Annotated[str, typer.Option("--device")] = "cpu",
    json_out: Annotated[bool, typer.Option("--json", help="print a JSON summary")] = False,
    quiet: Annotated[bool, typer.Option("--quiet")] = False,
) -> None:
    """Encode a cloud to its shape latent and decode it back (auto-encoding)."""
    configure_logging(quiet)
    import numpy as np
    import torch

    from vgeom.commands.sample import resolve_checkpoint
    from vgeom.data.sampling import normalize_shape_unit
    from vgeom.io.clouds import read_cloud, write_ply
    from vgeom.model.model import PointDiffusionModel

    path = resolve_checkpoint(checkpoint)
    model = PointDiffusionModel.from_pretrained(path, map_location=device)
    if not 1 <= steps <= model.config.num_steps:
        raise UserError(f"--steps must lie in 1..{model.config.num_steps}, got {steps}")
    if points is not None and points < 1:
        raise UserError(f"--points must be at least 1, got {points}")
    cloud = np.asarray(read_cloud(input, points=model.config.num_points), dtype=np.float64)
    try:
        normalised, shift, scale = normalize_shape_unit(cloud)
    except ValueError as err:
        raise UserError(f"{input}: {err}") from None
    x = torch.from_numpy(normalised.astype(np.float32)).unsqueeze(0).to(device)
    generator = torch.Generator(device=device).manual_seed(seed)
    rec = model.reconstruct(x, points or cloud.shape[0], generator, steps)
    result = rec[0].float().cpu().numpy().astype(np.float64) * scale + shift
    write_ply(out, result.astype(np.float32))
    summary = {
        "input": str(input),
        "out": str(out),
        "points": int(result.shape[0]),
        "shift": shift.tolist(),
        "scale": scale,
    }
    if json_out:
        typer.echo(json.dumps(summary, indent=2))
    elif not quiet:
        typer.echo(f"wrote {out} ({result.shape[0]} points)")
