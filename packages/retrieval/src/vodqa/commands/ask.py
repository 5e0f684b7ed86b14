"""`vodqa ask IDX "description" --options a b c d [--json]`: the answer, option probabilities, passages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vcore.errors import UserError


def ask_command(
    index: Annotated[Path, typer.Argument(help="index folder built with the checkpoint's retriever")],
    question: Annotated[str, typer.Argument(help="the description / question")],
    options: Annotated[list[str], typer.Option("--options", help="candidate answers (2 or more)")],
    checkpoint: Annotated[
        Path | None, typer.Option(help="checkpoint folder (default: the shipped one)")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="passages read")] = 8,
    show: Annotated[int, typer.Option(help="supporting passages printed")] = 3,
    json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Answer a multiple-choice question from retrieved passages."""
    if not question.strip():
        raise UserError("the question is empty")
    if len(options) < 2:
        raise UserError(f"--options needs at least 2 candidates, got {len(options)}")
    if len({o.strip().lower() for o in options}) != len(options) or any(not o.strip() for o in options):
        raise UserError("--options must be distinct and non-empty")
    if k < 1:
        raise UserError(f"-k must be at least 1, got {k}")
    from vodqa.index import Index
    from vodqa.inference import QASystem
    from vodqa.model.checkpoint import load_checkpoint
    from vodqa.pretrained import default_checkpoint

    model = load_checkpoint(checkpoint or default_checkpoint())
    system = QASystem(model, Index.load(index), k=k)
    answer = system.answer(question, options)
    order = sorted(range(len(answer.passages)), key=lambda i: -answer.passage_probabilities[i])[
        : max(show, 0)
    ]
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "question": question,
                    "answer": options[answer.best],
                    "answer_idx": answer.best,
                    "probabilities": dict(zip(options, answer.probabilities, strict=True)),
                    "passages": [
                        {
                            "id": answer.passages[i].id,
                            "title": answer.passages[i].title,
                            "text": answer.passages[i].text,
                            "p_passage": answer.passage_probabilities[i],
                            "p_options": answer.reader_probabilities[i],
                        }
                        for i in order
                    ],
                },
                indent=2,
            )
        )
        return
    typer.echo(f"answer: {options[answer.best]}")
    for option, p in sorted(zip(options, answer.probabilities, strict=True), key=lambda t: -t[1]):
        typer.echo(f"  {p:6.1%}  {option}")
    typer.echo("supporting passages:")
    for i in order:
        passage = answer.passages[i]
        text = passage.text if len(passage.text) < 160 else passage.text[:157] + "..."
        typer.echo(f"  [{answer.passage_probabilities[i]:.2f}] {passage.id} {passage.title}: {text}")
