"""`vgeom train gen|ae --data DIR --out CKPT [--resume]`: train the point-cloud diffusion model.

See `vgeom.train` for the objective, the metrics and the folder layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vcore.cli_support import configure_logging, echo_train_summary, set_threads
from vcore.errors import UserError


def train_command(
    mode: Annotated[str, typer.Argument(help="gen (flow-prior generator) or ae (auto-encoder)")],
    data: Annotated[Path, typer.Option("--data", help="dataset folder from `vgeom data shapes`")],
    out: Annotated[Path, typer.Option("--out", "-o", help="checkpoint folder written at the end")],
    resume: Annotated[
        bool, typer.Option("--resume", help="continue from the run folder's checkpoint")
    ] = False,
    run_dir: Annotated[
        Path | None, typer.Option("--run-dir", help="checkpoints and metrics.jsonl (default: <out>.run)")
    ] = None,
    max_steps: Annotated[int, typer.Option("--max-steps", help="optimizer steps")] = 10000,
    batch_size: Annotated[int, typer.Option("--batch-size", help="clouds per step")] = 32,
    points: Annotated[int, typer.Option("--points", help="points per cloud per step (random subset)")] = 512,
    category: Annotated[
        str | None, typer.Option("--category", help="train on these categories only (comma-separated)")
    ] = None,
    lr: Annotated[float, typer.Option("--lr", help="peak learning rate (linear decay to 5%)")] = 2e-3,
    lr_schedule: Annotated[
        str, typer.Option("--lr-schedule", help="linear (decay to 5% at --max-steps) or constant")
    ] = "linear",
    latent_dim: Annotated[int, typer.Option("--latent-dim", help="shape latent size")] = 128,
    width: Annotated[
        int, typer.Option("--width", help="decoder/encoder base width (128 = the paper's)")
    ] = 128,
    flow_depth: Annotated[int, typer.Option("--flow-depth", help="coupling layers in the prior")] = 14,
    loss: Annotated[
        str, typer.Option("--loss", help="simple (eps MSE + w KL) or vlb (the bound)")
    ] = "simple",
    kl_weight: Annotated[
        float | None,
        typer.Option("--kl-weight", help="weight w of the latent KL (default 0.001 simple, 1 vlb)"),
    ] = None,
    precision: Annotated[
        str, typer.Option("--precision", help="decoder arithmetic: auto (bf16 where native), fp32 or bf16")
    ] = "auto",
    eval_every: Annotated[
        int, typer.Option("--eval-every", help="validation bound every N steps (0: off)")
    ] = 500,
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", help="save every N steps")] = 250,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    device: Annotated[str, typer.Option("--device")] = "cpu",
    threads: Annotated[
        int | None, typer.Option("--threads", help="CPU threads for torch (1 is fastest on a busy machine)")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar or info logs")] = False,
) -> None:
    """Train a Luo & Hu point-cloud diffusion model (gen: flow-prior VAE; ae: auto-encoder)."""
    configure_logging(quiet)
    if mode not in ("gen", "ae"):
        raise UserError(f"mode must be 'gen' or 'ae', got {mode!r}")
    if lr_schedule not in ("linear", "constant"):
        raise UserError(f"--lr-schedule must be linear or constant, got {lr_schedule!r}")
    from vgeom.train import TrainOptions, run_training

    set_threads(threads)

    categories = tuple(c.strip() for c in category.split(",") if c.strip()) if category else ()
    summary = run_training(
        TrainOptions(
            mode=mode,
            data=data,
            out=out,
            run_dir=run_dir,
            resume=resume,
            max_steps=max_steps,
            batch_size=batch_size,
            points=points,
            categories=categories,
            lr=lr,
            lr_schedule=lr_schedule,
            latent_dim=latent_dim,
            width=width,
            flow_depth=flow_depth,
            loss=loss,
            precision=precision,
            kl_weight=kl_weight,
            seed=seed,
            device=device,
            quiet=quiet,
            eval_every=eval_every,
            checkpoint_every=checkpoint_every,
        )
    )
    echo_train_summary(summary, out, as_json=json_out, quiet=quiet)
