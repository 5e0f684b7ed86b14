"""Question-answering metrics: accuracy, and the retriever's recall@k of the gold passage.

accuracy = mean 1[argmax_i p(a_i | q) = answer]; recall@k = the fraction of questions with a known gold
passage whose gold passage is among the retriever's top k (questions without one are left out and counted).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tqdm import tqdm

from vodqa.inference import QASystem
from vodqa.questions.question import Question


def accuracy(predicted: Sequence[int], answers: Sequence[int]) -> float:
    """Fraction of equal entries; 0 questions -> nan."""
    if len(predicted) != len(answers):
        raise ValueError("accuracy needs as many predictions as answers")
    if not answers:
        return float("nan")
    return sum(int(p == a) for p, a in zip(predicted, answers, strict=True)) / len(answers)


def recall_at_k(
    retrieved: Sequence[Sequence[str]], gold: Sequence[str | None], ks: Sequence[int]
) -> dict[int, float]:
    """recall@k for each k over the questions whose gold passage id is known (nan when there are none)."""
    pairs = [(row, g) for row, g in zip(retrieved, gold, strict=True) if g is not None]
    if not pairs:
        return {k: float("nan") for k in ks}
    return {k: sum(int(g in list(row)[:k]) for row, g in pairs) / len(pairs) for k in ks}


def evaluate(
    system: QASystem,
    questions: Sequence[Question],
    *,
    batch_size: int = 8,
    recall_ks: Sequence[int] = (1, 5, 10),
    progress: bool = False,
) -> dict[str, Any]:
    """Accuracy and mean p(answer) of the system, recall@k of its retriever; questions grouped by option count."""
    predicted: dict[int, int] = {}
    p_answer: dict[int, float] = {}
    groups: dict[int, list[int]] = {}
    for i, q in enumerate(questions):
        groups.setdefault(len(q.options), []).append(i)
    bar = tqdm(total=len(questions), desc="eval", unit="q", disable=not progress)
    for rows in groups.values():
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            answers = system.answer_batch(
                [questions[i].question for i in chunk], [questions[i].options for i in chunk]
            )
            for i, ans in zip(chunk, answers, strict=True):
                predicted[i] = ans.best
                p_answer[i] = ans.probabilities[questions[i].answer_idx]
            bar.update(len(chunk))
    bar.close()
    order = range(len(questions))
    with_gold = [i for i in order if questions[i].gold is not None]
    kmax = max(recall_ks)
    retrieved: list[list[str]] = []
    for start in range(0, len(with_gold), 64):
        chunk = with_gold[start : start + 64]
        _, ids = system.retrieve(
            [questions[i].question for i in chunk], kmax, [questions[i].options for i in chunk]
        )
        retrieved.extend([[system.index.passages[j].id for j in row if j >= 0] for row in ids])
    recall = recall_at_k(retrieved, [questions[i].gold for i in with_gold], recall_ks)
    return {
        "questions": len(questions),
        "accuracy": accuracy([predicted[i] for i in order], [questions[i].answer_idx for i in order]),
        "mean_p_answer": sum(p_answer.values()) / max(len(p_answer), 1),
        "questions_with_gold": len(with_gold),
        **{f"recall@{k}": v for k, v in recall.items()},
        "method": system.model.config.method,
        "passages_read": system.k,
    }
