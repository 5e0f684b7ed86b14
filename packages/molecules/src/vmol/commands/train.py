"""`vmol train edm --data DIR --out CKPT [--resume]`: train EDM on a `vmol data qm9` folder.

See `vmol.train` for the objective and the folder layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vcore.cli_support import configure_logging, echo_train_summary, exits_2_on_user_error, set_threads

train_app = typer.Typer(help="Train generative models.", no_args_is_help=True)


@train_app.command("edm")
@exits_2_on_user_error
def edm_command(
    data: Annotated[Path, typer.Option("--data", help="dataset folder from `vmol data qm9`")],
    out: Annotated[Path, typer.Option("--out", "-o", help="checkpoint folder written at the end")],
    resume: Annotated[
        bool, typer.Option("--resume", help="continue from the run folder's checkpoint")
    ] = False,
    run_dir: Annotated[
        Path | None, typer.Option("--run-dir", help="checkpoints and metrics.jsonl (default: <out>.run)")
    ] = None,
    max_steps: Annotated[int, typer.Option("--max-steps", help="optimizer steps")] = 10000,
    batch_size: Annotated[int, typer.Option("--batch-size", help="molecules per step")] = 64,
    layers: Annotated[
        int | None, typer.Option("--layers", help="EGNN layers (EDM: 9) [default: 4, or --init's]")
    ] = None,
    hidden: Annotated[
        int | None, typer.Option("--hidden", help="EGNN width (EDM: 256) [default: 64, or --init's]")
    ] = None,
    timesteps: Annotated[
        int | None,
        typer.Option("--timesteps", help="diffusion steps T (EDM: 1000) [default: 500, or --init's]"),
    ] = None,
    init: Annotated[
        Path | None,
        typer.Option(
            "--init",
            help="warm start from this model's weights and architecture ('default': the shipped one)",
        ),
    ] = None,
    lr: Annotated[float, typer.Option("--lr", help="AdamW learning rate")] = 1e-4,
    lr_schedule: Annotated[
        str, typer.Option("--lr-schedule", help="constant, or cosine / linear decay to 0 at --max-steps")
    ] = "constant",
    warmup_steps: Annotated[int, typer.Option("--warmup-steps", help="linear learning-rate warmup")] = 0,
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", help="save every N steps")] = 250,
    log_every: Annotated[int, typer.Option("--log-every", help="metrics.jsonl line every N steps")] = 10,
    ema_decay: Annotated[
        float, typer.Option("--ema-decay", help="weight average kept and exported (0: none)")
    ] = 0.999,
    precision: Annotated[
        str, typer.Option("--precision", help="auto (bf16 autocast where native), fp32 or bf16")
    ] = "auto",
    size_parts: Annotated[
        int,
        typer.Option(
            "--size-parts",
            help="cut each batch into N size-sorted parts (less padding: faster on a CPU; 1 on a GPU)",
        ),
    ] = 4,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    device: Annotated[str, typer.Option("--device", help="cpu or cuda")] = "cpu",
    threads: Annotated[
        int | None, typer.Option("--threads", help="CPU threads for torch (1 is fastest on a busy machine)")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or info logs")] = False,
) -> None:
    """Train EDM (Hoogeboom et al. 2022) with EDM's l2 loss."""
    configure_logging(quiet)
    set_threads(threads)
    from vmol.train import TrainOptions, run_training

    summary = run_training(
        TrainOptions(
            data=data,
            out=out,
            run_dir=run_dir,
            resume=resume,
            max_steps=max_steps,
            batch_size=batch_size,
            layers=layers,
            hidden=hidden,
            timesteps=timesteps,
            lr=lr,
            lr_schedule=lr_schedule,
            warmup_steps=warmup_steps,
            init=init,
            seed=seed,
            device=device,
            quiet=quiet,
            checkpoint_every=checkpoint_every,
            log_every=log_every,
            ema_decay=ema_decay,
            precision=precision,
            size_chunks=size_parts,
        )
    )
    echo_train_summary(summary, out, as_json=json_out, quiet=quiet)
