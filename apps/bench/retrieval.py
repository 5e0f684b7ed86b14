"""Retrieval over all of WordNet (117,659 passages): index build speed, and batch search queries/s and recall.

- Build: the WordNet index (all-MiniLM-L6-v2, `vodqa.index.build_index`, Flat) is built once and cached under
  `<out>/retrieval-cache/`, keyed by a fingerprint of the passages, the encoder weights, max_length and
  precision. Encoding passages/s, FAISS train and add seconds are timed apart (from the build that made the
  cache; `cached` says whether this run reused it).
- Queries: real text, not random vectors: WordNet reverse-dictionary questions
  (`vodqa.questions.wordnet_questions.generate_questions`, seed 0), embedded with the same encoder.
- Search: every query in one batch (`index.search(Q, 10)`) with `faiss.omp_set_num_threads(threads)`, timed
  interleaved (`bench.timing.time_interleaved`), for exact IndexFlatIP, HNSW32 at several efSearch and
  IVF (1024 lists, or N/39 when N is small) at several nprobe. recall@10 = |top-10 ∩ exact top-10| / 10,
  averaged over queries. Target: >= 5,000 queries/s at recall@10 >= 0.95 on 2 threads.
- Also: hit@10 of each question's gold passage (dense Flat and HNSW32, BM25, hybrid with HNSW32 dense) on a
  random subset of the questions, where the QA system starts from; BM25 and hybrid candidates queries/s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import torch

from bench.timing import time_interleaved

logger = logging.getLogger(__name__)

K = 10
EF_VALUES = (16, 24, 32, 48, 64, 96, 128)
NPROBE_VALUES = (4, 8, 16, 32, 64)
RECALL_TARGET = 0.95
QPS_TARGET = 5000.0
MAX_LENGTH = 128
PRECISION = "auto"


def _fingerprint(passages: list[Any], encoder_fp: str) -> str:
    digest = hashlib.sha256(f"{encoder_fp}|{MAX_LENGTH}|{PRECISION}|".encode())
    for p in passages:
        digest.update(f"{p.id}\t{p.title}\t{p.text}\n".encode())
    return digest.hexdigest()[:16]


def _wordnet_index(cache: Path, limit: int | None) -> tuple[Any, dict[str, Any], Any, bool]:
    """The cached (or freshly built) Flat index over WordNet, its build timings, the synsets, cached?"""
    from vodqa.corpus.wordnet import load_wordnet, wordnet_passages
    from vodqa.encoder import load_base_model, load_tokenizer, weights_fingerprint
    from vodqa.index import Index, build_index

    synsets = load_wordnet()
    passages = wordnet_passages(synsets)[:limit]
    model, tokenizer = load_base_model(), load_tokenizer()
    folder = cache / f"wordnet-{len(passages)}-{_fingerprint(passages, weights_fingerprint(model))}"
    cached = (folder / "config.json").is_file()
    if not cached:
        logger.info("building the WordNet index (%d passages) into %s", len(passages), folder)
        build_index(
            passages, folder, model=model, tokenizer=tokenizer, source="wordnet", progress=True,
            precision=PRECISION, max_length=MAX_LENGTH, encoder_name="sentence-transformers/all-MiniLM-L6-v2",
        )  # fmt: skip
    index = Index.load(folder)
    return index, index.config["build"], synsets, cached


def _queries(
    cache: Path, index: Any, synsets: Any, num_queries: int
) -> tuple[list[str], list[str | None], np.ndarray, float]:
    """Question texts, gold passage ids and their embeddings (cached next to the index), embedding q/s."""
    path = cache / f"{index.path.name}-queries-{num_queries}.npz"
    if path.is_file():
        saved = np.load(path, allow_pickle=False)
        return list(saved["texts"]), [g or None for g in saved["gold"]], saved["vectors"], float(saved["qps"])
    from vcore.io.atomic import atomic_write_bytes
    from vodqa.encoder import embed, load_base_model, load_tokenizer
    from vodqa.questions.wordnet_questions import generate_questions

    known = {p.id for p in index.passages}
    questions = [q for q in generate_questions(synsets, seed=0) if q.gold in known]
    rng = np.random.default_rng(0)
    questions = [
        questions[i]
        for i in sorted(rng.choice(len(questions), min(num_queries, len(questions)), replace=False))
    ]
    texts = [q.question for q in questions]
    model, tokenizer = load_base_model(), load_tokenizer()
    start = time.perf_counter()
    vectors = embed(model, tokenizer, texts, max_length=MAX_LENGTH, precision=PRECISION, progress=True)
    qps = len(texts) / (time.perf_counter() - start)
    import io

    buffer = io.BytesIO()
    gold = np.asarray([q.gold or "" for q in questions], dtype=str)
    np.savez(buffer, texts=np.asarray(texts, dtype=str), gold=gold, vectors=vectors, qps=np.float64(qps))
    atomic_write_bytes(path, buffer.getvalue())
    return texts, [q.gold for q in questions], vectors, qps


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


def _hit_at_k(ids: np.ndarray, gold_rows: np.ndarray) -> float:
    return float(np.mean([(row == g).any() for row, g in zip(ids, gold_rows, strict=True)]))


def run(
    out: Path = Path("bench-results"),
    *,
    limit: int | None = None,
    threads: int = 2,
    num_queries: int = 5000,
    rounds: int = 3,
    hybrid_queries: int = 1000,
) -> dict[str, Any]:
    """Build (or reuse) the WordNet index, then time batch search of Flat, HNSW32 and IVF (module docstring)."""
    from vodqa.index.faiss_factory import DEFAULT_EF_SEARCH, DEFAULT_NPROBE, build_faiss

    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)
    cache = out / "retrieval-cache"
    index, build, synsets, cached = _wordnet_index(cache, limit)
    texts, gold, queries, embed_qps = _queries(cache, index, synsets, num_queries)
    n = len(index.passages)
    flat = index.dense
    vectors = flat.reconstruct_n(0, n)

    hnsw, _, hnsw_add = build_faiss(vectors, "HNSW32", {"efSearch": DEFAULT_EF_SEARCH})
    lists = min(1024, max(1, n // 39))
    ivf_spec = f"IVF{lists},Flat"
    ivf, ivf_train, ivf_add = build_faiss(vectors, ivf_spec, {"nprobe": DEFAULT_NPROBE})
    hnsw_space, ivf_space = faiss.ParameterSpace(), faiss.ParameterSpace()

    def searcher(idx: Any, space: Any = None, name: str = "", value: int = 0) -> Any:
        def go() -> Any:
            if space is not None:
                space.set_index_parameter(idx, name, value)
            return idx.search(queries, K)

        return go

    contenders = {"Flat": searcher(flat)}
    contenders.update(
        {f"HNSW32 efSearch={ef}": searcher(hnsw, hnsw_space, "efSearch", ef) for ef in EF_VALUES}
    )
    contenders.update(
        {f"{ivf_spec} nprobe={p}": searcher(ivf, ivf_space, "nprobe", p) for p in NPROBE_VALUES}
    )
    _, truth = flat.search(queries, K)
    results: dict[str, dict[str, Any]] = {}
    for name, fn in contenders.items():
        _, ids = fn()
        results[name] = {"recall_at_10": _recall(ids, truth)}
    seconds = time_interleaved(contenders, rounds=rounds, calls_per_round=1, warmup=1)
    for name, secs in seconds.items():
        results[name]["queries_per_second"] = len(queries) / secs
        results[name]["seconds"] = secs

    def best(prefix: str) -> dict[str, Any] | None:
        ok = [
            (name, r)
            for name, r in results.items()
            if name.startswith(prefix) and r["recall_at_10"] >= RECALL_TARGET
        ]
        return None if not ok else {"setting": ok[0][0], **ok[0][1]}  # sweeps are in increasing cost

    row_of = {p.id: i for i, p in enumerate(index.passages)}
    gold_rows = np.asarray([row_of.get(g or "", -2) for g in gold])
    m = min(hybrid_queries, len(texts))
    subset = np.sort(
        np.random.default_rng(0).choice(len(texts), m, replace=False)
    )  # questions are sorted by pos
    sub_texts, sub_vectors, sub_gold = [texts[i] for i in subset], queries[subset], gold_rows[subset]
    hnsw_space.set_index_parameter(hnsw, "efSearch", DEFAULT_EF_SEARCH)
    index.dense = hnsw  # the hybrid candidates as training uses them: HNSW32 at the default efSearch
    _, hnsw_ids = hnsw.search(sub_vectors, K)
    start = time.perf_counter()
    _, bm25_ids = index.search_bm25(sub_texts, K)
    bm25_qps = m / (time.perf_counter() - start)
    start = time.perf_counter()
    cand = index.candidates(sub_texts, sub_vectors, K)
    hybrid_qps = m / (time.perf_counter() - start)
    index.dense = flat
    return {
        "index_dir": str(index.path),
        "passages": n,
        "queries": len(queries),
        "query_source": "WordNet reverse-dictionary questions (generate_questions, seed 0)",
        "threads": threads,
        "k": K,
        "build": {
            "cached": cached,
            "encode_passages_per_second": build["passages_per_second"],
            "encode_threads": build["threads"],
            "encode_seconds": build["encode_seconds"],
            "precision": build["precision"],
            "flat_add_seconds": build["faiss_add_seconds"],
            "hnsw32_add_seconds": hnsw_add,
            "ivf_spec": ivf_spec,
            "ivf_train_seconds": ivf_train,
            "ivf_add_seconds": ivf_add,
            "bm25_seconds": build["bm25_seconds"],
        },
        "query_embedding_per_second": embed_qps,
        "search": results,
        "hnsw_smallest_ef_at_target": best("HNSW32"),
        "ivf_smallest_nprobe_at_target": best(ivf_spec),
        "defaults": {"efSearch": DEFAULT_EF_SEARCH, "nprobe": DEFAULT_NPROBE},
        "gold_hit_at_10": {
            "questions": m,
            "dense Flat": _hit_at_k(truth[subset], sub_gold),
            f"dense HNSW32 ef={DEFAULT_EF_SEARCH}": _hit_at_k(hnsw_ids, sub_gold),
            "bm25": _hit_at_k(bm25_ids, sub_gold),
            "hybrid": _hit_at_k(cand.ids, sub_gold),
        },
        "bm25_queries_per_second": bm25_qps,
        "hybrid_candidates_per_second": hybrid_qps,
    }


def rows(result: dict[str, Any]) -> list[str]:
    """Markdown rows: build speed, then queries/s and recall@10 of every index setting."""
    b = result["build"]
    lines = [
        f"| WordNet retrieval ({result['passages']} passages, {result['queries']} questions, "
        f"{result['threads']} threads, k={result['k']}) | queries/s | recall@10 vs Flat | target |",
        "|---|---|---|---|",
    ]
    chosen = {(result.get("hnsw_smallest_ef_at_target") or {}).get("setting")}
    chosen.add((result.get("ivf_smallest_nprobe_at_target") or {}).get("setting"))
    for name, r in result["search"].items():
        mark = " **(smallest at target)**" if name in chosen else ""
        target = (
            "exact reference" if name == "Flat" else f">= {QPS_TARGET:.0f} q/s at recall >= {RECALL_TARGET}"
        )
        lines.append(f"| {name}{mark} | {r['queries_per_second']:.0f} | {r['recall_at_10']:.3f} | {target} |")
    lines += [
        "",
        "| index build | value |",
        "|---|---|",
        f"| encoding ({b['precision']}, {b['encode_threads']} threads{', cached' if b['cached'] else ''}) "
        f"| {b['encode_passages_per_second']:.0f} passages/s ({b['encode_seconds']:.0f} s) |",
        f"| Flat add | {b['flat_add_seconds']:.2f} s |",
        f"| HNSW32 add | {b['hnsw32_add_seconds']:.1f} s |",
        f"| {b['ivf_spec']} train + add | {b['ivf_train_seconds']:.1f} s + {b['ivf_add_seconds']:.1f} s |",
        f"| BM25 index | {b['bm25_seconds']:.1f} s |",
        f"| query embedding | {result['query_embedding_per_second']:.0f} queries/s |",
        f"| BM25 search / hybrid candidates (HNSW32 dense) | {result['bm25_queries_per_second']:.0f} / "
        f"{result['hybrid_candidates_per_second']:.0f} queries/s |",
        f"| gold passage hit@10 ({result['gold_hit_at_10']['questions']} random questions) | "
        + ", ".join(f"{name} {v:.3f}" for name, v in result["gold_hit_at_10"].items() if name != "questions")
        + " |",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.retrieval", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument("--limit", type=int, default=None, help="first N WordNet passages (quick check)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for name in ("faiss.loader", "bm25s"):
        logging.getLogger(name).setLevel(logging.WARNING)
    result = run(
        args.out, limit=args.limit, threads=args.threads, num_queries=args.queries, rounds=args.rounds
    )
    from vcore.io.atomic import atomic_write_text

    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "retrieval.json", json.dumps(result, indent=2) + "\n")
    markdown = "\n".join(rows(result)) + "\n"
    atomic_write_text(args.out / "retrieval.md", markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
