"""The questions JSONL format: round trip, and every validation error naming path:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vcore.errors import UserError
from vodqa.questions import Question, read_questions, write_questions


def test_round_trip(tmp_path: Path) -> None:
    questions = [
        Question(
            "a kind of canine",
            ["wolf", "dog", "fox", "jackal"],
            1,
            id="n02084071-example",
            gold="wn:n02084071",
        ),
        Question("Which vitamin?", ["A", "B12"], 0),
    ]
    write_questions(tmp_path / "q.jsonl", questions)
    assert read_questions(tmp_path / "q.jsonl") == questions
    first = json.loads((tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines()[1])
    assert first == {"question": "Which vitamin?", "options": ["A", "B12"], "answer_idx": 0}
    assert questions[0].answer == "dog"


def test_medmcqa_style_line_with_numeric_id(tmp_path: Path) -> None:
    line = {"question": "Q?", "options": ["a", "b", "c", "d"], "answer_idx": 3, "id": 17}
    (tmp_path / "m.jsonl").write_text(json.dumps(line) + "\n\n", encoding="utf-8")
    assert read_questions(tmp_path / "m.jsonl") == [Question("Q?", ["a", "b", "c", "d"], 3, id="17")]


GOOD = {"question": "Q?", "options": ["a", "b", "c"], "answer_idx": 1}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "invalid JSON"),
        ('["a"]', "expected a JSON object"),
        ({**GOOD, "question": "  "}, "missing or empty 'question'"),
        ({k: v for k, v in GOOD.items() if k != "question"}, "missing or empty 'question'"),
        ({**GOOD, "options": ["a"]}, "at least 2"),
        ({**GOOD, "options": "a,b"}, "at least 2"),
        ({**GOOD, "options": ["a", 2]}, "option 1 must be a non-empty string"),
        ({**GOOD, "options": ["a", ""]}, "option 1 must be a non-empty string"),
        ({**GOOD, "options": ["Dog", "cat", "dog "]}, "options 0 and 2 are the same"),
        ({**GOOD, "answer_idx": 3}, "out of range for 3 options"),
        ({**GOOD, "answer_idx": -1}, "out of range"),
        ({**GOOD, "answer_idx": "1"}, "must be an integer"),
        ({**GOOD, "answer_idx": True}, "must be an integer"),
        ({**GOOD, "gold": ""}, "'gold' must be a non-empty string"),
    ],
)
def test_bad_lines_name_path_and_line(tmp_path: Path, bad: object, message: str) -> None:
    text = bad if isinstance(bad, str) else json.dumps(bad)
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + text + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=rf"q\.jsonl:2: .*{message}"):
        read_questions(path)


def test_empty_missing_and_duplicate_ids(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("\n \n", encoding="utf-8")
    with pytest.raises(UserError, match=r"empty\.jsonl: no questions"):
        read_questions(tmp_path / "empty.jsonl")
    with pytest.raises(UserError, match="no such questions file"):
        read_questions(tmp_path / "missing.jsonl")
    row = json.dumps({**GOOD, "id": "x"})
    (tmp_path / "dup.jsonl").write_text(f"{row}\n{row}\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"dup\.jsonl:2: duplicate id 'x' \(first on line 1\)"):
        read_questions(tmp_path / "dup.jsonl")
