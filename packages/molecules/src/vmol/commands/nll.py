"""`vmol nll mols.sdf --checkpoint CKPT [--json]`: EDM's variational bound on -log p per molecule (nats).

Molecules are scored in their centre-of-mass frame (the model's density lives on the zero-CoM subspace).
The diffusion part is the single-t estimate T L_t (one random t per molecule) unless `--full`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vcore.cli_support import configure_logging, exits_2_on_user_error
from vcore.errors import UserError


@exits_2_on_user_error
def nll_command(
    path: Annotated[Path, typer.Argument(help="molecules (.sdf, .xyz or .npz)")],
    checkpoint: Annotated[Path | None, typer.Option("--checkpoint", help="EDM checkpoint folder")] = None,
    full: Annotated[bool, typer.Option("--full", help="sum every diffusion step (T network calls)")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", help="molecules per network call")] = 64,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    device: Annotated[str, typer.Option("--device")] = "cpu",
    json_out: Annotated[bool, typer.Option("--json", help="print per-molecule terms as JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no info logs")] = False,
) -> None:
    """Estimate EDM's negative log-likelihood bound of each molecule in nats."""
    configure_logging(quiet)
    if batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {batch_size}")
    import torch

    from vmol.commands.checkpoint import load_edm
    from vmol.io.molecules import read_molecules
    from vmol.model.batch import check_types, molecules_to_batch

    model = load_edm(checkpoint, device)
    molecules = read_molecules(path)
    if not molecules:
        raise UserError(f"{path}: no molecules")
    check_types(molecules, model.config.atom_types, str(path))
    small = [k + 1 for k, m in enumerate(molecules) if len(m) < 2]
    if small:
        raise UserError(f"{path}: molecule {small[0]}: fewer than 2 atoms")
    generator = torch.Generator(device=device).manual_seed(seed)
    rows: list[dict[str, float]] = []
    with torch.no_grad():
        for start in range(0, len(molecules), batch_size):
            chunk = molecules[start : start + batch_size]
            batch = {k: v.to(device) for k, v in molecules_to_batch(chunk, model.config.atom_types).items()}
            terms = model.nll(batch, generator, full=full)
            for i in range(len(chunk)):
                rows.append({k: float(v[i]) for k, v in terms.items()})
    mean = sum(r["total"] for r in rows) / len(rows)
    report = {
        "file": str(path),
        "molecules": len(rows),
        "mean_nll_nats": mean,
        "full": full,
        "per_molecule": rows,
    }
    if json_out:
        typer.echo(json.dumps(report, indent=2))
    else:
        typer.echo(f"{path}: {len(rows)} molecules, mean NLL bound {mean:.2f} nats")
