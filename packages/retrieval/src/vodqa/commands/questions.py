"""`vodqa questions wordnet -o DIR` builds reverse-dictionary questions; `vodqa questions check FILE` validates.

`wordnet` generates multiple-choice questions from WordNet 3.0 (`vodqa.questions.wordnet_questions`),
splits them by synset and writes DIR/{train,val,test}.jsonl and DIR/manifest.json (counts per split and
style, seed, source) as one atomic folder. `check` reads a MedMCQA-style JSONL file
(`{question, options, answer_idx}`, see `vodqa.questions.question`) and prints its counts, or exits with
code 2 and the offending line.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from vcore.cli_support import check_seed, configure_logging, fail
from vcore.errors import UserError

QUESTIONS_FORMAT = "vodqa-questions"
SPLITS = ("train", "val", "test")

questions_app = typer.Typer(
    name="questions",
    help="Build or check multiple-choice question files (offline: nothing is downloaded).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@questions_app.callback()
def questions_group() -> None:
    """Question sets; `vodqa questions wordnet --help` for the WordNet reverse dictionary."""


def _style(question_id: str | None) -> str:
    return question_id.rsplit("-", 1)[1] if question_id and "-" in question_id else "unknown"


def _check_out(out: Path) -> None:
    """Refuse to replace a folder that holds something other than a previous question set."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "manifest.json").is_file():
        raise UserError(f"{out}: folder is not empty and holds no question set (manifest.json); pick another")


@questions_app.command("wordnet")
def wordnet_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="folder to write (replaced atomically)")],
    seed: Annotated[int, typer.Option("--seed", help="seed of the questions, options and split")] = 0,
    max_questions: Annotated[
        int | None, typer.Option("--max", help="keep a seeded random subset of N questions")
    ] = None,
    val_fraction: Annotated[float, typer.Option("--val-fraction", help="fraction of synsets for val")] = 0.05,
    test_fraction: Annotated[
        float, typer.Option("--test-fraction", help="fraction of synsets for test")
    ] = 0.05,
    per_synset: Annotated[
        int, typer.Option("--per-synset", help="questions (styles) per synset, 1 to 3")
    ] = 1,
    pos: Annotated[str, typer.Option("--pos", help="parts of speech, comma-separated (n,v,a,r)")] = "n,v,a",
    wordnet: Annotated[
        Path | None,
        typer.Option(
            "--wordnet", help="WordNet 3.0 dict folder (default $VODQA_WORDNET_DIR or /usr/share/wordnet)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the manifest as JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no log lines")] = False,
) -> None:
    """Generate WordNet reverse-dictionary questions into DIR/{train,val,test}.jsonl + DIR/manifest.json."""
    configure_logging(quiet)
    from vcore.io.atomic import atomic_dir, atomic_write_json
    from vodqa.corpus.wordnet import load_exceptions, load_wordnet
    from vodqa.questions.morphology import Morphology
    from vodqa.questions.question import write_questions
    from vodqa.questions.wordnet_questions import generate_questions, split_questions

    start = time.perf_counter()
    try:
        check_seed(seed)
        parts = tuple(p.strip() for p in pos.split(",") if p.strip())
        out = out.expanduser()
        _check_out(out)
        synsets = load_wordnet(wordnet)
        questions = generate_questions(
            synsets,
            seed=seed,
            max_questions=max_questions,
            pos=parts,
            per_synset=per_synset,
            morphology=Morphology(load_exceptions(wordnet)),
        )
        splits = split_questions(questions, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed)
        manifest: dict[str, Any] = {
            "format": QUESTIONS_FORMAT,
            "version": 1,
            "source": "wordnet-3.0",
            "wordnet_synsets": len(synsets),
            "seed": seed,
            "max": max_questions,
            "per_synset": per_synset,
            "pos": list(parts),
            "val_fraction": val_fraction,
            "test_fraction": test_fraction,
            "total": len(questions),
            "counts": {name: len(splits[name]) for name in SPLITS},
            "synsets": {name: len({q.gold for q in splits[name]}) for name in SPLITS},
            "styles": {
                name: dict(sorted(Counter(_style(q.id) for q in splits[name]).items())) for name in SPLITS
            },
        }
        try:
            with atomic_dir(out) as tmp:
                for name in SPLITS:
                    write_questions(tmp / f"{name}.jsonl", splits[name])
                atomic_write_json(tmp / "manifest.json", manifest)
        except OSError as err:
            raise UserError(f"{out}: cannot write the question set ({err.strerror or err})") from None
    except UserError as err:
        raise fail(str(err)) from None
    if as_json:
        typer.echo(json.dumps(manifest, indent=2, sort_keys=True))
    elif not quiet:
        counts = ", ".join(f"{name} {manifest['counts'][name]}" for name in SPLITS)
        styles = Counter(_style(q.id) for q in questions)
        typer.echo(f"{out}: {len(questions)} questions ({counts})")
        typer.echo("styles: " + ", ".join(f"{k} {v}" for k, v in sorted(styles.items())))
        typer.echo(f"built in {time.perf_counter() - start:.1f} s")


@questions_app.command("check")
def check_command(
    path: Annotated[Path, typer.Argument(help="questions JSONL file: {question, options[], answer_idx}")],
    as_json: Annotated[bool, typer.Option("--json", help="print the counts as JSON")] = False,
) -> None:
    """Validate a questions file and print its counts; exit code 2 and the bad line on an error."""
    from vodqa.questions.question import read_questions

    try:
        questions = read_questions(path)
    except UserError as err:
        raise fail(str(err)) from None
    report: dict[str, Any] = {
        "file": str(path),
        "questions": len(questions),
        "options": dict(sorted(Counter(len(q.options) for q in questions).items())),
        "answer_idx": dict(sorted(Counter(q.answer_idx for q in questions).items())),
        "with_id": sum(q.id is not None for q in questions),
        "with_gold": sum(q.gold is not None for q in questions),
    }
    if as_json:
        typer.echo(json.dumps(report, indent=2, sort_keys=True))
        return
    options = ", ".join(f"{n} options: {c}" for n, c in report["options"].items())
    answers = ", ".join(f"{k}: {c}" for k, c in report["answer_idx"].items())
    typer.echo(f"{path}: {len(questions)} questions ({options}); answer positions {answers}")
    typer.echo(f"with id: {report['with_id']}, with gold passage: {report['with_gold']}")
