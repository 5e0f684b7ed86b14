"""Sparse retrieval: Okapi BM25 (Robertson & Zaragoza 2009) with bm25s (Lù 2024).

    bm25(q, d) = sum_{t in q} idf(t) * tf(t, d) / (tf(t, d) + k1 (1 - b + b |d| / avgdl)),
    idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

in bm25s's defaults: Lucene's variant (Kamphuis et al. 2020, no (k1 + 1) factor), k1 = 1.5, b = 0.75. Texts are tokenized by bm25s's own
tokenizer (lower case, words of two or more word characters) with its English stop words removed. No
stemming: bm25s stems only through PyStemmer, which would be a new dependency.

Scores are computed for every passage at once (bm25s precomputes the per-token score columns), so the
score of any passage for a query is exact, which the hybrid candidates need.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from vcore.errors import UserError

logging.getLogger("bm25s").setLevel(
    logging.NOTSET
)  # bm25s pins its logger to DEBUG on import; follow the app's

STOPWORDS = "en"
SETTINGS: dict[str, Any] = {
    "library": "bm25s",
    "tokenizer": "bm25s.tokenize",
    "stopwords": STOPWORDS,
    "stemmer": None,
    "method": "lucene",
    "k1": 1.5,
    "b": 0.75,
}


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """bm25s's tokens of each text (lower case, English stop words removed)."""
    return bm25s.tokenize(list(texts), stopwords=STOPWORDS, return_ids=False, show_progress=False)


def build_bm25(texts: Sequence[str]) -> bm25s.BM25:
    """A BM25 index over `texts` (row i of the index is text i)."""
    model = bm25s.BM25(method=SETTINGS["method"], k1=SETTINGS["k1"], b=SETTINGS["b"])
    model.index(tokenize(texts), show_progress=False)
    return model


def save_bm25(model: bm25s.BM25, folder: Path) -> None:
    """bm25s's own files into `folder` (to be placed inside an atomically written index folder)."""
    model.save(str(folder), show_progress=False)


def load_bm25(folder: Path) -> bm25s.BM25:
    """The BM25 index saved in `folder`; UserError when it is missing or unreadable."""
    if not (folder / "params.index.json").is_file():
        raise UserError(f"{folder}: BM25 index missing (no params.index.json); rebuild with `vodqa index`")
    try:
        return bm25s.BM25.load(str(folder), show_progress=False)
    except Exception as err:  # bm25s raises json, numpy and OS errors for damaged files
        raise UserError(f"{folder}: unreadable BM25 index ({type(err).__name__}: {err})") from None


def score_all(model: bm25s.BM25, query_tokens: list[str]) -> np.ndarray:
    """BM25 scores [N] (float32) of every passage for one tokenized query; zeros when no token is known."""
    ids = model.get_tokens_ids(query_tokens)
    num_docs = int(model.scores["num_docs"])
    if not ids:
        return np.zeros(num_docs, dtype=np.float32)
    return np.asarray(model.get_scores_from_ids(ids), dtype=np.float32)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Row ids of the k best passages with a positive score, best first (ties by id); fewer if fewer match."""
    hits = np.flatnonzero(scores > 0)
    if len(hits) > k:
        hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
    return hits[np.lexsort((hits, -scores[hits]))].astype(np.int64)
