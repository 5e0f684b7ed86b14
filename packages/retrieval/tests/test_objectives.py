"""The training objectives on a stub reader-retriever whose scores are known in closed form."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
import torch

from vcore.bounds.snis import vod_bound
from vcore.samplers.priority import priority_sample
from vodqa.train.objectives import Batch, marginal_loss, vod_loss


class StubModel:
    """f_theta(q, d) = 0.1 * len(d); reader logits = 1 for the option named first in the passage, else 0."""

    def score_passages(self, questions: Sequence[str], passages: Sequence[Sequence[str]]) -> torch.Tensor:
        return torch.tensor([[0.1 * len(t) for t in row] for row in passages], dtype=torch.float64)

    def reader_log_probs(
        self, questions: Sequence[str], options: Sequence[Sequence[str]], passages: Sequence[Sequence[str]]
    ) -> torch.Tensor:
        logits = [
            [[1.0 if t.startswith(o) else 0.0 for o in opts] for t in texts]
            for opts, texts in zip(options, passages, strict=False)
        ]
        return torch.tensor(logits, dtype=torch.float64).log_softmax(-1)


def _batch() -> Batch:
    texts = [
        ["cat: a feline", "dog: a canine pet", "cow", "catfish: a fish"],
        ["dog", "cat", "dog: loyal", "x"],
    ]
    return Batch(
        questions=["a small feline", "a loyal pet"],
        options=[["cat", "dog"], ["cat", "dog"]],
        answers=torch.tensor([0, 1]),
        candidate_texts=texts,
        candidate_scores=torch.tensor([[2.0, 1.0, 0.0, -1.0], [0.5, 0.0, 1.5, -3.0]], dtype=torch.float64),
    )


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_vod_loss_is_minus_the_vod_bound_on_the_priority_sample(alpha: float) -> None:
    batch = _batch()
    loss, metrics = vod_loss(StubModel(), batch, k=2, alpha=alpha, generator=torch.Generator().manual_seed(3))  # type: ignore[arg-type]
    sample = priority_sample(
        batch.candidate_scores.log_softmax(-1), 2, generator=torch.Generator().manual_seed(3)
    )
    texts = [
        [row[i] for i in idx]
        for row, idx in zip(batch.candidate_texts, sample.indices.tolist(), strict=False)
    ]
    f_theta = StubModel().score_passages(batch.questions, texts)
    log_lik = StubModel().reader_log_probs(batch.questions, batch.options, texts)
    log_lik = log_lik.gather(-1, batch.answers.view(-1, 1, 1).expand(-1, 2, 1)).squeeze(-1)
    f_r = batch.candidate_scores.gather(-1, sample.indices)
    expected = vod_bound(log_lik, f_theta, f_r, alpha, log_sample_weights=sample.log_weights).mean()
    assert loss.item() == pytest.approx(-expected.item(), abs=1e-12)
    assert metrics["alpha"] == alpha


def test_marginal_loss_matches_the_hand_computed_top_k_marginal() -> None:
    batch = _batch()
    loss, _ = marginal_loss(StubModel(), batch, k=2)  # type: ignore[arg-type]
    e = math.e
    # question 0: top-2 by score are "cat: a feline" (2.0) and "dog: a canine pet" (1.0); answer "cat"
    prior0 = [e**2 / (e**2 + e), e / (e**2 + e)]
    lik0 = [e / (e + 1), 1 / (1 + e)]
    # question 1: top-2 are "dog: loyal" (1.5) and "dog" (0.5); answer "dog" read with prob e/(e+1) in both
    lik1 = e / (e + 1)
    expected = -(math.log(sum(p * q for p, q in zip(prior0, lik0, strict=False))) + math.log(lik1)) / 2
    assert loss.item() == pytest.approx(expected, abs=1e-12)
