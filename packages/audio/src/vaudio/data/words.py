"""One-syllable English words for sung lyrics, from the lexicons Festival's voices install.

Festival's singing mode times the syllables of a word from the note list it is given, but mis-times every
syllable after the first (`singing-mode.scm` stretches them from the word's first note), so the lyrics
use one-syllable words only, one per note. They come from two files that Debian's `festlex-cmu` and
`festlex-poslex` install (both dependencies of `festvox-kallpc16k` and `festvox-kdlpc16k`):

- /usr/share/festival/dicts/cmu/cmudict-0.4.out, the CMU pronouncing dictionary as compiled for Festival
  (`("cat" nil (((k ae t) 1)))`: one `((phones) stress)` group per syllable);
- /usr/share/festival/dicts/wsj.wp39.poslexR, part-of-speech log-probabilities of Wall Street Journal
  words (`("cat" ((nn -9.7)) () )`), used as a commonness filter.

A word is kept when it is 2-8 lower-case letters with a vowel letter, every CMU entry of it has exactly
one syllable (so no part of speech changes its length), the WSJ lexicon gives it a log-probability of at
least -11 under some tag other than proper noun, foreign word, number or symbol (WSJ's "Sun" is mostly a
company, so its tags are looked at one by one), and it is not in `EXCLUDED` (non-words and words unfit
for lyrics). That leaves 3,184 words ("act", "add", ...); every one of them was sung by both voices as
exactly one syllable (checked once with `vaudio.data.song_labels`, by rendering all of them).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from vcore.errors import UserError

CMU_LEXICON = Path("/usr/share/festival/dicts/cmu/cmudict-0.4.out")
POS_LEXICON = Path("/usr/share/festival/dicts/wsj.wp39.poslexR")
MIN_LOG_PROB = -11.0
EXCLUDED_TAGS = frozenset({"nnp", "nnps", "fw", "sym", "cd", "ls", "punc"})
EXCLUDED = frozenset(
    {
        "ai",
        "ahs",
        "arbs",
        "bam",
        "con",
        "de",
        "der",
        "en",
        "er",
        "na",
        "pro",
        "uh",
        "ups",
    }  # abbreviations, fillers, fragments
    | {"sex", "gay", "nazi", "nazis", "porn", "rape", "raped", "slut", "whore"}  # not for generated lyrics
)

_CMU_ENTRY = re.compile(r'^\("([^"]+)" \S+ \((.*)\)\)\s*$')
_POS_ENTRY = re.compile(r'^\("([^"]+)" \((.*)\) \(\) \)\s*$')
_POS_TAG = re.compile(r"\((\S+) (-?[\d.]+)\)")
_WORD = re.compile(r"^[a-z]{2,8}$")


def _read(path: Path, package: str) -> list[str]:
    try:
        return path.read_text(encoding="latin-1").splitlines()
    except OSError as err:
        raise UserError(
            f"{path}: cannot read Festival's lexicon ({err.strerror}); apt install {package}"
        ) from None


@lru_cache(maxsize=1)
def one_syllable_words() -> tuple[str, ...]:
    """The sorted lyric vocabulary (see the module docstring); UserError if the lexicons are missing."""
    syllables: dict[str, list[int]] = defaultdict(list)
    for line in _read(CMU_LEXICON, "festlex-cmu"):
        match = _CMU_ENTRY.match(line)
        if match:
            syllables[match.group(1)].append(match.group(2).count("(("))
    common: set[str] = set()
    for line in _read(POS_LEXICON, "festlex-poslex"):
        match = _POS_ENTRY.match(line)
        if not match:
            continue
        tags = _POS_TAG.findall(match.group(2))
        if any(tag not in EXCLUDED_TAGS and float(p) >= MIN_LOG_PROB for tag, p in tags):
            common.add(match.group(1))
    words = sorted(
        w
        for w, counts in syllables.items()
        if _WORD.match(w)
        and re.search("[aeiouy]", w)
        and set(counts) == {1}
        and w in common
        and w not in EXCLUDED
    )
    if len(words) < 100:
        raise UserError(
            f"{CMU_LEXICON}: only {len(words)} one-syllable words found; is festlex-cmu complete?"
        )
    return tuple(words)


def word_list_digest(words: tuple[str, ...]) -> str:
    """sha256 of the newline-joined words (recorded in manifests so a corpus names its vocabulary)."""
    return hashlib.sha256("\n".join(words).encode()).hexdigest()
