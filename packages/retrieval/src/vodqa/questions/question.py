"""Multiple-choice questions and their JSONL format (MedMCQA-style `{question, options, answer_idx}`).

One object a line: `{"question": str, "options": [str, ...], "answer_idx": int, "id"?: str, "gold"?: str}`,
`answer_idx` counting from 0 and `gold` the id of a passage known to support the answer
("wn:n02084071"). Pal et al. 2022, "MedMCQA", is the four-option format used by Liévin et al. 2022,
"Variational Open-Domain Question Answering".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcore.errors import UserError
from vcore.io.atomic import atomic_file
from vodqa.jsonl_rows import jsonl_rows


@dataclass
class Question:
    """A question with its options, the index of the right one, and optionally an id and a gold passage id."""

    question: str
    options: list[str]
    answer_idx: int
    id: str | None = None
    gold: str | None = None

    @property
    def answer(self) -> str:
        """The text of the right option."""
        return self.options[self.answer_idx]

    def to_json(self) -> dict[str, Any]:
        """The JSONL object; `id` and `gold` only when set."""
        row: dict[str, Any] = {"question": self.question, "options": list(self.options)}
        row["answer_idx"] = self.answer_idx
        if self.id is not None:
            row["id"] = self.id
        if self.gold is not None:
            row["gold"] = self.gold
        return row


def write_questions(path: Path, questions: Sequence[Question]) -> None:
    """Write questions as JSONL (UTF-8), atomically."""
    with atomic_file(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for q in questions:
            handle.write(json.dumps(q.to_json(), ensure_ascii=False) + "\n")


def parse_question(row: Any, where: str) -> Question:
    """Validate one decoded JSON line; `where` ("path:line") starts every error message."""
    if not isinstance(row, dict):
        raise UserError(f"{where}: expected a JSON object with question, options, answer_idx")
    text = row.get("question")
    if not isinstance(text, str) or not text.strip():
        raise UserError(f"{where}: missing or empty 'question'")
    options = row.get("options")
    if not isinstance(options, list) or len(options) < 2:
        raise UserError(f"{where}: 'options' must be a list of at least 2 strings")
    seen: dict[str, int] = {}
    for k, option in enumerate(options):
        if not isinstance(option, str) or not option.strip():
            raise UserError(f"{where}: option {k} must be a non-empty string")
        key = " ".join(option.split()).casefold()
        if key in seen:
            raise UserError(f"{where}: options {seen[key]} and {k} are the same ({option!r})")
        seen[key] = k
    answer_idx = row.get("answer_idx")
    if isinstance(answer_idx, bool) or not isinstance(answer_idx, int):
        raise UserError(f"{where}: 'answer_idx' must be an integer, got {answer_idx!r}")
    if not 0 <= answer_idx < len(options):
        raise UserError(f"{where}: 'answer_idx' {answer_idx} is out of range for {len(options)} options")
    extra: dict[str, str | None] = {}
    for key in ("id", "gold"):
        value = row.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is not None and not (isinstance(value, str) and value.strip()):
            raise UserError(f"{where}: {key!r} must be a non-empty string when given")
        extra[key] = value
    return Question(text, list(options), answer_idx, id=extra["id"], gold=extra["gold"])


def read_questions(path: Path) -> list[Question]:
    """Read and validate a questions JSONL file; any problem is a `UserError` "path:line: ..."."""
    questions: list[Question] = []
    id_line: dict[str, int] = {}
    for number, where, row in jsonl_rows(path, "questions"):
        question = parse_question(row, where)
        if question.id is not None:
            if question.id in id_line:
                raise UserError(
                    f"{where}: duplicate id {question.id!r} (first on line {id_line[question.id]})"
                )
            id_line[question.id] = number
        questions.append(question)
    if not questions:
        raise UserError(f"{path}: no questions (empty file)")
    return questions
