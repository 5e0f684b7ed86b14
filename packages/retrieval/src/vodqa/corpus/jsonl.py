"""A user's corpus: JSONL, one document a line, `{"id": ..., "title": ..., "text": ...}` (title optional).

Documents longer than `passage_words` words are cut into overlapping windows (`chunk_words`); a document
giving several windows becomes passages "<id>#0", "<id>#1", ..., one giving a single window keeps its id.
"""

from __future__ import annotations

from pathlib import Path

from vcore.errors import UserError
from vodqa.corpus.chunking import check_chunking, chunk_words
from vodqa.corpus.passage import Passage
from vodqa.jsonl_rows import jsonl_rows


def read_corpus_jsonl(path: Path, passage_words: int = 100, stride: int = 75) -> list[Passage]:
    """Read and chunk a JSONL corpus; every problem is a `UserError` naming path:line."""
    check_chunking(passage_words, stride)
    passages: list[Passage] = []
    first_line: dict[str, int] = {}
    for number, where, row in jsonl_rows(path, "corpus"):
        if not isinstance(row, dict):
            raise UserError(f"{where}: expected a JSON object with id, title, text")
        doc_id = row.get("id")
        if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)) or str(doc_id).strip() == "":
            raise UserError(f"{where}: missing or empty 'id' (a string or an integer)")
        doc_id = str(doc_id)
        if doc_id in first_line:
            raise UserError(f"{where}: duplicate id {doc_id!r} (first on line {first_line[doc_id]})")
        first_line[doc_id] = number
        title = row.get("title", "")
        if title is None:
            title = ""
        if not isinstance(title, str):
            raise UserError(f"{where}: 'title' must be a string")
        text = row.get("text")
        if not isinstance(text, str):
            raise UserError(f"{where}: missing 'text' (a string)")
        chunks = chunk_words(text, passage_words, stride)
        if not chunks:
            raise UserError(f"{where}: empty 'text'")
        title = " ".join(title.split())
        if len(chunks) == 1:
            passages.append(Passage(doc_id, title, chunks[0]))
        else:
            passages.extend(Passage(f"{doc_id}#{k}", title, chunk) for k, chunk in enumerate(chunks))
    if not passages:
        raise UserError(f"{path}: empty corpus (no documents)")
    ids = {p.id for p in passages}
    if len(ids) != len(passages):  # a chunk id "<a>#1" can collide with a document whose id is "<a>#1"
        raise UserError(f"{path}: chunk ids collide with document ids containing '#'; rename those documents")
    return passages
