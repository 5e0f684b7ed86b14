"""Passage embeddings computed when first needed, for retrievers whose weights differ from the index's.

A checkpoint that ranks option pools (`vodqa.index.option_pool`) scores a dozen passages per question, so
it does not need an index re-embedded with its own retriever: `LazyPassageVectors` embeds the pool passages
it is asked for with the checkpoint's retriever and keeps them. It stands in for the index's stored
embedding matrix wherever rows are taken by an id array (`vectors[ids]`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from torch import nn

from vodqa.corpus.passage import Passage, passage_text


class LazyPassageVectors:
    """`vectors[ids]` -> [len(ids), d] float32 unit embeddings of `passages[ids]` by `model`, cached by id."""

    def __init__(
        self, passages: Sequence[Passage], model: nn.Module, tokenizer: Any, max_length: int = 128
    ) -> None:
        self.passages = passages
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.cache: dict[int, np.ndarray] = {}

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        from vodqa.encoder import embed

        rows = [int(i) for i in np.asarray(ids).reshape(-1)]
        missing = sorted({i for i in rows if i not in self.cache})
        if missing:
            texts = [passage_text(self.passages[i]) for i in missing]
            vectors = embed(self.model, self.tokenizer, texts, max_length=self.max_length)
            self.cache.update(zip(missing, vectors, strict=True))
        dim = int(getattr(getattr(self.model, "config", None), "hidden_size", 384))
        if not rows:
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack([self.cache[i] for i in rows]).astype(np.float32)
