"""Retrieval corpora as lists of `Passage`: WordNet 3.0, FOLDOC, or a user's JSONL file.

`load_corpus("wordnet")` reads Debian's wordnet-base, `load_corpus("foldoc")` Debian's dict-foldoc, and
`load_corpus("path/to/file.jsonl")` a user corpus (see `vodqa.corpus.jsonl`).
"""

from __future__ import annotations

from pathlib import Path

from vcore.errors import UserError
from vodqa.corpus.chunking import chunk_words
from vodqa.corpus.passage import Passage, passage_text, read_passages, write_passages

__all__ = ["Passage", "chunk_words", "load_corpus", "passage_text", "read_passages", "write_passages"]


def load_corpus(source: str, passage_words: int = 100, stride: int = 75) -> list[Passage]:
    """Passages of `source`: "wordnet", "foldoc" or the path of a .jsonl corpus file."""
    from vodqa.corpus.chunking import check_chunking

    check_chunking(passage_words, stride)
    if source == "wordnet":
        from vodqa.corpus.wordnet import load_wordnet, wordnet_passages

        passages = wordnet_passages(load_wordnet())
    elif source == "foldoc":
        from vodqa.corpus.foldoc import load_foldoc

        passages = load_foldoc(passage_words=passage_words, stride=stride)
    elif source.endswith(".jsonl"):
        from vodqa.corpus.jsonl import read_corpus_jsonl

        passages = read_corpus_jsonl(Path(source), passage_words, stride)
    else:
        raise UserError(
            f"{source}: unknown corpus; use 'wordnet', 'foldoc' or a .jsonl file of {{id, title, text}}"
        )
    if not passages:
        raise UserError(f"{source}: empty corpus")
    return passages
