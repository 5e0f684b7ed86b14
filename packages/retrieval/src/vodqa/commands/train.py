"""`vodqa train --index IDX --questions train.jsonl -o CKPT [--resume]`: train the reader-retriever pair.

--method vod (default): K passages per question priority-sampled from the top-P of the cached hybrid
retriever over the question's option pool (--pool options, default) or the whole corpus (--pool corpus), loss -L_alpha,K (VOD, vcore.bounds.vod_surrogate) with alpha annealed linearly from
--alpha-start to --alpha-end, reader and retriever updated, the corpus re-indexed every --reindex-every
steps. --method frozen-dense / bm25: the baselines, a reader trained on the top-K marginal likelihood with
the untuned MiniLM or BM25 as a fixed retriever. See `vodqa.train.run` for the run folder layout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import torch
import typer

from vcore.cli_support import configure_logging
from vcore.errors import UserError


def train_command(
    index: Annotated[Path, typer.Option("--index", help="index folder from `vodqa index` (untuned encoder)")],
    questions: Annotated[Path, typer.Option("--questions", help="training questions (JSONL)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="checkpoint folder written at the end")],
    val: Annotated[Path | None, typer.Option("--val", help="validation questions (JSONL)")] = None,
    method: Annotated[str, typer.Option(help="vod, frozen-dense or bm25")] = "vod",
    pool: Annotated[
        str, typer.Option(help="what the retriever ranks: options (the options' passages) or corpus")
    ] = "options",
    resume: Annotated[
        bool, typer.Option("--resume", help="continue from the run folder's checkpoint")
    ] = False,
    run_dir: Annotated[
        Path | None, typer.Option(help="checkpoints and metrics.jsonl (default: <out>.run)")
    ] = None,
    max_steps: Annotated[int, typer.Option(help="optimizer steps")] = 600,
    batch_size: Annotated[int, typer.Option(help="questions per step")] = 4,
    passages: Annotated[int, typer.Option("--passages", "-k", help="passages K read per question")] = 4,
    top_p: Annotated[
        int, typer.Option(help="cached candidates P per question (VOD's top-P truncation)")
    ] = 32,
    lr: Annotated[float, typer.Option(help="peak learning rate of the encoder layers")] = 1e-4,
    head_lr: Annotated[float, typer.Option(help="learning rate of the reader head")] = 1e-3,
    train_layers: Annotated[int, typer.Option(help="top MiniLM layers trained in each encoder")] = 2,
    bm25_weight: Annotated[
        float, typer.Option(help="w in the vod retriever's f = cos / 0.05 + w BM25 (0: dense only)")
    ] = 1.0,
    alpha_start: Annotated[float, typer.Option(help="Rényi alpha at step 0")] = 1.0,
    alpha_end: Annotated[float, typer.Option(help="Rényi alpha at the last step")] = 0.0,
    reindex_every: Annotated[int, typer.Option(help="re-index the corpus every N steps (0: never)")] = 0,
    eval_every: Annotated[int, typer.Option(help="validation accuracy every N steps")] = 100,
    checkpoint_every: Annotated[int, typer.Option(help="save every N steps")] = 50,
    seed: Annotated[int, typer.Option()] = 0,
    device: Annotated[str, typer.Option(help="cpu (the only device supported for training here)")] = "cpu",
    threads: Annotated[int | None, typer.Option(help="CPU threads for torch")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar or info logs")] = False,
) -> None:
    """Train the VOD reader-retriever pair (or a reader-only baseline) on multiple-choice questions."""
    configure_logging(quiet)
    if device != "cpu":
        raise UserError(f"--device {device}: vodqa training runs on cpu")
    if threads is not None:
        if threads < 1:
            raise UserError(f"--threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    for name, value in {
        "--max-steps": max_steps,
        "--batch-size": batch_size,
        "--eval-every": eval_every + 1,
    }.items():
        if value < 1:
            raise UserError(f"{name} must be positive, got {value}")
    from vodqa.train.run import TrainOptions, train_vodqa

    summary = train_vodqa(
        TrainOptions(
            index=index,
            questions=questions,
            out=out,
            val=val,
            run_dir=run_dir,
            method=method,
            pool=pool,
            resume=resume,
            max_steps=max_steps,
            batch_size=batch_size,
            passages=passages,
            top_p=top_p,
            lr=lr,
            head_lr=head_lr,
            train_layers=train_layers,
            bm25_weight=bm25_weight,
            alpha_start=alpha_start,
            alpha_end=alpha_end,
            reindex_every=reindex_every,
            eval_every=eval_every,
            checkpoint_every=checkpoint_every,
            seed=seed,
            progress=not quiet,
        )
    )
    if json_out:
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(f"trained {summary['method']} to step {summary['step']}; checkpoint: {summary['out']}")
