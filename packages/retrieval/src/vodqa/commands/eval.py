"""`vodqa eval IDX questions.jsonl [--json]`: accuracy and the retriever's recall@k of the gold passage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vcore.cli_support import write_report
from vcore.errors import UserError


def eval_command(
    index: Annotated[Path, typer.Argument(help="index folder built with the checkpoint's retriever")],
    questions: Annotated[
        Path, typer.Argument(help="questions JSONL {question, options[], answer_idx[, gold]}")
    ],
    checkpoint: Annotated[
        Path | None, typer.Option(help="checkpoint folder (default: the shipped one)")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="passages read per question")] = 8,
    batch_size: Annotated[int, typer.Option(help="questions per reader batch")] = 8,
    json_out: Annotated[bool, typer.Option("--json", help="print the metrics as JSON")] = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="also write the JSON report here")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
) -> None:
    """Evaluate a checkpoint on multiple-choice questions."""
    if k < 1 or batch_size < 1:
        raise UserError(f"-k and --batch-size must be at least 1, got {k} and {batch_size}")
    from vodqa.evaluate import evaluate
    from vodqa.index import Index
    from vodqa.inference import QASystem
    from vodqa.model.checkpoint import load_checkpoint
    from vodqa.pretrained import default_checkpoint
    from vodqa.questions.question import read_questions

    items = read_questions(questions)
    ckpt = checkpoint or default_checkpoint()
    system = QASystem(load_checkpoint(ckpt), Index.load(index), k=k)
    report = evaluate(system, items, batch_size=batch_size, progress=not quiet)
    report.update({"questions_file": str(questions), "index": str(index), "checkpoint": str(ckpt)})
    text = json.dumps(report, indent=2)
    if out is not None:
        write_report(out, text + "\n")
    if json_out:
        typer.echo(text)
        return
    typer.echo(
        f"{report['questions']} questions, method {report['method']}, {report['passages_read']} passages read"
    )
    typer.echo(f"accuracy      {report['accuracy']:.1%}")
    typer.echo(f"mean p(answer) {report['mean_p_answer']:.3f}")
    if report["questions_with_gold"]:
        recalls = "  ".join(f"@{kk} {report[f'recall@{kk}']:.1%}" for kk in (1, 5, 10))
        typer.echo(
            f"retriever recall of the gold passage ({report['questions_with_gold']} questions): {recalls}"
        )
