"""`vodqa ask` latency and the shipped checkpoint's accuracy on the hand-made reverse-dictionary questions.

The WordNet index is built (with the untuned encoder for option-pool checkpoints, with the checkpoint's
retriever otherwise) and cached under `<out>/vodqa-ask-cache/`, keyed by the encoder's weights fingerprint. Latency is
per question, in process, after loading (model and index loading are reported apart): retrieval of the top
K = 8 passages plus the reader on K x 4 (question, option, passage) pairs, median (p50) and p90 over the 70
hand-made questions, each asked 3 times; "first ask" is the p50 of the first round, which for option-pool
checkpoints includes embedding the pool passages (later rounds find them cached). Target: p50 <= 300 ms. Accuracy comes from the same
`vodqa.evaluate.evaluate` that `vodqa eval --json` runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

logger = logging.getLogger(__name__)

TARGET_P50_MS = 300.0


def _index_for(model: Any, cache: Path) -> Path:
    """A WordNet index the checkpoint can read: of the untuned encoder for option pools (their passages are
    embedded with the checkpoint's retriever on demand), of the checkpoint's retriever otherwise."""
    from vodqa.corpus.wordnet import load_wordnet, wordnet_passages
    from vodqa.encoder import load_base_model, weights_fingerprint
    from vodqa.index import build_index

    encoder = load_base_model() if model.config.pool == "options" else model.retriever
    folder = cache / f"wordnet-{weights_fingerprint(encoder)}"
    if not (folder / "config.json").is_file():
        logger.info("building the WordNet index into %s", folder)
        passages = wordnet_passages(load_wordnet())
        build_index(
            passages, folder, model=encoder, tokenizer=model.tokenizer, source="wordnet", progress=True
        )
    return folder


def run(
    out: Path,
    threads: int = 2,
    repeats: int = 3,
    checkpoint: Path | None = None,
    index_dir: Path | None = None,
    base_index: Path | None = None,
) -> dict[str, Any]:
    """p50/p90 `ask` latency (ms), load times, and the hand-made accuracy of the shipped (or a given) checkpoint.

    `index_dir` is the index to read (for a corpus-wide checkpoint: built with its retriever); by default
    `base_index` (a WordNet index of the untuned encoder) for option-pool checkpoints, else one built and
    cached.
    """
    from vcore.errors import UserError
    from vodqa.evaluate import evaluate
    from vodqa.index import Index
    from vodqa.inference import QASystem
    from vodqa.model.checkpoint import load_checkpoint
    from vodqa.pretrained import default_checkpoint
    from vodqa.questions import HANDMADE_QUESTIONS, read_questions

    if checkpoint is None:
        try:
            checkpoint = default_checkpoint()
        except UserError as err:
            return {"skipped": str(err)}
    torch.set_num_threads(threads)
    start = time.perf_counter()
    model = load_checkpoint(checkpoint)
    load_model_s = time.perf_counter() - start
    if index_dir is None and base_index is not None and model.config.pool == "options":
        index_dir = base_index
    folder = index_dir or _index_for(model, out / "vodqa-ask-cache")
    start = time.perf_counter()
    index = Index.load(folder)
    load_index_s = time.perf_counter() - start
    system = QASystem(model, index, k=8)
    questions = read_questions(HANDMADE_QUESTIONS)
    for q in questions[:3]:
        system.answer(q.question, q.options)  # warm-up
    latencies, first = [], []
    for round_ in range(repeats):
        for q in questions:
            t = time.perf_counter()
            system.answer(q.question, q.options)
            latencies.append((time.perf_counter() - t) * 1e3)
            if round_ == 0:
                first.append(latencies[-1])
    latencies.sort()
    report = evaluate(system, questions)
    return {
        "threads": threads,
        "questions": len(questions),
        "p50_ms": statistics.median(latencies),
        "p90_ms": latencies[int(0.9 * (len(latencies) - 1))],
        "first_ask_p50_ms": statistics.median(first),
        "target_p50_ms": TARGET_P50_MS,
        "load_model_s": load_model_s,
        "load_index_s": load_index_s,
        "handmade_accuracy": report["accuracy"],
        "method": report["method"],
    }


def rows(result: dict[str, Any]) -> list[str]:
    if "skipped" in result:
        return ["| `vodqa ask` latency |", "|---|", f"| skipped: {result['skipped']} |"]
    return [
        "| `vodqa ask` (K = 8 passages, 4 options) | p50 ms | p90 ms | first ask p50 ms | target | load model s | load index s | hand-made accuracy |",
        "|---|---|---|---|---|---|---|---|",
        f"| default checkpoint ({result['method']}), {result['threads']} threads | {result['p50_ms']:.0f} "
        f"| {result['p90_ms']:.0f} | {result['first_ask_p50_ms']:.0f} | p50 <= {result['target_p50_ms']:.0f} "
        f"| {result['load_model_s']:.1f} "
        f"| {result['load_index_s']:.1f} | {result['handmade_accuracy']:.1%} ({result['questions']} q) |",
    ]


def main(argv: list[str] | None = None) -> int:
    """`PYTHONPATH=apps python -m bench.vodqa_ask [--checkpoint CKPT --index IDX]`: print the result as JSON."""
    parser = argparse.ArgumentParser(prog="bench.vodqa_ask", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    result = run(args.out, threads=args.threads, checkpoint=args.checkpoint, index_dir=args.index)
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
