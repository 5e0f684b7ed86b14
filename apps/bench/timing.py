"""Interleaved side-by-side timing: each contender runs in turn, so machine noise hits all of them alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def time_interleaved(
    contenders: dict[str, Callable[[], object]],
    *,
    rounds: int = 30,
    calls_per_round: int = 5,
    warmup: int = 3,
    statistic: Callable[[list[float]], float] = statistics.median,
) -> dict[str, float]:
    """Seconds per call of each contender (`statistic` over rounds: the median by default, `min` for best-of),
    over `rounds` rounds that run every contender in turn."""
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            start = time.perf_counter()
            for _ in range(calls_per_round):
                fn()
            samples[name].append((time.perf_counter() - start) / calls_per_round)
    return {name: statistic(times) for name, times in samples.items()}
