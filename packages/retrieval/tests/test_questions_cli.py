"""`vodqa questions wordnet|check` on a synthetic WordNet folder: files, manifest, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from vodqa.commands.questions import questions_app
from vodqa.corpus.wordnet import load_wordnet
from vodqa.questions import Question, read_questions
from vodqa.questions.morphology import Morphology
from vodqa.questions.wordnet_questions import generate_questions

HEADER = "  1 This software and database is being provided to you, the LICENSEE, by  \n"
TREE = [
    (1, ["animal"], [], [2, 3], "a living organism that moves"),
    (2, ["canine"], [1], [4, 5, 6, 7], "a carnivorous mammal with a long muzzle"),
    (3, ["feline"], [1], [10, 11, 12], "a supple mammal with retractile claws"),
    (4, ["dog"], [2], [9], 'a domesticated descendant of the wolf kept as a pet; "the dog barked all night"'),
    (5, ["wolf"], [2], [], 'a wild predator that hunts in packs; "the wolf howled at the moon"'),
    (6, ["fox"], [2], [], "a small wild carnivore with a bushy tail"),
    (7, ["jackal"], [2], [], "a scavenger of African plains"),
    (9, ["basenji"], [4], [], "a small hunting breed from Africa that cannot bark"),
    (10, ["cat"], [3], [], "a small furry pet that purrs"),
    (11, ["lion"], [3], [], "a large tawny predator"),
    (12, ["tiger"], [3], [], "a large striped predator"),
]


def write_wordnet(folder: Path) -> Path:
    lines = []
    for offset, lemmas, up, down, gloss in TREE:
        words = " ".join(f"{w} 0" for w in lemmas)
        pointers = [f"@ {k:08d} n 0000" for k in up] + [f"~ {k:08d} n 0000" for k in down]
        lines.append(
            f"{offset:08d} 05 n {len(lemmas):02x} {words} {len(pointers):03d} {' '.join(pointers)} | {gloss}  \n"
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.noun").write_text(HEADER + "".join(lines), encoding="utf-8")
    for name in ("data.verb", "data.adj", "data.adv"):
        (folder / name).write_text(HEADER, encoding="utf-8")
    return folder


def test_wordnet_command_writes_splits_and_manifest(tmp_path: Path) -> None:
    wordnet = write_wordnet(tmp_path / "wn")
    out = tmp_path / "qs"
    args = ["wordnet", "-o", str(out), "--wordnet", str(wordnet), "--seed", "2", "--per-synset", "3"]
    args += ["--val-fraction", "0.2", "--test-fraction", "0.2", "--json", "--quiet"]
    result = CliRunner().invoke(questions_app, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert json.loads(result.output) == manifest
    expected = generate_questions(load_wordnet(wordnet), seed=2, per_synset=3, morphology=Morphology())
    assert manifest["total"] == len(expected)
    assert manifest["seed"] == 2
    assert manifest["source"] == "wordnet-3.0"
    splits = {name: read_questions(out / f"{name}.jsonl") for name in ("train", "val", "test")}
    assert {name: len(qs) for name, qs in splits.items()} == manifest["counts"]

    def by_id(questions: list[Question]) -> list[Question]:
        return sorted(questions, key=lambda q: q.id or "")

    assert by_id([q for qs in splits.values() for q in qs]) == by_id(expected)
    synsets = manifest["synsets"]
    assert synsets["val"] == synsets["test"] == round(0.2 * sum(synsets.values()))
    golds = [{q.gold for q in qs} for qs in splits.values()]
    assert sum(map(len, golds)) == len(set().union(*golds))
    for name, qs in splits.items():
        styles: dict[str, int] = {}
        for q in qs:
            style = (q.id or "").rsplit("-", 1)[1]
            styles[style] = styles.get(style, 0) + 1
        assert manifest["styles"][name] == dict(sorted(styles.items()))
    # Running again replaces the set; a folder holding other files is refused with exit code 2.
    assert CliRunner().invoke(questions_app, args).exit_code == 0
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("keep me")
    refused = CliRunner().invoke(
        questions_app, ["wordnet", "-o", str(tmp_path / "other"), "--wordnet", str(wordnet)]
    )
    assert refused.exit_code == 2
    assert "holds no question set" in refused.output
    assert (tmp_path / "other" / "notes.txt").read_text() == "keep me"


def test_wordnet_command_user_errors(tmp_path: Path) -> None:
    missing = CliRunner().invoke(
        questions_app, ["wordnet", "-o", str(tmp_path / "q"), "--wordnet", str(tmp_path)]
    )
    assert missing.exit_code == 2
    assert "wordnet-base" in missing.output
    wordnet = write_wordnet(tmp_path / "wn")
    bad = [
        "wordnet",
        "-o",
        str(tmp_path / "q"),
        "--wordnet",
        str(wordnet),
        "--val-fraction",
        "0.6",
        "--test-fraction",
        "0.5",
    ]
    result = CliRunner().invoke(questions_app, bad)
    assert result.exit_code == 2
    assert "fractions must be < 1" in result.output
    assert not (tmp_path / "q").exists()


def test_check_command(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    rows = [{"question": "q1", "options": ["a", "b", "c", "d"], "answer_idx": 2, "gold": "wn:n1"}]
    rows.append({"question": "q2", "options": ["a", "b"], "answer_idx": 0})
    good.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = CliRunner().invoke(questions_app, ["check", str(good), "--json"])
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["questions"] == 2
    assert report["options"] == {"2": 1, "4": 1}
    assert report["answer_idx"] == {"0": 1, "2": 1}
    assert report["with_gold"] == 1
    plain = CliRunner().invoke(questions_app, ["check", str(good)])
    assert plain.exit_code == 0
    assert "2 questions" in plain.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(rows[0]) + "\n" + json.dumps({**rows[1], "answer_idx": 5}) + "\n")
    result = CliRunner().invoke(questions_app, ["check", str(bad)])
    assert result.exit_code == 2
    assert "bad.jsonl:2: 'answer_idx' 5 is out of range for 2 options" in result.output
