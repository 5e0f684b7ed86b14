"""A retrieval passage and its JSONL file format (one `{"id", "title", "text"}` object a line)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vcore.errors import UserError
from vcore.io.atomic import atomic_file
from vodqa.jsonl_rows import jsonl_rows


@dataclass(frozen=True)
class Passage:
    """One retrievable unit of text; `id` is unique within a corpus (e.g. "wn:n02084071", "foldoc:Lisp#1")."""

    id: str
    title: str
    text: str


def passage_text(p: Passage) -> str:
    """The string an encoder sees: "title: text", or just the text when there is no title."""
    return f"{p.title}: {p.text}" if p.title else p.text


def write_passages(path: Path, passages: Sequence[Passage]) -> None:
    """Write passages as JSONL (UTF-8, one object a line), atomically."""
    with atomic_file(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for p in passages:
            handle.write(json.dumps({"id": p.id, "title": p.title, "text": p.text}, ensure_ascii=False))
            handle.write("\n")


def read_passages(path: Path) -> list[Passage]:
    """Read a file written by `write_passages`; a malformed line is a `UserError` naming path:line."""
    passages: list[Passage] = []
    seen: set[str] = set()
    for _, where, row in jsonl_rows(path, "passages"):
        if not isinstance(row, dict):
            raise UserError(f"{where}: expected a JSON object with id, title, text")
        for key in ("id", "title", "text"):
            if not isinstance(row.get(key), str):
                raise UserError(f"{where}: field {key!r} must be a string")
        if row["id"] in seen:
            raise UserError(f"{where}: duplicate passage id {row['id']!r}")
        seen.add(row["id"])
        passages.append(Passage(row["id"], row["title"], row["text"]))
    return passages
