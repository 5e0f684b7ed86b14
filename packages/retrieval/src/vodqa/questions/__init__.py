"""Multiple-choice questions: the JSONL format (`question`) and WordNet reverse-dictionary generation."""

from __future__ import annotations

from pathlib import Path

from vodqa.questions.question import Question, read_questions, write_questions

__all__ = ["HANDMADE_QUESTIONS", "Question", "read_questions", "write_questions"]

# 70 hand-written reverse-dictionary questions in everyday language (see vodqa/data/README.md).
HANDMADE_QUESTIONS = Path(__file__).resolve().parent.parent / "data" / "handmade_reverse_dictionary.jsonl"
