"""Split a text into overlapping windows of words (the passage chunking of DPR-style corpora).

Windows start at word 0, `stride`, 2*`stride`, ... and the last one is the first that reaches the end of
the text, so every word is covered and consecutive windows overlap by `passage_words - stride` words
(Karpukhin et al. 2020, "Dense Passage Retrieval", use 100-word passages).
"""

from __future__ import annotations

from vcore.errors import UserError


def check_chunking(passage_words: int, stride: int) -> None:
    """`UserError` unless 1 <= stride <= passage_words (a larger stride would skip words)."""
    if passage_words < 1:
        raise UserError(f"passage length must be >= 1 word, got {passage_words}")
    if not 1 <= stride <= passage_words:
        raise UserError(f"stride must be between 1 and the passage length ({passage_words}), got {stride}")


def chunk_words(text: str, passage_words: int, stride: int) -> list[str]:
    """Whitespace-separated words of `text` in windows [k*stride, k*stride + passage_words), joined by one space.

    An empty text gives no window; a text of at most `passage_words` words gives one.
    """
    check_chunking(passage_words, stride)
    words = text.split()
    chunks: list[str] = []
    start = 0
    while start < len(words):
        chunks.append(" ".join(words[start : start + passage_words]))
        if start + passage_words >= len(words):
            break
        start += stride
    return chunks
