"""FOLDOC from a dictd dictzip + index: base-64 numbers, markup stripping, chunking, the real dictionary."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from vcore.errors import UserError
from vodqa.corpus.foldoc import B64_DIGITS, clean_body, decode_b64_number, load_foldoc

REAL_DICT = Path("/usr/share/dictd/foldoc.dict.dz")
REAL_INDEX = Path("/usr/share/dictd/foldoc.index")


def b64(value: int) -> str:
    digits = ""
    while True:
        digits = B64_DIGITS[value % 64] + digits
        value //= 64
        if value == 0:
            return digits


def make_dictd(folder: Path, entries: list[tuple[list[str], str]]) -> tuple[Path, Path]:
    """A dictd pair: entries are (headwords pointing at it, raw entry text)."""
    data = b""
    index: list[str] = []
    for headwords, raw in entries:
        encoded = raw.encode("utf-8")
        index.extend(f"{h}\t{b64(len(data))}\t{b64(len(encoded))}" for h in headwords)
        data += encoded
    dict_path, index_path = folder / "foldoc.dict.dz", folder / "foldoc.index"
    dict_path.write_bytes(gzip.compress(data))
    index_path.write_text("\n".join(index) + "\n", encoding="utf-8")
    return dict_path, index_path


def test_decode_b64_number() -> None:
    assert [decode_b64_number(s) for s in ("A", "B", "BA", "K5", "Gb9L")] == [
        0,
        1,
        64,
        10 * 64 + 57,
        6 * 64**3 + 27 * 64**2 + 61 * 64 + 11,
    ]
    assert all(decode_b64_number(b64(v)) == v for v in (0, 63, 64, 4095, 5578809))


def test_clean_body() -> None:
    body = "\n   <language, tool> A {lisp} dialect, see {More about it (about.html)}.\n   Next  line.\n\n   (1995-04-16)\n"
    assert clean_body(body) == "(language, tool) A lisp dialect, see More about it. Next line."


def test_synthetic_dictionary(tmp_path: Path) -> None:
    long_body = " ".join(f"w{k}" for k in range(9))
    dict_path, index_path = make_dictd(
        tmp_path,
        [
            (["00-database-info"], "00-database-info\n\n   About this {database}.\n\n"),
            (["scheme", "Scheme"], "Scheme\n\n   <language> A {Lisp} dialect.\n\n   (2001-01-01)\n\n"),
            (["long"], f"Long\nLong Entry\nLE\n\n   {long_body}\n\n"),
        ],
    )
    passages = load_foldoc(dict_path, index_path, passage_words=5, stride=4)
    assert [(p.id, p.title, p.text) for p in passages] == [
        ("foldoc:Scheme", "Scheme", "(language) A Lisp dialect."),
        ("foldoc:Long#0", "Long", "also: Long Entry, LE. w0"),
        ("foldoc:Long#1", "Long", "w0 w1 w2 w3 w4"),
        ("foldoc:Long#2", "Long", "w4 w5 w6 w7 w8"),
    ]


def test_missing_and_bad_files(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="dict-foldoc"):
        load_foldoc(tmp_path / "none.dict.dz", tmp_path / "none.index")
    dict_path, index_path = make_dictd(tmp_path, [(["x"], "x\n\n  y\n")])
    index_path.write_text("x\tA\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"foldoc\.index:1: not a dictd index line"):
        load_foldoc(dict_path, index_path)


@pytest.mark.skipif(not REAL_DICT.is_file(), reason="Debian dict-foldoc is not installed")
def test_real_foldoc() -> None:
    passages = load_foldoc()
    assert len(passages) > 10_000
    assert len({p.id for p in passages}) == len(passages)
    by_id = {p.id: p for p in passages}
    assert "foldoc:00-database-info" not in by_id
    # Cross-reference braces are gone; FOLDOC's own unbalanced or literal braces ("{" = leftit) remain.
    assert sum(bool(re.search(r"\{[A-Za-z][^{}]*\}", p.text)) for p in passages) == 0
    bubble = by_id["foldoc:bubble sort#0"]
    assert bubble.title == "bubble sort"
    assert bubble.text.startswith(
        "A sorting technique in which pairs of adjacent values in the list to be sorted"
    )
    assert "hackers consider it the canonical example of a naive algorithm" in bubble.text
    assert by_id["foldoc:Lisp#0"].text.startswith("(language) LISt Processing language.")
