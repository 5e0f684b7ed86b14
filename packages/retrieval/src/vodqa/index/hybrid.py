"""Hybrid candidates: the cached sampling distribution of the VOD objective.

Variational Open-Domain QA (Liévin, Motzfeldt, Hother & Winther 2023, ICML) draws the passages of each
question from a cached proposal over a fixed candidate set instead of the whole corpus. Here the
candidates of a question q are the union of its dense top-k and its BM25 top-k, scored by

    s(q, d) = cos(E(q), E(d)) / dense_temperature + bm25_weight * bm25(q, d)

(defaults: dense_temperature 0.05, bm25_weight 1.0, stored in the index config under "hybrid"), and the k
best of the union by s are kept. Both terms are computed exactly for every candidate: the cosine as the dot
product with the stored passage embedding, the BM25 score from the full BM25 score vector, whichever of
the two retrievers proposed the passage. With bm25_weight 1.0 the gold passage of 600 WordNet questions
was in the hybrid top 10 for 79.8% of them (BM25 alone 80.9%, dense alone 65.4%, bm25_weight 0.1 72.2%;
`make bench`), so BM25 weighs as much as a 0.05 step of cosine.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

DEFAULT_HYBRID = {"dense_temperature": 0.05, "bm25_weight": 1.0}


class Candidates(NamedTuple):
    """Top-k hybrid candidates per query, best first; rows padded with id -1 and score -inf."""

    ids: np.ndarray  # [Q, k] int64 passage row ids
    scores: np.ndarray  # [Q, k] float32 hybrid score s(q, d)
    dense: np.ndarray  # [Q, k] float32 cosine
    bm25: np.ndarray  # [Q, k] float32 BM25 score


def hybrid_score(
    dense: np.ndarray, bm25: np.ndarray, dense_temperature: float, bm25_weight: float
) -> np.ndarray:
    """s = dense / dense_temperature + bm25_weight * bm25, in float32."""
    return (
        np.asarray(dense, np.float32) / np.float32(dense_temperature)
        + np.float32(bm25_weight) * np.asarray(bm25, np.float32)
    ).astype(np.float32)


def empty_candidates(num_queries: int, k: int) -> Candidates:
    """Candidates with every slot padded (id -1, scores -inf)."""
    pad = np.full((num_queries, k), -np.inf, dtype=np.float32)
    return Candidates(np.full((num_queries, k), -1, dtype=np.int64), pad.copy(), pad.copy(), pad.copy())


def merge_one(
    query_vector: np.ndarray,
    dense_ids: np.ndarray,
    bm25_ids: np.ndarray,
    bm25_all: np.ndarray,
    embeddings: np.ndarray,
    k: int,
    dense_temperature: float,
    bm25_weight: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For one query: ids, hybrid, cosine and BM25 scores of the k best of the union (best first, ties by id).

    `bm25_all` [N] are the query's BM25 scores of every passage, `embeddings` [N, d] the stored ones.
    """
    union = np.union1d(dense_ids[dense_ids >= 0], bm25_ids[bm25_ids >= 0]).astype(np.int64)
    dense = embeddings[union].astype(np.float32) @ np.asarray(query_vector, np.float32)
    bm25 = bm25_all[union].astype(np.float32)
    score = hybrid_score(dense, bm25, dense_temperature, bm25_weight)
    order = np.lexsort((union, -score))[:k]
    return union[order], score[order], dense[order], bm25[order]
