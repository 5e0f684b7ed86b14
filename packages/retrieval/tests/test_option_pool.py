"""Option pools: the passages titled by a question's options (BM25 fallback), ranked by the hybrid score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vcore.errors import UserError
from vodqa.corpus.passage import Passage
from vodqa.encoder import embed, load_base_model, load_tokenizer
from vodqa.index import Index, build_index, hybrid_score
from vodqa.index.option_pool import TitleLookup, option_pool
from vodqa.model.qa_model import VodQAConfig

PASSAGES = [
    Passage("a", "dog, domestic dog", "(noun) a member of the genus Canis kept as a pet"),
    Passage("b", "dog", "(verb) go after with the intent to catch"),
    Passage("c", "Cat", "(noun) a small domesticated feline"),
    Passage("d", "violin, fiddle", "(noun) a bowed string instrument"),
    Passage("e", "trumpet", "(noun) a brass instrument with valves"),
    Passage("f", "lighthouse", "(noun) a tower with a light that warns ships of rocks"),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    return Index.load(build_index(PASSAGES, tmp_path_factory.mktemp("pool") / "idx"))


def test_title_lookup_splits_titles_and_ignores_case() -> None:
    lookup = TitleLookup(PASSAGES)
    assert lookup("dog") == [0, 1]
    assert lookup("Domestic Dog ") == [0]
    assert lookup("cat") == [2]
    assert lookup("fiddle") == [3]
    assert lookup("piano") == []


def test_pool_is_the_union_with_a_bm25_fallback(index: Index) -> None:
    lookup = TitleLookup(PASSAGES)
    calls: list[str] = []

    def search(queries: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        calls.extend(queries)
        return index.search_bm25(queries, k)

    pool = option_pool(lookup, ["cat", "dog"], search)
    assert pool.tolist() == [0, 1, 2]
    assert calls == []  # every option titles a passage
    pool = option_pool(lookup, ["fiddle", "ships warning tower"], search, fallback=1)
    assert pool.tolist() == [3, 5]  # the untitled option brings its best BM25 passage
    assert calls == ["ships warning tower"]
    assert option_pool(lookup, ["zzz"], search).tolist() == []  # no title, no shared term


def test_option_candidates_rank_only_the_pool_by_the_hybrid_score(index: Index) -> None:
    model, tok = load_base_model(), load_tokenizer()
    queries = ["a pet that barks", "instrument played with a bow"]
    vectors = embed(model, tok, queries)
    found = index.option_candidates(queries, vectors, [["dog", "cat"], ["violin", "trumpet"]], k=4)
    assert set(found.ids[0][:3].tolist()) == {0, 1, 2}
    assert found.ids[0][3] == -1  # a pool of 3: the 4th slot is padding
    assert set(found.ids[1][:2].tolist()) == {3, 4}
    assert found.ids[1][0] == 3
    for row in range(2):
        n = int((found.ids[row] >= 0).sum())
        ids = found.ids[row][:n]
        dense = index.embeddings[ids] @ vectors[row]
        np.testing.assert_allclose(found.dense[row][:n], dense, rtol=1e-5, atol=1e-6)
        bm25 = index.bm25_scores(queries[row])[ids]
        np.testing.assert_allclose(found.bm25[row][:n], bm25, rtol=1e-6)
        np.testing.assert_allclose(found.scores[row][:n], hybrid_score(dense, bm25, 0.05, 1.0), rtol=1e-5)
        assert np.all(np.diff(found.scores[row][:n]) <= 0)
    with pytest.raises(UserError, match="option lists"):
        index.option_candidates(queries, vectors, [["dog"]], k=2)


def test_partial_reembedding_touches_only_the_pool_and_is_not_saved(tmp_path: Path) -> None:
    index = Index.load(build_index(PASSAGES, tmp_path / "idx"))
    model, tok = load_base_model(), load_tokenizer()
    before = index.embeddings.copy()
    for param in model.encoder.layer[-1].parameters():
        param.data.mul_(0.5)
    index.reembed(model, tok, rows=np.array([1, 4]))
    after = index.embeddings
    assert np.array_equal(after[[0, 2, 3, 5]], before[[0, 2, 3, 5]])
    assert not np.allclose(after[[1, 4]], before[[1, 4]], atol=1e-3)
    with pytest.raises(UserError, match="in part"):
        index.save(tmp_path / "partial")


def test_pool_setting_is_checked() -> None:
    assert VodQAConfig().pool == "options"
    assert VodQAConfig(pool="corpus").pool == "corpus"
    with pytest.raises(UserError, match="pool"):
        VodQAConfig(pool="everything")
