"""Deterministic English sentences for the speech corpus, from templates and small word lists.

Sentence k of seed s is drawn with `np.random.default_rng([s, k])`: a template (statements, questions,
exclamations, lists and numbers, so that espeak-ng's intonation varies) with its slots filled from the word
lists below. Thousands of distinct sentences are possible; the same (seed, k) always gives the same one.
"""

from __future__ import annotations

import re

import numpy as np

NOUNS = (
    "river", "garden", "window", "teacher", "market", "bridge", "letter", "mountain", "doctor", "kitchen",
    "village", "engine", "island", "picture", "pocket", "forest", "harbour", "basket", "station", "candle",
    "valley", "ladder", "blanket", "orchard", "lantern", "meadow", "painter", "sailor", "tunnel", "violin",
    "farmer", "castle", "bottle", "ribbon", "hammer", "compass", "journal", "pebble", "rocket", "saddle",
)  # fmt: skip
ADJECTIVES = (
    "quiet", "bright", "narrow", "golden", "heavy", "gentle", "distant", "sudden", "careful", "ancient",
    "silver", "tiny", "crowded", "frozen", "honest", "hollow", "patient", "shallow", "eager", "wooden",
    "purple", "rapid", "humble", "noisy", "clever", "dusty", "polite", "steady", "curious", "simple",
)  # fmt: skip
VERBS_PAST = (
    "carried", "painted", "followed", "noticed", "repaired", "borrowed", "described", "opened", "visited",
    "measured", "gathered", "answered", "collected", "finished", "returned", "observed", "remembered",
    "delivered", "explored", "ordered", "polished", "covered", "counted", "signed", "cleaned",
)  # fmt: skip
NAMES = (
    "Anna", "Peter", "Maria", "James", "Sophie", "Daniel", "Clara", "Thomas", "Helen", "Oscar", "Lucy",
    "Martin", "Ruth", "Victor", "Emily", "Samuel", "Nora", "Felix", "Grace", "Henry",
)  # fmt: skip
PLACES = (
    "near the station", "behind the old mill", "across the square", "by the harbour", "under the bridge",
    "at the edge of town", "in the north wing", "beside the lake", "on the top floor", "past the orchard",
)  # fmt: skip
TIMES = (
    "this morning", "last winter", "after lunch", "before sunrise", "on Tuesday", "every evening",
    "in the spring", "at midnight", "twice a week", "yesterday",
)  # fmt: skip
_ARTICLE = re.compile(r"\b([aA]) ([aeiou])")
MONTHS = ("January", "March", "May", "July", "September", "November")

TEMPLATES = (
    "The {adj} {noun} was {verb} {time}.",
    "{name} {verb} the {adj} {noun} {place}.",
    "Did {name} really see the {noun} {place}?",
    "Why was the {noun} so {adj} {time}?",
    "What a {adj} {noun} that was!",
    "We {verb} {count} {nouns} and a {adj} {noun}.",
    "On {month} {day}, {name} {verb} the {noun} and the {noun2}.",
    "If the {noun} is {adj}, please leave it {place}.",
    "{name} said that the {noun} {place} looked {adj}.",
    "Is the {adj} {noun} still {place}, or did {name} move it?",
    "The {noun}, the {noun2} and the {adj} {noun3} were all {verb} {time}.",
    "Nobody {verb} the {noun} until {name} arrived {time}.",
    "It costs {count} pounds to reach the {noun} {place}.",
    "Look at the {adj} {noun}!",
)


def _plural(noun: str) -> str:
    return noun + "es" if noun.endswith(("s", "x", "ch", "sh")) else noun + "s"


def sentence(seed: int, k: int) -> str:
    """Sentence number `k` for `seed` (deterministic)."""
    rng = np.random.default_rng([seed, k])

    def pick(words: tuple[str, ...]) -> str:
        return words[int(rng.integers(len(words)))]

    nouns = [NOUNS[int(i)] for i in rng.choice(len(NOUNS), 3, replace=False)]
    template = pick(TEMPLATES)
    text = template.format(
        adj=pick(ADJECTIVES),
        noun=nouns[0],
        noun2=nouns[1],
        noun3=nouns[2],
        nouns=_plural(nouns[1]),
        verb=pick(VERBS_PAST),
        name=pick(NAMES),
        place=pick(PLACES),
        time=pick(TIMES),
        month=pick(MONTHS),
        day=int(rng.integers(1, 29)),
        count=int(rng.integers(2, 40)),
    )
    text = _ARTICLE.sub(r"\1n \2", text)
    return text[0].upper() + text[1:]
