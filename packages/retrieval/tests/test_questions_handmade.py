"""The hand-made reverse-dictionary set: it parses, is balanced, uses WordNet words, quotes no gloss."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from vodqa.corpus.wordnet import load_wordnet
from vodqa.questions import HANDMADE_QUESTIONS, read_questions
from vodqa.questions.morphology import tokens

REAL = Path("/usr/share/wordnet")
needs_wordnet = pytest.mark.skipif(
    not (REAL / "data.noun").is_file(), reason="Debian wordnet-base not installed"
)


def test_parses_and_is_balanced() -> None:
    questions = read_questions(HANDMADE_QUESTIONS)
    assert len(questions) == 70 >= 50
    assert [q.id for q in questions] == [f"hand-{k:03d}" for k in range(1, 71)]
    assert all(len(q.options) == 4 for q in questions)
    assert sorted(Counter(q.answer_idx for q in questions).values()) == [17, 17, 18, 18]
    assert all(q.answer.lower() not in tokens(q.question) for q in questions)


@needs_wordnet
def test_options_are_wordnet_lemmas_and_no_gloss_is_quoted() -> None:
    synsets = load_wordnet(REAL)
    lemmas = {lemma.lower() for s in synsets.values() for lemma in s.lemmas}
    questions = read_questions(HANDMADE_QUESTIONS)
    assert [o for q in questions for o in q.options if o.lower() not in lemmas] == []
    n = 8
    spans = {
        tuple(words[k : k + n])
        for q in questions
        for words in [tokens(q.question)]
        for k in range(len(words) - n + 1)
    }
    shared = []
    for synset in synsets.values():
        words = tokens(" ".join([synset.gloss, *synset.examples]))
        shared += [
            " ".join(words[k : k + n]) for k in range(len(words) - n + 1) if tuple(words[k : k + n]) in spans
        ]
    assert shared == []
