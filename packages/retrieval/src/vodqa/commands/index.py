"""`vodqa index wordnet|foldoc|corpus.jsonl -o IDX [--faiss Flat|HNSW32|IVF1024,Flat]`: build a retrieval index.

Loads the corpus (`vodqa.corpus.load_corpus`), encodes every passage with all-MiniLM-L6-v2 (or with the
retriever of `--checkpoint`), fills the FAISS and BM25 indexes and writes the folder IDX atomically
(layout in `vodqa.index.store`). Prints the number of passages, the seconds and passages/s.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from vcore.cli_support import configure_logging
from vcore.errors import UserError


def quiet_libraries() -> None:
    """Keep faiss's loader messages (one INFO line per CPU feature it probes) out of the CLI's stderr."""
    import logging

    logging.getLogger("faiss.loader").setLevel(logging.WARNING)


def set_threads(threads: int | None) -> None:
    """Use `threads` CPU threads in torch and faiss (None: leave the libraries' defaults)."""
    if threads is None:
        return
    if threads < 1:
        raise UserError(f"--threads must be at least 1, got {threads}")
    import faiss
    import torch

    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)


def load_encoder(checkpoint: Path | None, device: str) -> tuple[Any, str | None]:
    """The passage/query encoder and its name: all-MiniLM-L6-v2, or the retriever of a checkpoint."""
    import torch

    if device != "cpu" and not (device.startswith("cuda") and torch.cuda.is_available()):
        raise UserError(f"--device {device}: torch sees no such device (use cpu, or cuda on a GPU machine)")
    if checkpoint is None:
        from vodqa.encoder import BASE_ENCODER, load_base_model

        base: torch.nn.Module = load_base_model()
        return base.to(device), BASE_ENCODER
    from vodqa.model.checkpoint import load_retriever_encoder  # the hook for trained retrievers

    return load_retriever_encoder(checkpoint).to(device).eval(), f"checkpoint:{checkpoint.resolve().name}"


def index_command(
    source: Annotated[str, typer.Argument(help="wordnet, foldoc or a corpus .jsonl file")],
    out: Annotated[Path, typer.Option("--out", "-o", help="index folder to write")],
    faiss_spec: Annotated[
        str, typer.Option("--faiss", help="faiss index factory string: Flat, HNSW32, IVF1024,Flat ...")
    ] = "Flat",
    passage_words: Annotated[
        int, typer.Option("--passage-words", help="words per passage of long texts")
    ] = 100,
    stride: Annotated[int, typer.Option("--stride", help="words between passage starts")] = 75,
    limit: Annotated[int | None, typer.Option("--limit", help="index only the first N passages")] = None,
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", help="encode with this checkpoint's retriever")
    ] = None,
    ef_search: Annotated[
        int | None, typer.Option("--ef-search", help="HNSW efSearch stored in the index")
    ] = None,
    nprobe: Annotated[int | None, typer.Option("--nprobe", help="IVF nprobe stored in the index")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="passages per encoder batch")] = 128,
    max_length: Annotated[int, typer.Option("--max-length", help="encoder tokens per passage")] = 128,
    precision: Annotated[
        str, typer.Option("--precision", help="auto (bf16 where native), fp32 or bf16")
    ] = "auto",
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads (torch and faiss)")] = None,
    device: Annotated[str, typer.Option("--device", help="cpu or cuda (encoder)")] = "cpu",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    json_out: Annotated[bool, typer.Option("--json", help="print a JSON summary")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
) -> None:
    """Build a dense (FAISS) + sparse (BM25) retrieval index over a corpus."""
    configure_logging(quiet)
    quiet_libraries()
    if limit is not None and limit < 1:
        raise UserError(f"--limit must be at least 1, got {limit}")
    if batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {batch_size}")
    if max_length < 8:
        raise UserError(f"--max-length must be at least 8, got {max_length}")
    if precision not in ("auto", "fp32", "bf16"):
        raise UserError(f"--precision must be auto, fp32 or bf16, got {precision!r}")
    if checkpoint is not None and not checkpoint.is_dir():
        raise UserError(f"{checkpoint}: no such checkpoint folder")
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    set_threads(threads)
    from vcore.seed import seed_everything
    from vodqa.corpus import load_corpus
    from vodqa.encoder import load_tokenizer
    from vodqa.index import build_index

    seed_everything(seed)
    start = time.perf_counter()
    passages = load_corpus(source, passage_words, stride)
    if limit is not None:
        passages = passages[:limit]
    model, name = load_encoder(checkpoint, device)
    params = {key: v for key, v in (("efSearch", ef_search), ("nprobe", nprobe)) if v is not None}
    build_index(
        passages,
        out,
        model=model,
        tokenizer=load_tokenizer(),
        faiss_spec=faiss_spec,
        source=source,
        batch_size=batch_size,
        progress=not quiet and not json_out,
        faiss_params=params,
        encoder_name=name,
        precision=precision,
        max_length=max_length,
    )
    seconds = time.perf_counter() - start
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    build = config["build"]
    summary = {
        "index": str(out),
        "source": source,
        "passages": len(passages),
        "seconds": round(seconds, 2),
        "passages_per_second": round(len(passages) / seconds, 1),
        "encode_passages_per_second": build["passages_per_second"],
        "faiss": faiss_spec,
        "faiss_params": config["faiss_params"],
        "faiss_train_seconds": build["faiss_train_seconds"],
        "faiss_add_seconds": build["faiss_add_seconds"],
        "encoder": config["encoder"],
    }
    if json_out:
        typer.echo(json.dumps(summary, indent=2))
    elif not quiet:
        typer.echo(
            f"indexed {len(passages)} passages from {source} into {out} in {seconds:.1f} s "
            f"({len(passages) / seconds:.1f} passages/s; encoding {build['passages_per_second']:.1f} passages/s, "
            f"faiss {faiss_spec} train {build['faiss_train_seconds']:.2f} s + add {build['faiss_add_seconds']:.2f} s)"
        )
