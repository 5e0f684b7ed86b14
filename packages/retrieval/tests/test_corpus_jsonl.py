"""User JSONL corpora, the passages file format and `load_corpus`: chunk ids and errors naming file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vcore.errors import UserError
from vodqa.corpus import Passage, load_corpus, passage_text, read_passages, write_passages
from vodqa.corpus.jsonl import read_corpus_jsonl


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_chunks_get_numbered_ids(tmp_path: Path) -> None:
    long_text = " ".join(f"w{k}" for k in range(10))
    path = write_lines(
        tmp_path / "c.jsonl",
        [
            json.dumps({"id": "a", "title": "Alpha", "text": long_text}),
            "",
            json.dumps({"id": 7, "text": "short   text"}),
        ],
    )
    passages = read_corpus_jsonl(path, passage_words=4, stride=3)
    assert passages == [
        Passage("a#0", "Alpha", "w0 w1 w2 w3"),
        Passage("a#1", "Alpha", "w3 w4 w5 w6"),
        Passage("a#2", "Alpha", "w6 w7 w8 w9"),
        Passage("7", "", "short text"),
    ]
    assert load_corpus(str(path), passage_words=4, stride=3) == passages
    assert passage_text(passages[0]) == "Alpha: w0 w1 w2 w3"
    assert passage_text(passages[3]) == "short text"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": "a", "text": "x"}', '{"id": "b", "title": "t"}'], r"c\.jsonl:2: missing 'text'"),
        (['{"id": "a", "text": "x"}', "", '{"id": "b", "text": "  "}'], r"c\.jsonl:3: empty 'text'"),
        (['{"id": "a", "text": "x"}', '{"id": "a", "text"'], r"c\.jsonl:2: invalid JSON"),
        (
            ['{"id": "a", "text": "x"}', '{"id": "a", "text": "y"}'],
            r"c\.jsonl:2: duplicate id 'a' \(first on line 1\)",
        ),
        (['{"text": "x"}'], r"c\.jsonl:1: missing or empty 'id'"),
        (["[1, 2]"], r"c\.jsonl:1: expected a JSON object"),
        (['{"id": "a", "title": 3, "text": "x"}'], r"c\.jsonl:1: 'title' must be a string"),
        (["", "  "], r"c\.jsonl: empty corpus"),
    ],
)
def test_bad_corpus_lines(tmp_path: Path, lines: list[str], message: str) -> None:
    path = write_lines(tmp_path / "c.jsonl", lines)
    with pytest.raises(UserError, match=message):
        read_corpus_jsonl(path)


def test_bad_stride_and_missing_file(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "c.jsonl", ['{"id": "a", "text": "x"}'])
    with pytest.raises(UserError, match="stride"):
        read_corpus_jsonl(path, passage_words=10, stride=11)
    with pytest.raises(UserError, match="stride"):
        read_corpus_jsonl(path, passage_words=10, stride=0)
    with pytest.raises(UserError, match="no such corpus file"):
        read_corpus_jsonl(tmp_path / "missing.jsonl")


def test_load_corpus_rejects_unknown_sources() -> None:
    with pytest.raises(UserError, match="unknown corpus"):
        load_corpus("wikipedia")


def test_passages_round_trip(tmp_path: Path) -> None:
    passages = [
        Passage("wn:n1", "dog, domestic dog", '(noun) a pet; "the dog barked"'),
        Passage("x", "", "é"),
    ]
    write_passages(tmp_path / "p.jsonl", passages)
    assert read_passages(tmp_path / "p.jsonl") == passages
    write_lines(tmp_path / "bad.jsonl", ['{"id": "x", "title": "", "text": "a"}', '{"id": "x", "title": ""}'])
    with pytest.raises(UserError, match=r"bad\.jsonl:2: field 'text' must be a string"):
        read_passages(tmp_path / "bad.jsonl")
