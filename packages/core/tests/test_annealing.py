"""Rényi-order annealing schedules: exact endpoints, clamping, monotonicity and known midpoints."""

from __future__ import annotations

import itertools
import math

import pytest

from vcore.bounds import cosine_alpha, exponential_alpha, linear_alpha

SCHEDULES = [linear_alpha, cosine_alpha, exponential_alpha]


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize(("start", "end"), [(1.0, 0.0), (0.0, 1.0), (1.0, -0.5), (0.3, 0.3)])
def test_hits_endpoints_and_is_monotone(schedule, start: float, end: float) -> None:  # type: ignore[no-untyped-def]
    n = 1000
    assert schedule(0, n, start, end) == start
    assert schedule(n, n, start, end) == end
    assert schedule(-5, n, start, end) == start
    assert schedule(n + 7, n, start, end) == end
    values = [schedule(t, n, start, end) for t in range(n + 1)]
    sign = math.copysign(1.0, end - start)
    assert all(sign * (b - a) >= -1e-15 for a, b in itertools.pairwise(values))
    assert all(min(start, end) - 1e-15 <= v <= max(start, end) + 1e-15 for v in values)


def test_known_values() -> None:
    assert linear_alpha(250, 1000, 1.0, 0.0) == pytest.approx(0.75)
    assert cosine_alpha(500, 1000, 1.0, 0.0) == pytest.approx(0.5)
    assert cosine_alpha(250, 1000, 1.0, 0.0) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))
    # exponential: (e^(-r u) - e^(-r)) / (1 - e^(-r)) of the way back from the end
    r = 5.0
    frac = (math.exp(-r * 0.5) - math.exp(-r)) / (1 - math.exp(-r))
    assert exponential_alpha(500, 1000, 1.0, 0.0, rate=r) == pytest.approx(frac)
    assert exponential_alpha(100, 1000, 1.0, 0.0) < linear_alpha(100, 1000, 1.0, 0.0)  # moves faster early


def test_degenerate_lengths_and_bad_rate() -> None:
    for schedule in SCHEDULES:
        assert schedule(0, 0, 1.0, 0.0) == 0.0
    with pytest.raises(ValueError, match="rate > 0"):
        exponential_alpha(1, 10, 1.0, 0.0, rate=0.0)
