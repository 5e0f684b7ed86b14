"""WordNet question generation: exact questions on a synthetic WordNet, the rules on the real one."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import pytest

from vodqa.corpus.wordnet import Synset, load_wordnet
from vodqa.questions import Question
from vodqa.questions.morphology import Morphology, normalize, tokens
from vodqa.questions.wordnet_questions import generate_questions, split_questions

REAL = Path("/usr/share/wordnet")
needs_wordnet = pytest.mark.skipif(
    not (REAL / "data.noun").is_file(), reason="Debian wordnet-base not installed"
)

# (offset, lemmas, hypernyms, hyponyms, gloss with examples); all noun.animal.
TREE = [
    (1, ["animal"], [], [2, 3], "a living organism that moves"),
    (2, ["canine"], [1], [4, 5, 6, 7], "a carnivorous mammal with a long muzzle"),
    (3, ["feline"], [1], [10, 11, 12], "a supple mammal with retractile claws"),
    (
        4,
        ["dog", "domestic_dog"],
        [2],
        [9],
        'a domesticated descendant of the wolf kept as a pet; "the dog barked all night"',
    ),
    (5, ["wolf"], [2], [], "a wild predator that hunts in packs"),
    (6, ["fox"], [2], [], "a small wild carnivore with a bushy tail"),
    (7, ["jackal"], [2], [], "a scavenger of African plains"),
    (9, ["basenji"], [4], [], "a small hunting breed from Africa that cannot bark"),
    (10, ["cat"], [3], [], "a small furry pet that purrs"),
    (11, ["lion"], [3], [], "a large tawny predator"),
    (12, ["tiger"], [3], [], "a large striped predator"),
]


def synthetic() -> dict[str, Synset]:
    from vodqa.corpus.wordnet import parse_data_line

    synsets = {}
    for offset, lemmas, up, down, gloss in TREE:
        words = " ".join(f"{w} 0" for w in lemmas)
        pointers = [f"@ {k:08d} n 0000" for k in up] + [f"~ {k:08d} n 0000" for k in down]
        line = (
            f"{offset:08d} 05 n {len(lemmas):02x} {words} {len(pointers):03d} {' '.join(pointers)} | {gloss}"
        )
        synset = parse_data_line(line)
        synsets[synset.id] = synset
    return synsets


def test_synthetic_dog_questions() -> None:
    questions = {
        q.id: q for q in generate_questions(synthetic(), seed=0, per_synset=3, morphology=Morphology())
    }
    example, related, features = (questions[f"n00000004-{s}"] for s in ("example", "related", "features"))
    assert example.question == 'a kind of canine; as in: "the ___ barked all night"'
    assert related.question == (
        "a more general word for things such as basenji (a small hunting breed from Africa that cannot bark)"
    )
    for q in (example, related):  # siblings under "canine" are the hardest distractors
        assert sorted(q.options) == ["dog", "fox", "jackal", "wolf"]
        assert q.answer == "dog"
        assert q.gold == "wn:n00000004"
    head, _, listed = features.question.partition(": ")
    assert head == "a canine associated with"
    assert sorted(listed.split(", ")) == ["descendant", "domesticated", "kept", "pet", "wolf"]
    # "wolf" is in the question, so the third distractor comes from the same lexicographer file;
    # never the dog's ancestors (canine, animal) or descendants (basenji).
    assert features.answer == "dog"
    assert {"fox", "jackal"} < set(features.options)
    assert (set(features.options) - {"dog", "fox", "jackal"}) <= {"feline", "cat", "lion", "tiger"}


@pytest.fixture(scope="module")
def real() -> tuple[dict[str, Synset], list[Question]]:
    if not (REAL / "data.noun").is_file():
        pytest.skip("Debian wordnet-base not installed")
    synsets = load_wordnet(REAL)
    targets = {*random.Random(0).sample(sorted(synsets), 1500), "n02084071"}
    return synsets, generate_questions(synsets, seed=3, per_synset=3, targets=targets)


def inflections(word: str) -> set[str]:
    forms = {word, word + "s", word + "es", word + "ed", word + "d", word + "ing", word + "er", word + "ly"}
    if word.endswith("y"):
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    if word.endswith("e"):
        forms |= {word[:-1] + "ing"}
    return forms


@needs_wordnet
def test_rules_on_real_wordnet(real: tuple[dict[str, Synset], list[Question]]) -> None:
    synsets, questions = real
    assert len(questions) > 900
    assert {q.id.rsplit("-", 1)[1] for q in questions if q.id} == {"example", "features", "related"}
    for q in questions:
        assert q.gold is not None
        assert q.id is not None
        assert q.id.startswith(q.gold[3:] + "-")
        target = synsets[q.gold[3:]]
        lemmas = {lemma.lower() for lemma in target.lemmas}
        words = set(tokens(q.question))
        assert len(q.options) == 4
        assert len({o.lower() for o in q.options}) == 4
        assert q.answer.lower() in lemmas, q
        assert all(o.lower() not in lemmas for k, o in enumerate(q.options) if k != q.answer_idx), q
        assert all(re.fullmatch(r"[a-z]+", o) for o in q.options), q
        for lemma in lemmas:
            parts = tokens(lemma)
            if len(parts) == 1:
                assert not (words & inflections(parts[0])), (lemma, q.question)
            else:
                assert normalize(lemma) not in normalize(q.question), (lemma, q.question)
        if len(target.gloss.split()) >= 4:
            assert target.gloss.lower() not in q.question.lower(), q
    positions = [q.answer_idx for q in questions]
    assert all(0.2 < positions.count(k) / len(positions) < 0.3 for k in range(4))


@needs_wordnet
def test_real_dog(real: tuple[dict[str, Synset], list[Question]]) -> None:
    _, questions = real
    dog = {q.id: q for q in questions if q.gold == "wn:n02084071"}
    assert dog["n02084071-example"].question == 'a kind of canine; as in: "the ___ barked all night"'
    assert dog["n02084071-features"].question.startswith("a canine associated with: ")
    assert all(q.answer == "dog" for q in dog.values())


@needs_wordnet
def test_deterministic_and_local_to_each_synset(real: tuple[dict[str, Synset], list[Question]]) -> None:
    synsets, questions = real
    subset = sorted({q.gold[3:] for q in questions if q.gold})[:150]
    again = generate_questions(synsets, seed=3, per_synset=3, targets=subset)
    assert again == [q for q in questions if q.gold and q.gold[3:] in set(subset)]


def test_seed_and_max_questions() -> None:
    synsets = synthetic()
    first = generate_questions(synsets, seed=0, per_synset=3, morphology=Morphology())
    assert first == generate_questions(synsets, seed=0, per_synset=3, morphology=Morphology())
    seeds = [generate_questions(synsets, seed=s, per_synset=3, morphology=Morphology()) for s in range(1, 4)]
    assert any(
        [(q.question, q.options) for q in other] != [(q.question, q.options) for q in first]
        for other in seeds
    )
    capped = generate_questions(synsets, seed=0, per_synset=3, morphology=Morphology(), max_questions=4)
    assert len(capped) == 4
    assert all(q in first for q in capped)


@needs_wordnet
def test_split_by_synset(real: tuple[dict[str, Synset], list[Question]]) -> None:
    _, questions = real
    splits = split_questions(questions, val_fraction=0.1, test_fraction=0.2, seed=5)
    golds = {name: {q.gold for q in part} for name, part in splits.items()}
    assert not (golds["train"] & golds["val"])
    assert not (golds["train"] & golds["test"])
    assert not (golds["val"] & golds["test"])
    n = len({q.gold for q in questions})
    assert (len(golds["val"]), len(golds["test"])) == (round(0.1 * n), round(0.2 * n))
    assert sum(len(part) for part in splits.values()) == len(questions)
    assert split_questions(questions, val_fraction=0.1, test_fraction=0.2, seed=5) == splits


@pytest.mark.slow
@needs_wordnet
def test_whole_wordnet_in_under_a_minute() -> None:
    synsets = load_wordnet(REAL)
    start = time.perf_counter()
    questions = generate_questions(synsets, seed=0)
    assert time.perf_counter() - start < 60
    assert len(questions) > 50_000
    assert len({q.gold for q in questions}) == len(questions)
