"""Retrieval indexes: dense (all-MiniLM-L6-v2 + FAISS), sparse (BM25) and their hybrid candidates."""

from __future__ import annotations

from vodqa.index.build import build_index
from vodqa.index.hybrid import Candidates, hybrid_score
from vodqa.index.store import Index, check_encoder

__all__ = ["Candidates", "Index", "build_index", "check_encoder", "hybrid_score"]
