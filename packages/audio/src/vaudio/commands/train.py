"""`vaudio train vocoder --data DIR --out CKPT [--resume] [--max-steps N]`: DiffWave training.

The run folder (default ``<out>.run``) keeps the resumable checkpoint, ``metrics.jsonl`` and validation
samples with mel PNGs (``validation/step-N/``); ``out`` receives the averaged model at the end (and on
Ctrl-C, from the last saved state, with ``--resume`` to carry on).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vcore.cli_support import configure_logging, echo_train_summary, exits_2_on_user_error, set_threads
from vcore.errors import UserError

train_app = typer.Typer(help="Train vaudio models.", no_args_is_help=True)


@train_app.command("vocoder")
@exits_2_on_user_error
def vocoder_command(
    data: Annotated[list[Path], typer.Option("--data", help="corpus folder (repeat for several)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="checkpoint folder written at the end")],
    resume: Annotated[
        bool, typer.Option("--resume", help="continue from the run folder's checkpoint")
    ] = False,
    run_dir: Annotated[
        Path | None,
        typer.Option("--run-dir", help="checkpoints, metrics.jsonl, samples (default: <out>.run)"),
    ] = None,
    max_steps: Annotated[int, typer.Option("--max-steps", help="optimizer steps")] = 100000,
    batch_size: Annotated[int, typer.Option("--batch-size", help="crops per step")] = 16,
    crop_frames: Annotated[
        int, typer.Option("--crop-frames", help="mel frames per crop (x hop samples)")
    ] = 32,
    channels: Annotated[int, typer.Option("--channels", help="residual channels (DiffWave base: 64)")] = 32,
    layers: Annotated[int, typer.Option("--layers", help="residual layers (DiffWave base: 30)")] = 12,
    cycle: Annotated[
        int, typer.Option("--dilation-cycle", help="dilations 1, 2, ..., 2^(cycle-1), repeated")
    ] = 6,
    prior: Annotated[
        str, typer.Option("--prior", help="priorgrad (data-dependent) or standard")
    ] = "priorgrad",
    lr: Annotated[float, typer.Option("--lr", help="AdamW learning rate")] = 2e-4,
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", help="save every N steps")] = 250,
    eval_every: Annotated[
        int, typer.Option("--eval-every", help="validation + samples every N steps")
    ] = 1000,
    log_every: Annotated[int, typer.Option("--log-every", help="metrics.jsonl line every N steps")] = 10,
    ema_decay: Annotated[float, typer.Option("--ema-decay", help="weight average kept and exported")] = 0.999,
    precision: Annotated[
        str, typer.Option("--precision", help="auto (bf16 where native), fp32 or bf16")
    ] = "auto",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    device: Annotated[str, typer.Option("--device")] = "cpu",
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads for torch")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or info logs")] = False,
) -> None:
    """Train a DiffWave vocoder (PriorGrad prior by default) on `vaudio data` corpus folders."""
    configure_logging(quiet)
    set_threads(threads)
    if eval_every % log_every:
        raise UserError(f"--eval-every ({eval_every}) must be a multiple of --log-every ({log_every})")
    from vaudio.vocoder.train import TrainOptions, run_training

    summary = run_training(
        TrainOptions(
            data=data,
            out=out,
            run_dir=run_dir,
            resume=resume,
            max_steps=max_steps,
            batch_size=batch_size,
            crop_frames=crop_frames,
            residual_channels=channels,
            residual_layers=layers,
            dilation_cycle=cycle,
            prior=prior,
            lr=lr,
            seed=seed,
            device=device,
            quiet=quiet,
            checkpoint_every=checkpoint_every,
            eval_every=eval_every,
            log_every=log_every,
            ema_decay=ema_decay,
            precision=precision,
        )
    )
    echo_train_summary(summary, out, as_json=json_out, quiet=quiet)


@train_app.command("acoustic")
@exits_2_on_user_error
def acoustic_command(
    data: Annotated[list[Path], typer.Option("--data", help="songs corpus folder (repeat for several)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="checkpoint folder written at the end")],
    resume: Annotated[
        bool, typer.Option("--resume", help="continue from the run folder's checkpoint")
    ] = False,
    run_dir: Annotated[
        Path | None, typer.Option("--run-dir", help="checkpoints and metrics.jsonl (default: <out>.run)")
    ] = None,
    max_steps: Annotated[int, typer.Option("--max-steps", help="optimizer steps")] = 4000,
    batch_size: Annotated[int, typer.Option("--batch-size", help="phrases per step")] = 6,
    crop_frames: Annotated[int, typer.Option("--crop-frames", help="mel frames per phrase and step")] = 160,
    hidden: Annotated[int, typer.Option("--hidden", help="encoder / decoder width")] = 192,
    filter_size: Annotated[int, typer.Option("--filter-size", help="FFT blocks' feed-forward width")] = 384,
    encoder_layers: Annotated[int, typer.Option("--encoder-layers", help="phone encoder FFT blocks")] = 4,
    decoder_layers: Annotated[int, typer.Option("--decoder-layers", help="auxiliary decoder FFT blocks")] = 4,
    channels: Annotated[int, typer.Option("--channels", help="denoiser residual channels")] = 128,
    layers: Annotated[int, typer.Option("--layers", help="denoiser residual layers")] = 20,
    lr: Annotated[float, typer.Option("--lr", help="AdamW learning rate")] = 4e-4,
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", help="save every N steps")] = 100,
    eval_every: Annotated[int, typer.Option("--eval-every", help="validation every N steps")] = 500,
    log_every: Annotated[int, typer.Option("--log-every", help="metrics.jsonl line every N steps")] = 10,
    ema_decay: Annotated[float, typer.Option("--ema-decay", help="weight average kept and exported")] = 0.998,
    limit: Annotated[int | None, typer.Option("--limit", help="use at most N training phrases")] = None,
    init: Annotated[
        Path | None, typer.Option("--init", help="start from this model's weights (warm start)")
    ] = None,
    prediction: Annotated[str, typer.Option("--prediction", help="denoiser output: x0, eps or v")] = "x0",
    min_snr_gamma: Annotated[
        float, typer.Option("--min-snr-gamma", help="Min-SNR loss weighting gamma (0: plain L_simple)")
    ] = 5.0,
    export_only: Annotated[
        bool, typer.Option("--export-only", help="only finalize and export the run's last checkpoint")
    ] = False,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    device: Annotated[str, typer.Option("--device")] = "cpu",
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads for torch")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or info logs")] = False,
) -> None:
    """Train the DiffSinger acoustic model (encoder, auxiliary decoder, denoiser) on a songs corpus."""
    configure_logging(quiet)
    set_threads(threads)
    if eval_every % log_every:
        raise UserError(f"--eval-every ({eval_every}) must be a multiple of --log-every ({log_every})")
    from vaudio.acoustic.train import TrainOptions as AcousticOptions
    from vaudio.acoustic.train import export_run
    from vaudio.acoustic.train import run_training as run_acoustic

    summary = (export_run if export_only else run_acoustic)(
        AcousticOptions(
            data=data,
            out=out,
            run_dir=run_dir,
            resume=resume,
            max_steps=max_steps,
            batch_size=batch_size,
            crop_frames=crop_frames,
            hidden=hidden,
            filter_size=filter_size,
            encoder_layers=encoder_layers,
            decoder_layers=decoder_layers,
            denoiser_channels=channels,
            denoiser_layers=layers,
            lr=lr,
            seed=seed,
            device=device,
            quiet=quiet,
            checkpoint_every=checkpoint_every,
            eval_every=eval_every,
            log_every=log_every,
            ema_decay=ema_decay,
            limit=limit,
            init=init,
            prediction=prediction,
            min_snr_gamma=min_snr_gamma,
        )
    )
    echo_train_summary(summary, out, as_json=json_out, quiet=quiet)
