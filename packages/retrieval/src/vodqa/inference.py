r"""Answering questions with a trained reader-retriever pair (Liévin et al. 2023, eq. 1):

    p(a_i | q) ~ sum_{k=1..K} p(d_k | q) p_theta(a_i | q, d_k),   p(d_k | q) = softmax_k f(q, d_k),

over the top K passages of the checkpoint's retriever among the passages about the options
(`vodqa.index.option_pool`; checkpoints trained with `pool="corpus"`: among the whole corpus): f_theta = cos / tau + w * BM25 with the fine-tuned
MiniLM for `vod` checkpoints (the top K of the union of dense and BM25 candidates, `Index.candidates`),
cos / tau of the frozen MiniLM for `frozen-dense`, the BM25 score for `bm25` checkpoints. The index must have
been built with the checkpoint's retriever (`check_encoder`), otherwise the scores mean nothing; for option
pools that is not needed: their passages are embedded with the checkpoint's retriever when first met
(`vodqa.index.passage_vectors`), so one index of the corpus serves every checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from vcore.precision import bf16_native
from vodqa import encoder as enc
from vodqa.corpus.passage import Passage, passage_text
from vodqa.index import Index, check_encoder
from vodqa.index.passage_vectors import LazyPassageVectors
from vodqa.model.qa_model import VodQAModel


@dataclass
class Answer:
    """Option probabilities p(a_i | q), the chosen option, and the K passages with p(d | q) and p(a | q, d)."""

    probabilities: list[float]
    best: int
    passages: list[Passage]
    passage_probabilities: list[float]
    reader_probabilities: list[list[float]]  # [K][A]


class QASystem:
    """A checkpoint and an index; `answer` runs retrieval then the reader."""

    def __init__(self, model: VodQAModel, index: Index, k: int = 8) -> None:
        self.model = model.eval()
        self.index = index
        self.k = min(k, len(index.passages))
        self.passage_vectors: LazyPassageVectors | None = None
        if model.config.method == "bm25":
            return
        if model.config.pool == "options":  # pools are small: embed their passages with the checkpoint
            fingerprint = index.config["encoder"].get("fingerprint")
            if fingerprint != enc.weights_fingerprint(model.retriever):
                self.passage_vectors = LazyPassageVectors(
                    index.passages, model.retriever, model.tokenizer, model.config.passage_max_length
                )
        else:
            check_encoder(index, model.retriever)

    def retrieve(
        self, questions: Sequence[str], k: int, options: Sequence[Sequence[str]] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores f [B, k], ids [B, k]) of the checkpoint's retriever, -1 padded; over each question's option
        pool when the checkpoint ranks option pools and `options` are given, else over the corpus."""
        config = self.model.config
        if config.pool == "options" and options is not None:
            return self._retrieve_from_pools(questions, k, options)
        if config.method == "bm25":
            return self.index.search_bm25(list(questions), k)
        vectors = enc.embed(
            self.model.retriever, self.model.tokenizer, list(questions), max_length=config.query_max_length
        )
        if config.method == "vod" and config.bm25_weight:
            found = self.index.candidates(list(questions), vectors, k)
            scores = found.dense / config.temperature + config.bm25_weight * found.bm25
            return np.where(found.ids >= 0, scores, -np.inf), found.ids
        scores, ids = self.index.search_dense(vectors, k)
        return scores / config.temperature, ids

    def _retrieve_from_pools(
        self, questions: Sequence[str], k: int, options: Sequence[Sequence[str]]
    ) -> tuple[np.ndarray, np.ndarray]:
        config = self.model.config
        if config.method == "bm25":
            vectors = np.zeros((len(questions), self.index.dim), dtype=np.float32)
        else:
            vectors = enc.embed(
                self.model.retriever,
                self.model.tokenizer,
                list(questions),
                max_length=config.query_max_length,
            )
        found = self.index.option_candidates(list(questions), vectors, options, k, self.passage_vectors)
        real = found.ids >= 0
        dense, bm25 = np.where(real, found.dense, 0.0), np.where(real, found.bm25, 0.0)
        if config.method == "bm25":
            scores = bm25
        elif config.method == "frozen-dense":
            scores = dense / config.temperature
        else:
            scores = dense / config.temperature + config.bm25_weight * bm25
        return np.where(real, scores, -np.inf), found.ids

    @torch.inference_mode()
    def answer(self, question: str, options: Sequence[str]) -> Answer:
        return self.answer_batch([question], [list(options)])[0]

    @torch.inference_mode()
    def answer_batch(self, questions: Sequence[str], options: Sequence[Sequence[str]]) -> list[Answer]:
        """Answer questions that all have the same number of options."""
        scores, ids = self.retrieve(questions, self.k, options)
        width = max(1, int((ids >= 0).sum(axis=1).max(initial=0)))  # pools can be smaller than k
        scores, ids = scores[:, :width], ids[:, :width]
        keep = torch.from_numpy(ids >= 0)
        log_prior = torch.from_numpy(np.where(ids >= 0, scores, -np.inf).astype(np.float32))
        nothing = ~keep.any(-1, keepdim=True)  # no passage at all: read an empty one
        log_prior = torch.where(nothing, 0.0, log_prior).log_softmax(-1)
        texts = [
            [passage_text(self.index.passages[i]) if i >= 0 else "" for i in row] for row in ids.tolist()
        ]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16_native(self.model.device)):
            log_reader = self.model.reader_log_probs(
                list(questions), [list(o) for o in options], texts
            ).float()
        log_marginal = torch.logsumexp(log_prior.unsqueeze(-1) + log_reader, dim=1)
        answers = []
        for b in range(len(questions)):
            probs = log_marginal[b].softmax(-1)  # renormalise the bf16 rounding
            answers.append(
                Answer(
                    probabilities=probs.tolist(),
                    best=int(probs.argmax()),
                    passages=[self.index.passages[i] for i in ids[b] if i >= 0],
                    passage_probabilities=log_prior[b][keep[b]].exp().tolist(),
                    reader_probabilities=log_reader[b][keep[b]].exp().tolist(),
                )
            )
        return answers
