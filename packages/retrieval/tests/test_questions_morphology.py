"""Same word up to inflection: morphy's rules, WordNet's exception lists, shared long prefixes."""

from __future__ import annotations

import pytest

from vodqa.questions.morphology import Morphology, normalize, tokens

MORPH = Morphology({"ran": {"run"}, "wolves": {"wolf"}, "geese": {"goose"}})


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("dogs", "dog"), ("barked", "bark"), ("running", "run"), ("ran", "run"), ("wolves", "wolf"),
        ("geese", "goose"), ("fries", "fry"), ("boxes", "box"), ("domesticated", "domestic"),
        ("happiness", "happy"), ("unstained", "stained"), ("infiniteness", "finiteness"), ("dog", "dog"),
    ],
)  # fmt: skip
def test_same_word(a: str, b: str) -> None:
    assert MORPH.same_word(a, b)
    assert MORPH.same_word(b, a)


@pytest.mark.parametrize(
    ("a", "b"), [("dogma", "dog"), ("transparent", "transport"), ("cat", "cut"), ("wolf", "fox")]
)
def test_different_words(a: str, b: str) -> None:
    assert not MORPH.same_word(a, b)


def test_tokens_and_normalize() -> None:
    assert tokens("Canis-like dogs, (2) DOG's") == ["canis", "like", "dogs", "dog", "s"]
    assert normalize("Domestic  dog!") == " domestic dog "
