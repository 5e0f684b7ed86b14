"""Accuracy and recall@k on cases with known answers."""

from __future__ import annotations

import math

import pytest

from vodqa.evaluate import accuracy, recall_at_k


def test_accuracy_counts_matches() -> None:
    assert accuracy([0, 1, 2, 3], [0, 1, 0, 0]) == 0.5
    assert math.isnan(accuracy([], []))
    with pytest.raises(ValueError, match="as many predictions"):
        accuracy([0], [0, 1])


def test_recall_at_k_skips_questions_without_gold() -> None:
    retrieved = [["a", "b", "c"], ["x", "y", "z"], ["g", "h", "i"], ["p"]]
    gold = ["b", "z", None, "q"]
    assert recall_at_k(retrieved, gold, [1, 2, 3]) == {1: 0.0, 2: 1 / 3, 3: 2 / 3}
    assert all(math.isnan(v) for v in recall_at_k([["a"]], [None], [1, 5]).values())
