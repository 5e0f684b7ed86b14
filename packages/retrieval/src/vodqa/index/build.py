"""Build a retrieval index folder from passages: encode, fill FAISS, index BM25, write atomically.

The layout is described in `vodqa.index.store`. Timings of the three stages go to config["build"] so the
benchmark (apps/bench/retrieval.py) can report encoding passages/s and FAISS train/add seconds apart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from vcore.errors import UserError
from vodqa.corpus.passage import Passage, passage_text
from vodqa.index import bm25 as bm25_mod
from vodqa.index import faiss_factory
from vodqa.index.hybrid import DEFAULT_HYBRID
from vodqa.index.store import FORMAT, VERSION, write_index_folder

logger = logging.getLogger(__name__)


def build_index(
    passages: Sequence[Passage],
    out: Path,
    *,
    model: torch.nn.Module | None = None,
    tokenizer: Any = None,
    faiss_spec: str = "Flat",
    source: str = "",
    batch_size: int = 128,
    progress: bool = False,
    faiss_params: dict[str, int] | None = None,
    encoder_name: str | None = None,
    precision: str = "auto",
    max_length: int = 128,
) -> Path:
    """Write the index folder `out` for `passages`; `model` None means all-MiniLM-L6-v2. Returns `out`."""
    from vodqa.encoder import BASE_ENCODER, embed, load_base_model, load_tokenizer, weights_fingerprint

    passages = list(passages)
    if not passages:
        raise UserError(f"{source or 'corpus'}: no passages to index")
    seen: set[str] = set()
    for p in passages:
        if p.id in seen:
            raise UserError(f"{source or 'corpus'}: passage id {p.id!r} appears more than once")
        seen.add(p.id)
    if model is None:
        model = load_base_model()
        encoder_name = encoder_name or BASE_ENCODER
    tokenizer = tokenizer if tokenizer is not None else load_tokenizer()
    dim = int(getattr(getattr(model, "config", None), "hidden_size", 384))
    faiss_factory.check_spec(faiss_spec, dim, len(passages))  # before the expensive part
    params = {**faiss_factory.default_params(faiss_spec, dim), **(faiss_params or {})}

    texts = [passage_text(p) for p in passages]
    start = time.perf_counter()
    vectors = embed(
        model,
        tokenizer,
        texts,
        batch_size=batch_size,
        max_length=max_length,
        precision=precision,
        progress=progress,
    )
    encode_s = time.perf_counter() - start
    logger.info(
        "encoded %d passages in %.1f s (%.0f passages/s)", len(texts), encode_s, len(texts) / encode_s
    )
    dense, train_s, add_s = faiss_factory.build_faiss(vectors, faiss_spec, params)
    start = time.perf_counter()
    bm25 = bm25_mod.build_bm25(texts)
    bm25_s = time.perf_counter() - start
    config: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "encoder": {"name": encoder_name or "custom", "fingerprint": weights_fingerprint(model)},
        "faiss": faiss_spec,
        "faiss_params": params,
        "num_passages": len(passages),
        "dim": int(vectors.shape[1]),
        "source": source,
        "hybrid": dict(DEFAULT_HYBRID),
        "bm25": dict(bm25_mod.SETTINGS),
        "max_length": max_length,
        "build": {
            "encode_seconds": round(encode_s, 3),
            "passages_per_second": round(len(texts) / max(encode_s, 1e-9), 1),
            "precision": precision,
            "threads": torch.get_num_threads(),
            "faiss_train_seconds": round(train_s, 3),
            "faiss_add_seconds": round(add_s, 3),
            "bm25_seconds": round(bm25_s, 3),
        },
    }
    return write_index_folder(Path(out), config, passages, vectors, dense, bm25)
