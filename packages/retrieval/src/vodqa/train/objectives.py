r"""Training objectives for one batch of questions, each with cached retrieval candidates.

VOD (Liévin et al. 2023, sec. 2-3). For question q with answer a*, the cached retriever gives scores
f_r(d) over its top-P candidates; r(d) = softmax f_r truncated to those P (`truncate_top_m` semantics: the
cache already holds only the top P). K passages are drawn by priority sampling from r with weights
s_k = max(r_k, tau) (`vcore.samplers.priority`), and the loss is -L_alpha,K from `vcore.bounds.vod_surrogate`:

    L_alpha,K = 1/(1 - alpha) log sum_k pi_k v_k^(1 - alpha),
    v_k = p_theta(a* | q, d_k) zeta_k / sum_j pi_j zeta_j,   zeta_k = exp(f_theta(d_k) - f_r(d_k)),

whose gradient is the VOD estimator for both the reader (log p(a* | q, d_k)) and the retriever (f_theta).
alpha is annealed from 1 (the self-normalised ELBO) towards 0 (the SNIS estimate of log p(a* | q)).

Baselines (reader only, retriever fixed). The top K candidates by the fixed score f, with
p(d | q) = softmax over them of f, and the top-K marginal likelihood

    log p(a* | q) ~ log sum_k p(d_k | q) p_theta(a* | q, d_k).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from vcore.bounds.snis import vod_surrogate
from vcore.samplers.priority import priority_sample
from vodqa.model.qa_model import VodQAModel


@dataclass
class Batch:
    """B questions with A options each and P cached candidates (passage texts and scores f_r)."""

    questions: list[str]
    options: list[list[str]]
    answers: Tensor  # [B] int64
    candidate_texts: list[list[str]]  # [B][P]
    candidate_scores: Tensor  # [B, P] f_r
    candidate_sparse: Tensor | None = None  # [B, P] the fixed BM25 part w * BM25 of f_theta (None: 0)


def _gather_texts(texts: Sequence[Sequence[str]], indices: Tensor) -> list[list[str]]:
    return [[row[i] for i in idx] for row, idx in zip(texts, indices.tolist(), strict=True)]


def answer_log_likelihood(model: VodQAModel, batch: Batch, texts: list[list[str]]) -> Tensor:
    """log p_theta(a* | q_b, d_bk) -> [B, K]."""
    log_probs = model.reader_log_probs(batch.questions, batch.options, texts)
    index = batch.answers.view(-1, 1, 1).expand(-1, log_probs.shape[1], 1)
    return log_probs.gather(-1, index).squeeze(-1)


def vod_loss(
    model: VodQAModel, batch: Batch, k: int, alpha: float, generator: torch.Generator | None = None
) -> tuple[Tensor, dict[str, float]]:
    """-mean_b L_alpha,K(q_b) with K priority-sampled passages per question; metrics for logging."""
    log_r = torch.log_softmax(batch.candidate_scores, dim=-1)
    sample = priority_sample(log_r, k, generator=generator)
    texts = _gather_texts(batch.candidate_texts, sample.indices)
    f_r = batch.candidate_scores.gather(-1, sample.indices)
    f_theta = model.score_passages(batch.questions, texts)
    if batch.candidate_sparse is not None:
        f_theta = f_theta + batch.candidate_sparse.gather(-1, sample.indices).to(f_theta.dtype)
    log_lik = answer_log_likelihood(model, batch, texts)
    bound = vod_surrogate(log_lik, f_theta, f_r, alpha, log_sample_weights=sample.log_weights)
    with torch.no_grad():
        reader_acc = (log_lik.exp() > 0.5).float().mean().item()
    return -bound.mean(), {"vod_bound": bound.mean().item(), "alpha": alpha, "reader_p>0.5": reader_acc}


def marginal_loss(model: VodQAModel, batch: Batch, k: int) -> tuple[Tensor, dict[str, float]]:
    """-mean_b log sum_k softmax(f)_k p_theta(a* | q_b, d_bk) over the top-K cached candidates."""
    top = torch.topk(batch.candidate_scores, k, dim=-1)
    texts = _gather_texts(batch.candidate_texts, top.indices)
    log_prior = torch.log_softmax(top.values, dim=-1)
    log_lik = answer_log_likelihood(model, batch, texts)
    log_marginal = torch.logsumexp(log_prior + log_lik, dim=-1)
    return -log_marginal.mean(), {"log_p_answer": log_marginal.mean().item()}
