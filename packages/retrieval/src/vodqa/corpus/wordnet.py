"""WordNet 3.0 read straight from its lexicographer data files (Debian package `wordnet-base`).

Format: wndb(5WN) (https://wordnet.princeton.edu/documentation/wndb5wn). Each line of data.{noun,verb,adj,adv}
after the licence header is

    offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt [ptr...] [frames...] | gloss

with w_cnt in hexadecimal, p_cnt in decimal and each pointer `symbol offset pos source/target`
(source/target "0000" for a semantic pointer between synsets, otherwise a lexical one between words).
The gloss is a definition followed by quoted examples: `definition; "example one"; "example two"`.
Lexicographer file numbers are named in lexnames(5WN). The 117,659 synsets become one passage each.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from vcore.errors import UserError
from vodqa.corpus.passage import Passage

logger = logging.getLogger(__name__)

DEFAULT_WORDNET_DIR = Path("/usr/share/wordnet")
WORDNET_ENV = "VODQA_WORDNET_DIR"
DATA_FILES = {"n": "data.noun", "v": "data.verb", "a": "data.adj", "r": "data.adv"}
EXCEPTION_FILES = {"n": "noun.exc", "v": "verb.exc", "a": "adj.exc", "r": "adv.exc"}
POS_WORDS = {"n": "noun", "v": "verb", "a": "adjective", "r": "adverb"}

# lexnames(5WN): lexicographer file number -> name.
_LEXNAMES_TEXT = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
    "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
    "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
    "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
    "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
)
LEXNAMES = _LEXNAMES_TEXT.split()

_ADJ_MARKER = re.compile(r"\((?:a|p|ip)\)$")
_EXAMPLES_START = re.compile(r'(?:^|[;:]\s*)"')
_QUOTED = re.compile(r'"([^"]*)"?')


@dataclass
class Synset:
    """One WordNet synset; ids are the pos letter and the 8-digit byte offset ("n02084071")."""

    id: str
    pos: str
    lexname: str
    lemmas: list[str]
    gloss: str
    examples: list[str] = field(default_factory=list)
    hypernyms: list[str] = field(default_factory=list)
    hyponyms: list[str] = field(default_factory=list)
    similar: list[str] = field(default_factory=list)
    antonyms: list[str] = field(default_factory=list)
    satellite: bool = False  # an adjective satellite (ss_type "s"), whose `similar` is its cluster head


def wordnet_dir(root: Path | None = None) -> Path:
    """The WordNet folder: `root`, else $VODQA_WORDNET_DIR, else /usr/share/wordnet."""
    if root is not None:
        return Path(root)
    env = os.environ.get(WORDNET_ENV)
    return Path(env) if env else DEFAULT_WORDNET_DIR


def _synset_id(pos: str, offset: str) -> str:
    return ("a" if pos == "s" else pos) + offset


def split_gloss(text: str) -> tuple[str, list[str]]:
    """Split a gloss into its definition and its quoted examples (`def; "ex1"; "ex2"`)."""
    match = _EXAMPLES_START.search(text)
    if match is None:
        return text.strip().rstrip(";").strip(), []
    definition = text[: match.start()].strip().rstrip(";:").strip()
    examples = [e.strip() for e in _QUOTED.findall(text[match.start() :]) if e.strip()]
    return definition, examples


def parse_data_line(line: str, where: str = "") -> Synset:
    """Parse one synset line of a data.* file (see the module docstring for the format)."""
    try:
        head, _, gloss_text = line.partition(" | ")
        fields = head.split()
        offset, lex_filenum, ss_type = fields[0], int(fields[1]), fields[2]
        w_cnt = int(fields[3], 16)
        lemmas: list[str] = []
        for k in range(w_cnt):
            word = _ADJ_MARKER.sub("", fields[4 + 2 * k]).replace("_", " ")
            if word not in lemmas:
                lemmas.append(word)
        at = 4 + 2 * w_cnt
        p_cnt = int(fields[at])
        synset = Synset(
            id=_synset_id(ss_type, offset),
            pos="a" if ss_type == "s" else ss_type,
            lexname=LEXNAMES[lex_filenum],
            lemmas=lemmas,
            gloss="",
            satellite=ss_type == "s",
        )
        for k in range(p_cnt):
            symbol, target, target_pos, source_target = fields[at + 1 + 4 * k : at + 5 + 4 * k]
            target_id = _synset_id(target_pos, target)
            if symbol in ("@", "@i"):
                synset.hypernyms.append(target_id)
            elif symbol in ("~", "~i"):
                synset.hyponyms.append(target_id)
            elif symbol == "&":
                synset.similar.append(target_id)
            elif symbol == "!" and source_target != "0000" and target_id not in synset.antonyms:
                synset.antonyms.append(target_id)
    except (IndexError, ValueError) as err:
        raise UserError(f"{where}: not a WordNet 3.0 data line ({err})") from None
    synset.gloss, synset.examples = split_gloss(gloss_text)
    return synset


def load_wordnet(root: Path | None = None) -> dict[str, Synset]:
    """Every synset of data.{noun,verb,adj,adv} under `root` (see `wordnet_dir`), keyed by id."""
    folder = wordnet_dir(root)
    synsets: dict[str, Synset] = {}
    for name in DATA_FILES.values():
        path = folder / name
        if not path.is_file():
            raise UserError(
                f"{path}: WordNet data file not found; install Debian's wordnet-base "
                f"(apt-get install wordnet-base) or set {WORDNET_ENV} to a WordNet 3.0 dict folder"
            )
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if line.startswith("  ") or not line.strip():
                    continue  # licence header
                synset = parse_data_line(line.rstrip("\n"), f"{path}:{number}")
                synsets[synset.id] = synset
    logger.info("read %d WordNet synsets from %s", len(synsets), folder)
    return synsets


def load_exceptions(root: Path | None = None) -> dict[str, set[str]]:
    """Irregular inflections from {noun,verb,adj,adv}.exc: inflected form -> base forms ("ran" -> {"run"})."""
    folder = wordnet_dir(root)
    table: dict[str, set[str]] = {}
    for name in EXCEPTION_FILES.values():
        path = folder / name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words = line.split()
            if len(words) >= 2:
                table.setdefault(words[0].replace("_", " "), set()).update(
                    w.replace("_", " ") for w in words[1:]
                )
    return table


def synset_text(synset: Synset) -> str:
    """`(noun) gloss; "example"; ...`: the text of a synset's passage."""
    examples = "".join(f'; "{e}"' for e in synset.examples)
    return f"({POS_WORDS[synset.pos]}) {synset.gloss}{examples}"


def wordnet_passages(synsets: Mapping[str, Synset]) -> list[Passage]:
    """One passage per synset: id "wn:<synset id>", title its lemmas, text `synset_text`."""
    return [Passage(f"wn:{s.id}", ", ".join(s.lemmas), synset_text(s)) for s in synsets.values()]
