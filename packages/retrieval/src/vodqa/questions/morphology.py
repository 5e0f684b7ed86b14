"""Is a token the same word as another, up to inflection? Used to keep answers out of their questions.

Inflections are undone with WordNet's morphy detachment rules and its exception lists (morphy(7WN),
https://wordnet.princeton.edu/documentation/morphy7wn): "dogs" -> dog, "barked" -> bark, "ran" -> run.
Derivations sharing a long prefix ("domestic"/"domesticated", "happy"/"happiness") or containing one
another ("stained"/"unstained") also count as the same word, which errs on the side of calling two words
related.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# morphy's detachment rules for nouns, verbs and adjectives: (suffix, replacement).
_RULES = (
    ("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"),
    ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", ""),
    ("er", ""), ("est", ""), ("er", "e"), ("est", "e"), ("ly", ""), ("ily", "y"),
)  # fmt: skip
_TOKEN = re.compile(r"[a-z]+")


def tokens(text: str) -> list[str]:
    """Lower-case alphabetic runs of `text` ("Canis-like dogs" -> ["canis", "like", "dogs"])."""
    return _TOKEN.findall(text.lower())


def normalize(text: str) -> str:
    """Tokens joined by single spaces and padded with one, for whole-phrase search: " domestic dog "."""
    return " " + " ".join(tokens(text)) + " "


class Morphology:
    """Base forms of inflected words, with WordNet's irregular forms (`vodqa.corpus.wordnet.load_exceptions`)."""

    def __init__(self, exceptions: Mapping[str, Iterable[str]] | None = None) -> None:
        self._exceptions = {k: set(v) for k, v in (exceptions or {}).items()}
        self._cache: dict[str, frozenset[str]] = {}

    def base_forms(self, word: str) -> frozenset[str]:
        """`word` and every form morphy's rules and exception lists could make it an inflection of."""
        found = self._cache.get(word)
        if found is not None:
            return found
        forms = {word, *self._exceptions.get(word, ())}
        for suffix, replacement in _RULES:
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                stem = word[: -len(suffix)] + replacement
                forms.add(stem)
                if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
                    forms.add(stem[:-1])  # "running" -> "runn" -> "run"
        found = frozenset(forms)
        self._cache[word] = found
        return found

    def same_word(self, a: str, b: str) -> bool:
        """True when lower-case words `a` and `b` are one word up to inflection, or share a long prefix."""
        if a == b or not self.base_forms(a).isdisjoint(self.base_forms(b)):
            return True
        shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
        if len(shorter) >= 4 and shorter in longer:
            return True  # "finiteness" / "infiniteness", "stained" / "unstained"
        if len(shorter) < 4 or a[:4] != b[:4]:
            return False
        prefix = 4
        while prefix < len(shorter) and a[prefix] == b[prefix]:
            prefix += 1
        return prefix >= len(shorter) - 2
