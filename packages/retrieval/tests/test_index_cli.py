"""`vodqa index` and `vodqa search` end to end on a tiny JSONL corpus, and every bad input as exit code 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

DOCS = {
    "puppy": "a young dog",
    "kitten": "a young cat",
    "aardvark": "a nocturnal burrowing mammal of Africa that eats ants and termites",
    "violin": "a bowed string instrument with four strings",
    "glacier": "a slowly moving mass of ice",
    "umbrella": "a folding canopy that protects from rain",
    "compiler": "a program that translates source code into machine code " * 3,  # 27 words: 2 windows of 20
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "tiny.jsonl"
    path.write_text("".join(json.dumps({"id": t, "title": t, "text": x}) + "\n" for t, x in DOCS.items()))
    return path


@pytest.fixture(scope="module")
def index(corpus: Path, invoke: Callable[..., tuple[int, str, str]]) -> Path:
    out = corpus.parent / "idx"
    code, stdout, err = invoke(
        "index", str(corpus), "-o", str(out), "--passage-words", "20", "--stride", "10", "--json", "--quiet"
    )
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["passages"] == 8  # 6 short documents + the 27-word one as windows 0-19, 10-26
    assert summary["faiss"] == "Flat"
    assert summary["faiss_params"] == {}
    assert summary["encoder"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    return out


def test_index_and_search_text(index: Path, invoke: Callable[..., tuple[int, str, str]]) -> None:
    code, stdout, _ = invoke("search", str(index), "a baby dog", "-k", "3")
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0] == "hybrid top-3 for 'a baby dog':"
    assert lines[1].split()[0] == "1"
    assert " puppy  puppy: a young dog" in lines[1]
    assert len(lines) == 4


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_search_json_modes(index: Path, mode: str, invoke: Callable[..., tuple[int, str, str]]) -> None:
    code, stdout, _ = invoke(
        "search", str(index), "mammal that eats termites", "-k", "2", "--mode", mode, "--json"
    )
    assert code == 0
    report = json.loads(stdout)
    assert (report["mode"], report["k"], report["query"]) == (mode, 2, "mammal that eats termites")
    top = report["results"][0]
    assert (top["rank"], top["id"], top["title"]) == (1, "aardvark", "aardvark")
    assert top["text"] == DOCS["aardvark"]  # full text in JSON
    if mode == "hybrid":
        assert top["score"] == pytest.approx(top["dense"] / 0.05 + 1.0 * top["bm25"], rel=1e-6)
    if mode == "bm25":
        assert len(report["results"]) == 1  # one passage has "mammal"/"eats"/"termites"


def test_batch_queries_print_json_lines(
    index: Path, tmp_path: Path, invoke: Callable[..., tuple[int, str, str]]
) -> None:
    queries = tmp_path / "q.txt"
    queries.write_text("a baby dog\nfrozen river of ice\nsource code translator\n")
    code, stdout, _ = invoke("search", str(index), "--queries", str(queries), "-k", "2", "--mode", "dense")
    assert code == 0
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert [r["query"] for r in rows] == ["a baby dog", "frozen river of ice", "source code translator"]
    assert [r["results"][0]["id"] for r in rows[:2]] == ["puppy", "glacier"]
    assert rows[2]["results"][0]["id"] in {"compiler#0", "compiler#1"}


def test_bad_inputs_exit_2_with_one_line(
    index: Path, corpus: Path, tmp_path: Path, invoke: Callable[..., tuple[int, str, str]]
) -> None:
    cases = {
        ("search", str(tmp_path / "nope"), "dog"): "no such index folder",
        ("search", str(corpus), "dog"): "not an index folder",
        ("search", str(index), "   "): "the query is empty",
        ("search", str(index), "dog", "-k", "0"): "-k must be at least 1, got 0",
        ("search", str(index), "dog", "--mode", "sparse"): "--mode must be one of hybrid, dense, bm25",
        ("search", str(index)): "give either a query or --queries FILE",
        ("search", str(index), "dog", "--ef-search", "10"): "efSearch: a Flat index has no such parameter",
        (
            "index",
            str(corpus),
            "-o",
            str(tmp_path / "x"),
            "--faiss",
            "IVF64,Flat",
            "--quiet",
        ): "64 inverted lists need",
        (
            "index",
            str(corpus),
            "-o",
            str(tmp_path / "x"),
            "--faiss",
            "Bogus",
            "--quiet",
        ): "not a faiss index factory",
        ("index", "wikipedia", "-o", str(tmp_path / "x"), "--quiet"): "wikipedia: unknown corpus",
        ("index", str(corpus), "-o", str(tmp_path / "x"), "--limit", "0"): "--limit must be at least 1",
        ("search", str(index), "dog", "--device", "cuda"): "--device cuda:",
    }
    blank = tmp_path / "blank.txt"
    blank.write_text("dog\n\n")
    cases[("search", str(index), "--queries", str(blank))] = f"{blank}:2: empty query"
    for args, message in cases.items():
        code, _, err = invoke(*args)
        assert code == 2, (args, err)
        assert err.startswith("error: "), (args, err)
        assert message in err, (args, err)
        assert "\n" not in err.strip(), (args, err)
    assert not (tmp_path / "x").exists()
    other = tmp_path / "other"
    other.mkdir()
    for config, message in [
        (
            json.dumps({"format": "vodqa-index", "version": 99}),
            "index version 99, this vodqa reads version 1",
        ),
        (json.dumps({"format": "faiss", "version": 1}), "format is 'faiss', not a 'vodqa-index'"),
        ("]", "corrupt index config"),
    ]:
        (other / "config.json").write_text(config)
        code, _, err = invoke("search", str(other), "dog", "--mode", "bm25")
        assert code == 2, err
        assert message in err, err


def test_checkpoint_encoder_must_match_the_index(
    index: Path, corpus: Path, tmp_path: Path, invoke: Callable[..., tuple[int, str, str]]
) -> None:
    checkpoint_module = pytest.importorskip("vodqa.model.checkpoint")
    import torch

    from vodqa.model.qa_model import VodQAConfig, VodQAModel

    model = VodQAModel(VodQAConfig())
    with torch.no_grad():
        model.retriever.encoder.layer[5].output.dense.bias += 0.05
    ckpt = checkpoint_module.export_checkpoint(model, tmp_path / "ckpt")
    code, _, err = invoke("search", str(index), "dog", "--checkpoint", str(ckpt))
    assert code == 2
    assert "built with encoder" in err
    assert "the checkpoint's retriever is" in err
    assert "--checkpoint" in err
    tuned = tmp_path / "tuned-idx"
    code, stdout, err = invoke(
        "index", str(corpus), "-o", str(tuned), "--checkpoint", str(ckpt), "--json", "--quiet"
    )
    assert code == 0, err
    assert json.loads(stdout)["encoder"]["name"] == "checkpoint:ckpt"
    code, stdout, _ = invoke("search", str(tuned), "a baby dog", "--checkpoint", str(ckpt), "--json")
    assert code == 0
    assert json.loads(stdout)["results"][0]["id"] == "puppy"
    code, _, err = invoke("search", str(tuned), "a baby dog")  # the base encoder does not fit this index
    assert code == 2
    assert "pass the --checkpoint it was built with" in err
