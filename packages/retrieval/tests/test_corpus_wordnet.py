"""WordNet 3.0 data files: exact fields of a synthetic synset, the real dog synset, 117,659 passages."""

from __future__ import annotations

from pathlib import Path

import pytest

from vcore.errors import UserError
from vodqa.corpus import load_corpus
from vodqa.corpus.wordnet import Synset, load_wordnet, split_gloss, wordnet_passages

REAL = Path("/usr/share/wordnet")
needs_wordnet = pytest.mark.skipif(
    not (REAL / "data.noun").is_file(), reason="Debian wordnet-base not installed"
)

HEADER = "  1 This software and database is being provided to you, the LICENSEE, by  \n"
NOUN = (
    "00000010 05 n 01 canine 0 002 @ 00000001 n 0000 ~ 00000020 n 0000 | a flesh-eating mammal  \n"
    "00000020 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 003 @ 00000010 n 0000 @i 00000030 n 0000 "
    "~ 00000040 n 0000 | a member of the genus Canis; kept as a pet; "
    '"the dog barked all night"; "a dog\'s life"  \n'
)
ADJ = (
    "00000100 00 a 01 hot 0 003 & 00000200 a 0000 ! 00000300 a 0101 + 00000400 n 0101 | used of physical "
    'heat; "a hot stove"  \n'
    "00000200 00 s 01 scorching(p) 0 001 & 00000100 a 0000 | hot and dry enough to burn  \n"
)


def write_wordnet(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.noun").write_text(HEADER + NOUN, encoding="utf-8")
    (folder / "data.adj").write_text(HEADER + ADJ, encoding="utf-8")
    (folder / "data.verb").write_text(HEADER, encoding="utf-8")
    (folder / "data.adv").write_text(HEADER, encoding="utf-8")
    return folder


def test_synthetic_data_files(tmp_path: Path) -> None:
    synsets = load_wordnet(write_wordnet(tmp_path / "wn"))
    assert sorted(synsets) == ["a00000100", "a00000200", "n00000010", "n00000020"]
    assert synsets["n00000020"] == Synset(
        id="n00000020",
        pos="n",
        lexname="noun.animal",
        lemmas=["dog", "domestic dog", "Canis familiaris"],
        gloss="a member of the genus Canis; kept as a pet",
        examples=["the dog barked all night", "a dog's life"],
        hypernyms=["n00000010", "n00000030"],
        hyponyms=["n00000040"],
    )
    assert synsets["a00000100"].antonyms == ["a00000300"]
    assert synsets["a00000100"].similar == ["a00000200"]
    assert synsets["a00000100"].examples == ["a hot stove"]
    scorching = synsets["a00000200"]
    assert (scorching.pos, scorching.lexname, scorching.lemmas, scorching.satellite) == (
        "a",
        "adj.all",
        ["scorching"],
        True,
    )
    assert scorching.similar == ["a00000100"]
    assert scorching.examples == []
    passages = {p.id: p for p in wordnet_passages(synsets)}
    assert passages["wn:n00000020"].title == "dog, domestic dog, Canis familiaris"
    assert passages["wn:n00000020"].text == (
        '(noun) a member of the genus Canis; kept as a pet; "the dog barked all night"; "a dog\'s life"'
    )
    assert passages["wn:a00000200"].text == "(adjective) hot and dry enough to burn"


def test_environment_variable_and_missing_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VODQA_WORDNET_DIR", str(write_wordnet(tmp_path / "wn")))
    assert len(load_wordnet()) == 4
    assert len(load_corpus("wordnet")) == 4
    with pytest.raises(UserError, match="wordnet-base"):
        load_wordnet(tmp_path / "nowhere")


def test_split_gloss() -> None:
    assert split_gloss('a pet; "ex one"; "ex two"') == ("a pet", ["ex one", "ex two"])
    assert split_gloss('the act of putting: "he sent Smith in"') == (
        "the act of putting",
        ["he sent Smith in"],
    )
    assert split_gloss("no examples at all") == ("no examples at all", [])


@needs_wordnet
def test_real_wordnet() -> None:
    synsets = load_wordnet(REAL)
    passages = wordnet_passages(synsets)
    assert len(passages) == 117_659
    assert len({p.id for p in passages}) == 117_659
    counts = {pos: sum(s.pos == pos for s in synsets.values()) for pos in "nvar"}
    assert counts == {"n": 82_115, "v": 13_767, "a": 18_156, "r": 3_621}
    dog = synsets["n02084071"]
    assert dog.lemmas == ["dog", "domestic dog", "Canis familiaris"]
    assert dog.lexname == "noun.animal"
    assert "n02083346" in dog.hypernyms
    assert dog.examples == ["the dog barked all night"]
    assert dog.gloss.startswith("a member of the genus Canis (probably descended from the common wolf)")
    assert synsets["n02083346"].lemmas[0] == "canine"
    assert "n02084071" in synsets["n02083346"].hyponyms
    dog_passage = next(p for p in passages if p.id == "wn:n02084071")
    assert dog_passage.title == "dog, domestic dog, Canis familiaris"
    assert dog_passage.text.startswith("(noun) a member of the genus")
    assert dog_passage.text.endswith('; occurs in many breeds; "the dog barked all night"')
    assert not any(
        "(a)" in lemma or "(p)" in lemma or "_" in lemma for s in synsets.values() for lemma in s.lemmas
    )
