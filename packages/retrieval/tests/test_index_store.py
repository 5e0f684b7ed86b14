"""Index folders on a tiny corpus: exact dense top-k, BM25 hits, hybrid scores by the formula, round trips."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from vcore.errors import UserError
from vodqa.corpus.passage import Passage
from vodqa.encoder import embed, load_base_model, load_tokenizer, weights_fingerprint
from vodqa.index import Index, build_index, check_encoder, hybrid_score

WORDS = {
    "puppy": "a young dog",
    "kitten": "a young cat",
    "aardvark": "a nocturnal burrowing mammal of Africa that eats ants and termites",
    "spreadsheet": "a program that arranges numbers in rows and columns",
    "compiler": "a program that translates source code into machine code",
    "violin": "a bowed string instrument with four strings",
    "trumpet": "a brass wind instrument with valves",
    "oak": "a tree bearing acorns",
    "tulip": "a spring flower grown from a bulb",
    "glacier": "a slowly moving mass of ice",
    "volcano": "a mountain that erupts lava and ash",
    "bakery": "a shop where bread and cakes are baked and sold",
    "saddle": "a seat for the rider of a horse",
    "anchor": "a heavy object that holds a ship in place",
    "telescope": "an instrument that makes distant objects look nearer",
    "thermometer": "an instrument that measures temperature",
    "umbrella": "a folding canopy that protects from rain",
    "penguin": "a flightless seabird of the southern hemisphere",
    "salmon": "a fish that swims upstream to spawn",
    "ladder": "a set of rungs for climbing up or down",
}
PASSAGES = [Passage(f"w{i:02d}", title, text) for i, (title, text) in enumerate(WORDS.items())]
QUERIES = [
    "a baby dog",
    "eats ants",
    "musical instrument with strings",
    "frozen river of ice",
    "rain protection",
]


@pytest.fixture(scope="module")
def minilm() -> tuple[Any, Any]:
    return load_base_model(), load_tokenizer()


@pytest.fixture(scope="module")
def flat(minilm: tuple[Any, Any], tmp_path_factory: pytest.TempPathFactory) -> Index:
    model, tok = minilm
    out = build_index(
        PASSAGES, tmp_path_factory.mktemp("idx") / "flat", model=model, tokenizer=tok, source="tiny"
    )
    return Index.load(out)


@pytest.fixture(scope="module")
def query_vectors(minilm: tuple[Any, Any]) -> np.ndarray:
    return embed(*minilm, QUERIES)


def test_layout_and_config(flat: Index, minilm: tuple[Any, Any]) -> None:
    assert flat.path is not None
    assert {p.name for p in flat.path.iterdir()} == {
        "config.json",
        "passages.jsonl",
        "embeddings.npy",
        "dense.faiss",
        "bm25",
    }
    assert np.load(flat.path / "embeddings.npy").dtype == np.float16
    c = flat.config
    assert (c["format"], c["version"], c["faiss"], c["num_passages"], c["source"]) == (
        "vodqa-index",
        1,
        "Flat",
        20,
        "tiny",
    )
    assert c["hybrid"] == {"dense_temperature": 0.05, "bm25_weight": 1.0}
    assert c["encoder"]["fingerprint"] == weights_fingerprint(minilm[0])
    assert flat.passages == PASSAGES
    np.testing.assert_allclose(np.linalg.norm(flat.embeddings, axis=1), 1.0, atol=2e-3)


def test_flat_dense_is_exact_top_k(flat: Index, query_vectors: np.ndarray) -> None:
    vectors = flat.dense.reconstruct_n(0, flat.dense.ntotal)  # the float32 embeddings FAISS holds
    exact = query_vectors @ vectors.T
    scores, ids = flat.search_dense(query_vectors, 5)
    np.testing.assert_array_equal(ids, np.argsort(-exact, axis=1, kind="stable")[:, :5])
    np.testing.assert_allclose(scores, np.take_along_axis(exact, ids, axis=1), atol=1e-5)
    titles = [flat.passages[i].title for i in ids[:, 0]]
    assert titles == ["puppy", "aardvark", "violin", "glacier", "umbrella"]


def test_k_beyond_the_corpus_is_padded(flat: Index, query_vectors: np.ndarray) -> None:
    scores, ids = flat.search_dense(query_vectors[:1], 25)
    assert sorted(ids[0, :20]) == list(range(20))
    assert (ids[0, 20:] == -1).all()
    assert np.isneginf(scores[0, 20:]).all()
    with pytest.raises(UserError, match="k must be at least 1, got 0"):
        flat.search_dense(query_vectors, 0)
    with pytest.raises(UserError, match=r"query vectors must be \[Q, 384\]"):
        flat.search_dense(query_vectors[:, :10], 3)


def test_bm25_ranks_the_passage_with_the_term_first(flat: Index) -> None:
    scores, ids = flat.search_bm25(["termites", "instrument", "the of a"], 3)
    assert flat.passages[ids[0, 0]].title == "aardvark"
    assert (ids[0, 1:] == -1).all()  # no other passage has the term
    assert {flat.passages[i].title for i in ids[1]} <= {"violin", "trumpet", "telescope", "thermometer"}
    assert (scores[1] > 0).all()
    assert (np.diff(scores[1]) <= 0).all()
    assert (ids[2] == -1).all()  # stop words only: no match


def test_hybrid_candidates_are_the_best_of_the_union_by_the_formula(
    flat: Index, query_vectors: np.ndarray
) -> None:
    k = 4
    cand = flat.candidates(QUERIES, query_vectors, k)
    _, dense_ids = flat.search_dense(query_vectors, k)
    _, bm25_ids = flat.search_bm25(QUERIES, k)
    e16 = np.load(flat.path / "embeddings.npy").astype(np.float32)
    for row, query in enumerate(QUERIES):
        union = sorted((set(dense_ids[row]) | set(bm25_ids[row])) - {-1})
        dense = e16[union] @ query_vectors[row]
        bm25 = flat.bm25_scores(query)[union]
        s = dense / np.float32(0.05) + np.float32(1.0) * bm25
        best = [union[i] for i in np.argsort(-s, kind="stable")[:k]]
        assert list(cand.ids[row]) == best
        np.testing.assert_allclose(cand.dense[row], e16[best] @ query_vectors[row], rtol=1e-6)
        np.testing.assert_array_equal(cand.bm25[row], flat.bm25_scores(query)[best])
        np.testing.assert_array_equal(
            cand.scores[row], hybrid_score(cand.dense[row], cand.bm25[row], 0.05, 1.0)
        )
    assert cand.bm25[1, 0] > 0  # "eats ants": the aardvark passage is found by both
    everything = flat.candidates(QUERIES[:1], query_vectors[:1], 20)  # k = N: the union is the corpus
    assert sorted(everything.ids[0]) == list(range(20))
    flat.config["hybrid"] = {"dense_temperature": 1.0, "bm25_weight": 0.0}
    try:
        pure = flat.candidates(QUERIES, query_vectors, k)
        np.testing.assert_array_equal(pure.scores, pure.dense)
    finally:
        flat.config["hybrid"] = {"dense_temperature": 0.05, "bm25_weight": 1.0}


@pytest.mark.parametrize(("spec", "params"), [("HNSW32", {"efSearch": 64}), ("IVF4,Flat", {"nprobe": 4})])
def test_approximate_index_recall_one_on_tiny_corpus(
    spec: str,
    params: dict[str, int],
    minilm: tuple[Any, Any],
    flat: Index,
    query_vectors: np.ndarray,
    tmp_path: Path,
) -> None:
    model, tok = minilm
    out = build_index(
        PASSAGES, tmp_path / "idx", model=model, tokenizer=tok, faiss_spec=spec, faiss_params=params
    )
    index = Index.load(out)
    assert index.config["faiss"] == spec
    assert index.config["faiss_params"] == params
    np.testing.assert_array_equal(
        index.search_dense(query_vectors, 5)[1], flat.search_dense(query_vectors, 5)[1]
    )
    index.set_search_params(**({"ef_search": 16} if "HNSW" in spec else {"nprobe": 1}))
    assert index.config["faiss_params"] == ({"efSearch": 16} if "HNSW" in spec else {"nprobe": 1})


def test_round_trip_save_load_same_results(flat: Index, query_vectors: np.ndarray, tmp_path: Path) -> None:
    copy_path = flat.save(tmp_path / "copy")
    again = Index.load(copy_path)
    assert again.passages == flat.passages
    assert again.config == flat.config
    for a, b in zip(again.search_dense(query_vectors, 6), flat.search_dense(query_vectors, 6), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(
        again.candidates(QUERIES, query_vectors, 6), flat.candidates(QUERIES, query_vectors, 6), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def test_reembed_and_check_encoder(
    minilm: tuple[Any, Any], query_vectors: np.ndarray, tmp_path: Path
) -> None:
    model, tok = minilm
    index = Index.load(build_index(PASSAGES[:8], tmp_path / "idx", model=model, tokenizer=tok))
    check_encoder(index, model)
    tuned = copy.deepcopy(model)
    with torch.no_grad():
        tuned.encoder.layer[5].output.dense.bias += 0.05
    with pytest.raises(
        UserError,
        match=r"idx: built with encoder [0-9a-f]{16}, the checkpoint's retriever is [0-9a-f]{16}; rebuild",
    ):
        check_encoder(index, tuned)
    index.reembed(tuned, tok)
    check_encoder(index, tuned)
    np.testing.assert_allclose(
        index.embeddings, embed(tuned, tok, [f"{p.title}: {p.text}" for p in PASSAGES[:8]]), atol=2e-3
    )
    index.save()
    reloaded = Index.load(tmp_path / "idx")
    check_encoder(reloaded, tuned)
    assert reloaded.config["encoder"]["name"] == "custom"


def test_bad_index_folders(flat: Index, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such index folder"):
        Index.load(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="not an index folder"):
        Index.load(tmp_path / "file")
    with pytest.raises(UserError, match=r"not a vodqa index \(no config.json\)"):
        Index.load(tmp_path)
    assert flat.path is not None
    bad = flat.save(tmp_path / "bad")
    config = json.loads((bad / "config.json").read_text())
    (bad / "config.json").write_text("{not json")
    with pytest.raises(UserError, match="corrupt index config"):
        Index.load(bad)
    (bad / "config.json").write_text(json.dumps({**config, "format": "other-index"}))
    with pytest.raises(UserError, match="format is 'other-index', not a 'vodqa-index'"):
        Index.load(bad)
    (bad / "config.json").write_text(json.dumps({**config, "version": 2}))
    with pytest.raises(UserError, match="index version 2, this vodqa reads version 1"):
        Index.load(bad)
    (bad / "config.json").write_text(json.dumps({**config, "num_passages": 19}))
    with pytest.raises(
        UserError, match=r"corrupt index \(passages.jsonl holds 20 passages, config.json says 19\)"
    ):
        Index.load(bad)
    (bad / "config.json").write_text(json.dumps(config))
    (bad / "dense.faiss").write_bytes(b"garbage")
    with pytest.raises(UserError, match=r"dense\.faiss: unreadable faiss index"):
        Index.load(bad)
    (bad / "dense.faiss").unlink()
    with pytest.raises(UserError, match=r"corrupt index \(dense.faiss is missing\)"):
        Index.load(bad)


def test_build_rejects_bad_input(minilm: tuple[Any, Any], tmp_path: Path) -> None:
    model, tok = minilm
    with pytest.raises(UserError, match="tiny: no passages to index"):
        build_index([], tmp_path / "x", model=model, tokenizer=tok, source="tiny")
    with pytest.raises(UserError, match="passage id 'w00' appears more than once"):
        build_index([PASSAGES[0], PASSAGES[0]], tmp_path / "x", model=model, tokenizer=tok)
    with pytest.raises(UserError, match="16 inverted lists need at least 16 passages"):
        build_index(PASSAGES[:5], tmp_path / "x", model=model, tokenizer=tok, faiss_spec="IVF16,Flat")
    assert not (tmp_path / "x").exists()
