"""BM25 through bm25s: scores equal Lucene's BM25 by hand (no (k1 + 1) factor), stop words dropped, top-k by score."""

from __future__ import annotations

import math

import numpy as np

from vodqa.index.bm25 import build_bm25, score_all, tokenize, top_k

DOCS = ["The aardvark eats ants", "A dog barks", "The dog chases the cat and the dog"]


def test_tokenizer_lowercases_and_drops_english_stopwords() -> None:
    assert tokenize(DOCS) == [["aardvark", "eats", "ants"], ["dog", "barks"], ["dog", "chases", "cat", "dog"]]
    assert tokenize(["the and of a"]) == [[]]


def test_scores_equal_lucene_bm25_by_hand() -> None:
    model = build_bm25(DOCS)
    # N = 3, df(dog) = 2, |d| = 3, 2, 4 tokens, avgdl = 3, k1 = 1.5, b = 0.75
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))
    d1 = idf * 1 / (1 + 1.5 * (0.25 + 0.75 * 2 / 3))
    d2 = idf * 2 / (2 + 1.5 * (0.25 + 0.75 * 4 / 3))
    np.testing.assert_allclose(score_all(model, ["dog"]), [0.0, d1, d2], rtol=1e-6)
    idf_ants = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))
    ants = idf_ants / (1 + 1.5 * (0.25 + 0.75 * 3 / 3))
    np.testing.assert_allclose(score_all(model, ["ants", "dog"]), [ants, d1, d2], rtol=1e-6)
    np.testing.assert_array_equal(score_all(model, ["zebra"]), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(score_all(model, []), [0.0, 0.0, 0.0])


def test_top_k_keeps_matching_passages_best_first() -> None:
    scores = np.array([0.0, 2.0, 0.5, 2.0, 3.0], dtype=np.float32)
    np.testing.assert_array_equal(top_k(scores, 3), [4, 1, 3])  # tie 2.0: lower id first
    np.testing.assert_array_equal(top_k(scores, 10), [4, 1, 3, 2])  # the zero-score passage is no match
    assert top_k(np.zeros(4, np.float32), 2).size == 0
