"""`vodqa search IDX "query" -k 10 [--mode hybrid|dense|bm25] [--json]`: the top-k passages of a query.

Prints rank, score, passage id, title and text (text cut to the terminal width; full in JSON). With
`--queries FILE` (one query a line) every query is searched in one batch and printed as one JSON line.
Scores: dense = cosine, bm25 = BM25, hybrid = cosine / dense_temperature + bm25_weight * BM25 (the VOD
sampling score, `vodqa.index.hybrid`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from vcore.cli_support import configure_logging
from vcore.errors import UserError

MODES = ("hybrid", "dense", "bm25")


def read_queries(path: Path) -> list[str]:
    """One query a line; UserError for a missing file, an empty line or no query at all."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise UserError(f"{path}: no such queries file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot read queries ({err})") from None
    queries = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise UserError(f"{path}:{number}: empty query")
        queries.append(line.strip())
    if not queries:
        raise UserError(f"{path}: no queries in the file")
    return queries


def _query_encoder(index: Any, checkpoint: Path | None, device: str) -> tuple[Any, Any]:
    """The encoder the index was built with (checked by fingerprint) and the tokenizer."""
    from vodqa.commands.index import load_encoder
    from vodqa.encoder import load_tokenizer, weights_fingerprint
    from vodqa.index import check_encoder

    model, _ = load_encoder(checkpoint, device)
    if checkpoint is not None:
        check_encoder(index, model)
    else:
        built, base = index.config["encoder"].get("fingerprint"), weights_fingerprint(model)
        if built != base:
            raise UserError(
                f"{index.path}: built with encoder {built} ({index.config['encoder'].get('name')}), not the base "
                f"all-MiniLM-L6-v2 ({base}); pass the --checkpoint it was built with"
            )
    return model, load_tokenizer()


def _results(
    index: Any, mode: str, queries: list[str], vectors: np.ndarray | None, k: int
) -> list[list[dict[str, Any]]]:
    if mode == "bm25":
        scores, ids = index.search_bm25(queries, k)
        extra: dict[str, np.ndarray] = {}
    elif mode == "dense":
        scores, ids = index.search_dense(vectors, k)
        extra = {}
    else:
        cand = index.candidates(queries, vectors, k)
        scores, ids = cand.scores, cand.ids
        extra = {"dense": cand.dense, "bm25": cand.bm25}
    out = []
    for row in range(len(queries)):
        hits = []
        for col in range(k):
            i = int(ids[row, col])
            if i < 0:
                break
            p = index.passages[i]
            hit = {
                "rank": col + 1,
                "score": float(scores[row, col]),
                "id": p.id,
                "title": p.title,
                "text": p.text,
            }
            hit.update({name: float(values[row, col]) for name, values in extra.items()})
            hits.append(hit)
        out.append(hits)
    return out


def _print_table(query: str, mode: str, hits: list[dict[str, Any]]) -> None:
    width = shutil.get_terminal_size((120, 24)).columns
    typer.echo(f"{mode} top-{len(hits)} for {query!r}:")
    for hit in hits:
        head = f"{hit['rank']:>3}  {hit['score']:9.4f}  {hit['id']}  {hit['title']}: "
        room = max(20, width - len(head))
        text = hit["text"] if len(hit["text"]) <= room else hit["text"][: room - 3] + "..."
        typer.echo(head + text)


def search_command(
    index: Annotated[Path, typer.Argument(help="index folder from `vodqa index`")],
    query: Annotated[str | None, typer.Argument(help="the query (or use --queries FILE)")] = None,
    k: Annotated[int, typer.Option("-k", help="passages to return")] = 10,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or bm25")] = "hybrid",
    queries_file: Annotated[
        Path | None, typer.Option("--queries", help="file with one query a line; prints JSON lines")
    ] = None,
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", help="checkpoint whose retriever built the index")
    ] = None,
    ef_search: Annotated[
        int | None, typer.Option("--ef-search", help="HNSW efSearch for this search")
    ] = None,
    nprobe: Annotated[int | None, typer.Option("--nprobe", help="IVF nprobe for this search")] = None,
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads (torch and faiss)")] = None,
    device: Annotated[str, typer.Option("--device", help="cpu, or cuda (needs faiss GPU support)")] = "cpu",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="log warnings only")] = False,
) -> None:
    """Search an index: dense (cosine), BM25, or their hybrid (the VOD sampling score)."""
    configure_logging(quiet)
    from vodqa.commands.index import quiet_libraries

    quiet_libraries()
    if mode not in MODES:
        raise UserError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    if k < 1:
        raise UserError(f"-k must be at least 1, got {k}")
    if (query is None) == (queries_file is None):
        raise UserError("give either a query or --queries FILE (not both)")
    if query is not None and not query.strip():
        raise UserError("the query is empty")
    queries = read_queries(queries_file) if queries_file is not None else [str(query).strip()]
    from vcore.seed import seed_everything
    from vodqa.commands.index import set_threads
    from vodqa.index import Index

    seed_everything(seed)
    set_threads(threads)
    idx = Index.load(index, device=device)
    idx.set_search_params(ef_search=ef_search, nprobe=nprobe)
    vectors = None
    if mode != "bm25":
        from vodqa.encoder import embed

        model, tokenizer = _query_encoder(idx, checkpoint, "cpu" if device == "cpu" else device)
        vectors = embed(model, tokenizer, queries, max_length=int(idx.config.get("max_length", 128)))
    results = _results(idx, mode, queries, vectors, k)
    if queries_file is not None:
        for q, hits in zip(queries, results, strict=True):
            typer.echo(json.dumps({"query": q, "mode": mode, "k": k, "results": hits}, ensure_ascii=False))
    elif json_out:
        typer.echo(
            json.dumps(
                {"query": queries[0], "mode": mode, "k": k, "results": results[0]},
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        _print_table(queries[0], mode, results[0])
