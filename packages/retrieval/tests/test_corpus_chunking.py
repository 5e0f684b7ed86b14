"""chunk_words: exact windows, coverage of every word, and the stride checks."""

from __future__ import annotations

import pytest

from vcore.errors import UserError
from vodqa.corpus.chunking import chunk_words


def words(n: int) -> str:
    return " ".join(f"w{k}" for k in range(n))


def test_exact_windows() -> None:
    assert chunk_words(words(10), 4, 3) == ["w0 w1 w2 w3", "w3 w4 w5 w6", "w6 w7 w8 w9"]
    assert chunk_words(words(11), 4, 3) == ["w0 w1 w2 w3", "w3 w4 w5 w6", "w6 w7 w8 w9", "w9 w10"]
    assert chunk_words(words(8), 4, 4) == ["w0 w1 w2 w3", "w4 w5 w6 w7"]


def test_short_and_empty_texts() -> None:
    assert chunk_words("  one\n two\tthree ", 100, 75) == ["one two three"]
    assert chunk_words(words(100), 100, 75) == [words(100)]
    assert chunk_words("   ", 100, 75) == []


def test_default_sizes_cover_every_word() -> None:
    chunks = chunk_words(words(250), 100, 75)
    assert [len(c.split()) for c in chunks] == [100, 100, 100]
    assert chunks[1].split()[0] == "w75"
    assert chunks[2].split() == [f"w{k}" for k in range(150, 250)]
    assert [len(c.split()) for c in chunk_words(words(251), 100, 75)] == [100, 100, 100, 26]
    covered = {w for c in chunks for w in c.split()}
    assert covered == set(words(250).split())


@pytest.mark.parametrize(("passage_words", "stride"), [(10, 0), (10, 11), (0, 1), (5, -1)])
def test_bad_stride_is_a_user_error(passage_words: int, stride: int) -> None:
    with pytest.raises(UserError, match=r"stride|passage length"):
        chunk_words(words(20), passage_words, stride)
