"""The cached retrieval candidates of the questions: top-P passage ids and scores f_r per question, from the
question's option pool or from the whole corpus.

vod: f_r is the index's hybrid score (dense cosine / tau + w * BM25, `vodqa.index`), the cached sampling
distribution of the VOD objective, recomputed whenever the corpus is re-indexed. frozen-dense: cosine / tau of
the untuned encoder. bm25: the BM25 score. Rows shorter than P (ids -1) get a score 30 nats below the row's
minimum, so they are (almost) never drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from vcore.io.atomic import atomic_file
from vodqa import encoder as enc
from vodqa.index import Candidates, Index

PAD_GAP = 30.0


@dataclass
class CandidateCache:
    """ids [Q, P] int64 rows of the index, scores [Q, P] float32 f_r, sparse [Q, P] the w * BM25 part of f_theta."""

    ids: np.ndarray
    scores: np.ndarray
    sparse: np.ndarray

    def save(self, path: Path) -> None:
        with atomic_file(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, ids=self.ids, scores=self.scores, sparse=self.sparse)

    @classmethod
    def load(cls, path: Path) -> CandidateCache:
        with np.load(path) as data:
            return cls(ids=data["ids"], scores=data["scores"], sparse=data["sparse"])


def _pad(ids: np.ndarray, scores: np.ndarray, sparse: np.ndarray | None = None) -> CandidateCache:
    ids = ids.astype(np.int64)
    scores = scores.astype(np.float32).copy()
    missing = ids < 0
    if missing.any():
        valid_min = np.where(missing, np.inf, scores).min(axis=1, keepdims=True)
        valid_min = np.where(np.isfinite(valid_min), valid_min, 0.0)
        scores = np.where(missing, valid_min - PAD_GAP, scores)
        ids = np.where(missing, 0, ids)
    sparse = np.zeros_like(scores) if sparse is None else np.where(missing, 0.0, sparse).astype(np.float32)
    return CandidateCache(ids=ids, scores=scores, sparse=sparse)


def _finite_parts(found: Candidates) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, cosine, BM25) with the padded slots' -inf scores set to 0 (`_pad` replaces those slots)."""
    ids = np.asarray(found.ids)
    real = ids >= 0
    return ids, np.where(real, found.dense, 0.0), np.where(real, found.bm25, 0.0)


def compute_candidates(
    index: Index,
    questions: Sequence[str],
    *,
    options: Sequence[Sequence[str]] | None = None,
    method: str,
    retriever: nn.Module,
    top_p: int,
    temperature: float,
    bm25_weight: float = 0.0,
    query_max_length: int = 64,
    progress: bool = False,
) -> CandidateCache:
    """Top-P candidates per question under `method` (vod | frozen-dense | bm25).

    With `options` (one list per question) the candidates are the top P of each question's option pool
    (`Index.option_candidates`), scored by the same f_r as corpus-wide candidates.
    """
    top_p = min(top_p, len(index.passages))
    if options is not None:
        if method == "bm25":
            vectors = np.zeros((len(questions), index.dim), dtype=np.float32)
        else:
            vectors = enc.embed(
                retriever,
                enc.load_tokenizer(),
                list(questions),
                max_length=query_max_length,
                progress=progress,
            )
        found = index.option_candidates(list(questions), vectors, options, top_p)
        ids, dense, bm25 = _finite_parts(found)
        if method == "bm25":
            return _pad(ids, bm25)
        if method == "frozen-dense":
            return _pad(ids, dense / temperature)
        return _pad(ids, dense / temperature + bm25_weight * bm25, bm25_weight * bm25)
    if method == "bm25":
        scores, ids = index.search_bm25(list(questions), top_p)
        return _pad(ids, scores)
    vectors = enc.embed(
        retriever, enc.load_tokenizer(), list(questions), max_length=query_max_length, progress=progress
    )
    if method == "frozen-dense":
        scores, ids = index.search_dense(vectors, top_p)
        return _pad(ids, scores / temperature)
    ids, dense, bm25 = _finite_parts(index.candidates(list(questions), vectors, top_p))
    return _pad(ids, dense / temperature + bm25_weight * bm25, bm25_weight * bm25)
