"""Reverse-dictionary multiple-choice questions generated from WordNet 3.0 (training data for VOD).

A question describes a synset without quoting its gloss and asks for one of its words among four options.
Styles, one or more per synset, picked in an order drawn from the seed:

- "example": one of the synset's example sentences with the word masked, after a hint built from the
  hypernym (`a kind of canine; as in: "the ___ barked all night"`), the cluster head or an antonym;
- "features": the hypernym followed by the (up to 8 rarest) content words of the gloss that the
  hypernym's gloss lacks, shuffled (`a canine associated with: wolf, breeds, domesticated, ...`), never the gloss itself;
- "related": the gloss of a related synset: a hyponym for nouns and verbs (`a more general word for
  things such as basenji (small smooth-haired breed ...)`), an antonym (`the opposite of descend`), or for
  adjectives a similar-to ("&") synset (`close in meaning to "being born or beginning"`).

Rules: no word of the target synset (nor an inflection or close derivative) appears in the question;
distractors are single lower-case words that are not lemmas of the target, none of their senses is the
target, one of its ancestors or descendants (for "related" via a hyponym: an ancestor of that hyponym),
and for adjectives none lies in the target's similarity cluster; they are drawn from the siblings under
the same hypernym (for adjectives the antonym's cluster) first, then the same lexicographer file, then the
same part of speech. The answer's position is uniform. Everything is a function of (seed, synset), so a
synset's question does not depend on which other synsets are generated.
Reverse dictionaries as a retrieval task: Hill et al. 2016, "Learning to Understand Phrases by Embedding
the Dictionary" (TACL).
"""

from __future__ import annotations

import logging
import random
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from vcore.errors import UserError
from vodqa.corpus.wordnet import Synset
from vodqa.questions.morphology import Morphology, normalize, tokens
from vodqa.questions.question import Question

logger = logging.getLogger(__name__)

STYLES = ("example", "features", "related")
NUM_OPTIONS = 4
MAX_FEATURE_WORDS = 8  # the rarest content words of a gloss (by gloss frequency) describe it best
MIN_EXAMPLE_WORDS = 3  # words around the blank in a masked example
_SIMPLE_WORD = re.compile(r"[a-z]+")
_GLOSS_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")

_STOPWORDS_TEXT = """a about above across after again against all almost along also although always among an and another
    any anything are around as at be because been before being below between both but by can could did do
    does doing done down during each either else especially etc even ever every for from further had has
    have having he her here hers him his how however i if in into is it its itself just least less like
    made make makes many may more most much must neither no nor not of off often on once one ones only or
    other others otherwise our out over own particular particularly per perhaps rather same several she
    should so some someone something sometimes somewhat such than that the their them themselves then there
    these they thing things this those though through thus to too toward towards under until up upon us
    usually use used uses using various very via was way we well were what when where whether which while
    who whom whose why will with within without would yet you your certain especially esp e g i e
    relating related pertaining characterized kind sort type since probably mainly mostly chiefly typically
    generally commonly formerly sometimes frequently"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


@dataclass
class _Draft:
    """A question being built: its text, answer word and what distractors must avoid."""

    style: str
    text: str
    answer: str
    avoid: frozenset[str]  # synsets whose words may not be distractors (beyond the target's own family)


class _Generator:
    """Indexes of WordNet needed to draft questions and pick distractors quickly."""

    def __init__(self, synsets: Mapping[str, Synset], morphology: Morphology) -> None:
        self.synsets = synsets
        self.morph = morphology
        self.word: dict[str, str | None] = {}
        self.by_lexname: dict[str, list[str]] = defaultdict(list)
        self.by_pos: dict[str, list[str]] = defaultdict(list)
        self.senses: dict[str, list[str]] = defaultdict(list)
        for sid in sorted(synsets):
            synset = synsets[sid]
            simple = [lemma for lemma in synset.lemmas if _SIMPLE_WORD.fullmatch(lemma)]
            self.word[sid] = simple[0] if simple else None
            for lemma in synset.lemmas:
                self.senses[lemma.lower()].append(sid)
            if simple:
                self.by_lexname[synset.lexname].append(sid)
                self.by_pos[synset.pos].append(sid)
        self._ancestors: dict[str, frozenset[str]] = {}
        # In how many glosses each word occurs: "features" keeps a gloss's rarest words.
        self.gloss_df: dict[str, int] = defaultdict(int)
        for synset in synsets.values():
            for word in set(tokens(synset.gloss)):
                self.gloss_df[word] += 1

    # -- relations ------------------------------------------------------------------------------------
    def ancestors(self, sid: str) -> frozenset[str]:
        """Every synset above `sid` by hypernym links (not `sid` itself)."""
        found = self._ancestors.get(sid)
        if found is None:
            result: set[str] = set()
            for parent in self.synsets[sid].hypernyms:
                if parent in self.synsets:
                    result.add(parent)
                    result |= self.ancestors(parent)
            found = frozenset(result)
            self._ancestors[sid] = found
        return found

    def head(self, synset: Synset) -> str:
        """The head of an adjective's similarity cluster (itself unless it is a satellite)."""
        return synset.similar[0] if synset.satellite and synset.similar else synset.id

    def cluster(self, synset: Synset) -> frozenset[str]:
        """An adjective's similarity cluster: its head and the head's satellites."""
        head = self.synsets.get(self.head(synset))
        return frozenset([synset.id, *([head.id, *head.similar] if head else [])])

    def display(self, sid: str) -> str:
        """The word used to name a synset inside a question: lower-case lemmas first."""
        lemmas = self.synsets[sid].lemmas
        lower = [lemma for lemma in lemmas if lemma[:1].islower()]
        return (lower or lemmas)[0]

    # -- question text rules --------------------------------------------------------------------------
    def leaks(self, text: str, target: Synset) -> bool:
        """Does `text` contain a word of `target` or an inflection/close derivative of one?"""
        words = tokens(text)
        padded = normalize(text)
        for lemma in target.lemmas:
            parts = tokens(lemma)
            if len(parts) == 1:
                if any(self.morph.same_word(w, parts[0]) for w in words):
                    return True
            elif parts and normalize(lemma) in padded:
                return True
        return False

    def mask(self, sentence: str, target: Synset) -> tuple[str, str] | None:
        """`sentence` with the target's words replaced by "___", and the lemma that was masked."""
        masked_lemma: str | None = None
        out = sentence
        for lemma in sorted(target.lemmas, key=len, reverse=True):
            parts = tokens(lemma)
            if not parts:
                continue
            if len(parts) > 1:
                pattern = re.compile(r"\b" + r"[\s-]+".join(map(re.escape, parts)) + r"\w*", re.IGNORECASE)
                out, count = pattern.subn("___", out)
            else:
                word = parts[0]

                def replace(match: re.Match[str], word: str = word) -> str:
                    token = match.group(0).lower()
                    return "___" if token == word or word in self.morph.base_forms(token) else match.group(0)

                new = re.sub(r"[A-Za-z]+", replace, out)
                count = int(new != out)
                out = new
            if count and masked_lemma is None:
                masked_lemma = lemma
        if masked_lemma is None:
            return None
        return out, masked_lemma

    # -- styles ---------------------------------------------------------------------------------------
    def hint(self, synset: Synset) -> str | None:
        """A short pointer to the target's neighbourhood: hypernym, cluster head or antonym."""
        if synset.pos in ("n", "v") and synset.hypernyms:
            parent = self.display(synset.hypernyms[0])
            return f"a kind of {parent}" if synset.pos == "n" else f"to {parent} in a certain way"
        if synset.pos == "a":
            if synset.satellite and synset.similar:
                return f"similar to {self.display(synset.similar[0])}"
            if synset.antonyms:
                return f"the opposite of {self.display(synset.antonyms[0])}"
        return None

    def draft_example(self, synset: Synset, rng: random.Random, answer: str) -> _Draft | None:
        examples = list(synset.examples)
        rng.shuffle(examples)
        hint = self.hint(synset)
        for example in examples:
            masked = self.mask(example, synset)
            if masked is None or "___" not in masked[0]:
                continue
            sentence, lemma = masked
            if len(tokens(sentence)) < MIN_EXAMPLE_WORDS:
                continue  # '"___ matter"' says too little
            word = lemma if _SIMPLE_WORD.fullmatch(lemma) else answer
            for text in ([f'{hint}; as in: "{sentence}"'] if hint else []) + [f'as in: "{sentence}"']:
                if not self.leaks(text, synset):
                    return _Draft("example", text, word, frozenset())
        return None

    def draft_features(self, synset: Synset, rng: random.Random, answer: str) -> _Draft | None:
        if synset.pos in ("n", "v") and synset.hypernyms:
            frame_id = synset.hypernyms[0]
        elif synset.pos == "a" and synset.similar:
            frame_id = synset.similar[0] if synset.satellite else rng.choice(synset.similar)
        else:
            return None
        frame = self.synsets[frame_id]
        name = self.display(frame_id)
        frame_forms = {
            f for w in tokens(frame.gloss + " " + " ".join(frame.lemmas)) for f in self.morph.base_forms(w)
        }
        words: list[str] = []
        seen: set[str] = set()
        for word in _GLOSS_WORD.findall(synset.gloss):
            low = word.lower()
            if low in STOPWORDS or len(low) < 3 or low in seen or self.morph.base_forms(low) & frame_forms:
                continue
            seen.add(low)
            words.append(word)
        words = [w for w in words if not self.leaks(w, synset)]
        if len(words) < 2:
            return None
        words = sorted(words, key=lambda w: self.gloss_df.get(w.lower(), 0))[:MAX_FEATURE_WORDS]
        rng.shuffle(words)
        listed = ", ".join(words)
        if synset.pos == "n":
            text = f"{_article(name)} {name} associated with: {listed}"
        elif synset.pos == "v":
            text = f"to {name}, in a way associated with: {listed}"
        else:
            text = f"like {name}, and associated with: {listed}"
        if self.leaks(text, synset):
            return None
        return _Draft("features", text, answer, frozenset())

    def draft_related(self, synset: Synset, rng: random.Random, answer: str) -> _Draft | None:
        if synset.pos == "a":
            similar = list(synset.similar)
            rng.shuffle(similar)
            for sid in similar:
                text = f'close in meaning to "{self.synsets[sid].gloss}"'
                if not self.leaks(text, synset):
                    return _Draft("related", text, answer, frozenset())
        else:
            hyponyms = list(synset.hyponyms)
            rng.shuffle(hyponyms)
            kind = "things" if synset.pos == "n" else "actions"
            for sid in hyponyms:
                child = self.synsets[sid]
                text = f"a more general word for {kind} such as {self.display(sid)} ({child.gloss})"
                if not self.leaks(text, synset):
                    return _Draft("related", text, answer, self.ancestors(sid))
        for sid in synset.antonyms:
            hint = self.hint(synset) if synset.pos != "a" else None
            text = f"the opposite of {self.display(sid)}" + (f"; {hint}" if hint else "")
            if not self.leaks(text, synset):
                return _Draft("related", text, answer, frozenset())
        return None

    # -- distractors ----------------------------------------------------------------------------------
    def distractors(self, synset: Synset, draft: _Draft, rng: random.Random) -> list[str] | None:
        """Three distractor words for `draft`, hardest tier first; None when too few qualify."""
        target_words = {lemma.lower() for lemma in synset.lemmas}
        own_ancestors = self.ancestors(synset.id)
        cluster = self.cluster(synset) if synset.pos == "a" else frozenset()
        question_words = tokens(draft.text)
        chosen: list[str] = []

        def sense_ok(sid: str) -> bool:
            if sid == synset.id or sid in own_ancestors or sid in draft.avoid or sid in cluster:
                return False
            return synset.id not in self.ancestors(sid)

        def try_add(sid: str) -> bool:
            word = self.word.get(sid)
            if word is None or not sense_ok(sid) or word in target_words:
                return False
            if any(self.morph.same_word(word, other) for other in [draft.answer, *chosen]):
                return False
            if any(self.morph.same_word(word, w) for w in question_words):
                return False
            if not all(sense_ok(other) for other in self.senses[word]):
                return False
            chosen.append(word)
            return len(chosen) == NUM_OPTIONS - 1

        if synset.pos == "a":
            first = [s for head in self.synsets[self.head(synset)].antonyms for s in self._cluster_of(head)]
        else:
            first = [s for parent in synset.hypernyms for s in self.synsets[parent].hyponyms]
        first = sorted(set(first))
        rng.shuffle(first)
        for sid in first:
            if try_add(sid):
                return chosen
        for pool in (self.by_lexname[synset.lexname], self.by_pos[synset.pos]):
            for _ in range(60):
                if pool and try_add(pool[rng.randrange(len(pool))]):
                    return chosen
        return None

    def _cluster_of(self, sid: str) -> list[str]:
        synset = self.synsets.get(sid)
        return [] if synset is None else sorted(self.cluster(synset))

    # -- one synset ------------------------------------------------------------------------------------
    def questions_for(self, synset: Synset, seed: int, per_synset: int) -> list[Question]:
        answer = self.word.get(synset.id)
        if answer is None:
            return []
        rng = random.Random(f"{seed}:{synset.id}")
        makers: dict[str, Callable[[Synset, random.Random, str], _Draft | None]] = {
            "example": self.draft_example,
            "features": self.draft_features,
            "related": self.draft_related,
        }
        out: list[Question] = []
        for style in rng.sample(STYLES, len(STYLES)):
            draft = makers[style](synset, rng, answer)
            if draft is None:
                continue
            wrong = self.distractors(synset, draft, rng)
            if wrong is None:
                continue
            position = rng.randrange(NUM_OPTIONS)
            options = [*wrong[:position], draft.answer, *wrong[position:]]
            out.append(
                Question(draft.text, options, position, id=f"{synset.id}-{style}", gold=f"wn:{synset.id}")
            )
            if len(out) == per_synset:
                break
        return out


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


def generate_questions(
    synsets: Mapping[str, Synset],
    *,
    seed: int,
    max_questions: int | None = None,
    pos: Sequence[str] = ("n", "v", "a"),
    per_synset: int = 1,
    morphology: Morphology | None = None,
    targets: Collection[str] | None = None,
) -> list[Question]:
    """Reverse-dictionary questions for the synsets of parts of speech `pos`, sorted by id.

    `per_synset` styles at most per synset (1 to 3); `max_questions` keeps a seeded random subset;
    `targets` (synset ids) limits which synsets are asked about, all of `synsets` still giving distractors.
    `morphology` defaults to WordNet's exception lists read from the default WordNet folder (if present).
    """
    if not 1 <= per_synset <= len(STYLES):
        raise UserError(f"questions per synset must be between 1 and {len(STYLES)}, got {per_synset}")
    if max_questions is not None and max_questions < 1:
        raise UserError(f"the maximum number of questions must be >= 1, got {max_questions}")
    unknown = set(pos) - {"n", "v", "a", "r"}
    if unknown:
        raise UserError(f"unknown part of speech {sorted(unknown)}; use n, v, a, r")
    if morphology is None:
        from vodqa.corpus.wordnet import load_exceptions

        morphology = Morphology(load_exceptions())
    generator = _Generator(synsets, morphology)
    questions: list[Question] = []
    for sid in sorted(synsets if targets is None else set(targets) & set(synsets)):
        synset = synsets[sid]
        if synset.pos in pos:
            questions.extend(generator.questions_for(synset, seed, per_synset))
    if not questions:
        raise UserError("WordNet gave no questions (is the WordNet folder complete?)")
    if max_questions is not None and max_questions < len(questions):
        keep = sorted(random.Random(seed).sample(range(len(questions)), max_questions))
        questions = [questions[k] for k in keep]
    logger.info("generated %d questions from %d synsets", len(questions), len(synsets))
    return questions


def split_key(question: Question) -> str:
    """What a split keeps together: the gold passage (the synset), else the id's stem, else the text."""
    if question.gold:
        return question.gold
    if question.id:
        return question.id.rsplit("-", 1)[0]
    return question.question


def split_questions(
    questions: Sequence[Question], *, val_fraction: float = 0.05, test_fraction: float = 0.05, seed: int = 0
) -> dict[str, list[Question]]:
    """{"train", "val", "test"}: disjoint by `split_key` (a synset never in two splits), seeded."""
    for name, value in (("validation", val_fraction), ("test", test_fraction)):
        if not 0.0 <= value < 1.0:
            raise UserError(f"the {name} fraction must be in [0, 1), got {value}")
    if val_fraction + test_fraction >= 1.0:
        raise UserError(f"validation + test fractions must be < 1, got {val_fraction} + {test_fraction}")
    keys = sorted({split_key(q) for q in questions})
    random.Random(seed).shuffle(keys)
    n_test = round(test_fraction * len(keys))
    n_val = round(val_fraction * len(keys))
    where = {key: "test" for key in keys[:n_test]}
    where.update({key: "val" for key in keys[n_test : n_test + n_val]})
    splits: dict[str, list[Question]] = {"train": [], "val": [], "test": []}
    for q in questions:
        splits[where.get(split_key(q), "train")].append(q)
    return splits
