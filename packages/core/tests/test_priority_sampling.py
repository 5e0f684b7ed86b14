"""Priority sampling (Duffield, Lund & Thorup 2007) and VOD's top-M truncation."""

from __future__ import annotations

import math

import pytest
import torch

from vcore.samplers.priority import priority_sample, truncate_top_m

DT = torch.float64
N = 1000


def _weights_and_f(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    log_w = 1.5 * torch.randn(N, generator=g, dtype=DT)  # log-normal weights, spread ~ e^+-4.5
    f = torch.randn(N, generator=g, dtype=DT)  # signed function values
    return log_w, f


@pytest.mark.parametrize("k", [1, 20, 100])
@pytest.mark.parametrize("signed", [True, False])
def test_subset_sum_estimate_is_unbiased(k: int, signed: bool) -> None:
    """Truth T = sum_i w_i f_i; scale S = sum_i w_i |f_i| (the sum when no cancellation occurs).

    Over `trials` independent samples the mean of sum_{i in S} max(w_i, tau) f_i must lie within
    10 S / sqrt(trials K) of T, and within 5 empirical standard errors. The positive f catches biases
    that cancel for a signed f (e.g. tau taken as the K-th instead of the (K+1)-th priority).
    """
    log_w, f = _weights_and_f(0)
    f = f if signed else f.abs()
    w = log_w.exp()
    truth, scale = float((w * f).sum()), float((w * f.abs()).sum())
    trials = 4000
    s = priority_sample(log_w.expand(trials, N), k, torch.Generator().manual_seed(k))
    est = (s.log_weights.exp() * f[s.indices]).sum(-1)
    err = float(est.mean()) - truth
    assert abs(err) < 10 * scale / math.sqrt(trials * k)
    assert abs(err) < 5 * float(est.std()) / math.sqrt(trials)


def test_arbitrary_subset_sums_are_unbiased() -> None:
    """The same sample estimates every subset sum: here 5 random subsets of 100 items (f = indicator)."""
    log_w, _ = _weights_and_f(1)
    w = log_w.exp()
    g = torch.Generator().manual_seed(11)
    subsets = torch.stack([torch.randperm(N, generator=g)[:100] for _ in range(5)])
    member = torch.zeros(5, N, dtype=DT).scatter(1, subsets, 1.0)
    trials, k = 4000, 50
    s = priority_sample(log_w.expand(trials, N), k, g)
    est = (s.log_weights.exp().unsqueeze(1) * member[:, s.indices].permute(1, 0, 2)).sum(-1)  # [trials, 5]
    truth = member @ w
    se = est.std(0) / math.sqrt(trials)
    assert bool(((est.mean(0) - truth).abs() < 5 * se).all())
    assert bool(((est.mean(0) - truth).abs() < 10 * w.sum() / math.sqrt(trials * k)).all())


def test_sample_structure_and_tau() -> None:
    """K distinct items; weights are max(w_i, tau) >= w_i, with one common tau below every chosen priority."""
    log_w, _ = _weights_and_f(2)
    s = priority_sample(log_w.expand(3, N), 10, torch.Generator().manual_seed(0))
    assert s.indices.shape == (3, 10)
    assert s.log_weights.shape == (3, 10)
    for row in range(3):
        assert len(set(s.indices[row].tolist())) == 10
    chosen = log_w[s.indices]
    assert bool((s.log_weights >= chosen).all())
    raised = s.log_weights > chosen
    taus = s.log_weights[raised]
    # every raised weight of a row equals the same tau
    for row in range(3):
        row_taus = s.log_weights[row][raised[row]]
        if row_taus.numel():
            torch.testing.assert_close(row_taus, row_taus[:1].expand_as(row_taus))
    assert taus.numel() > 0


def test_k_equals_n_returns_exact_weights_and_generator_reproducibility() -> None:
    log_w, _ = _weights_and_f(3)
    a = priority_sample(log_w, N, torch.Generator().manual_seed(5))
    assert sorted(a.indices.tolist()) == list(range(N))
    torch.testing.assert_close(a.log_weights, log_w[a.indices])
    b = priority_sample(log_w, 7, torch.Generator().manual_seed(5))
    c = priority_sample(log_w, 7, torch.Generator().manual_seed(5))
    assert torch.equal(b.indices, c.indices)
    assert torch.equal(b.log_weights, c.log_weights)
    with pytest.raises(ValueError, match="1 <= k <= N"):
        priority_sample(log_w, N + 1)


def test_zero_weights_are_never_drawn_while_positive_ones_remain() -> None:
    log_w = torch.full((2, 50), -math.inf, dtype=DT)
    log_w[:, :5] = torch.randn(2, 5, dtype=DT)
    s = priority_sample(log_w, 5, torch.Generator().manual_seed(0))
    assert bool((s.indices < 5).all())
    # sum_i w_i exactly: with K = #positive items tau = 0 and every weight is w_i itself
    torch.testing.assert_close(s.log_weights.exp().sum(-1), log_w.exp().sum(-1))


def test_truncate_top_m_keeps_exactly_the_top_m() -> None:
    g = torch.Generator().manual_seed(8)
    log_w = torch.randn(4, 3, N, generator=g, dtype=DT)
    m = 37
    out = truncate_top_m(log_w, m)
    kept = torch.isfinite(out)
    assert bool((kept.sum(-1) == m).all())
    threshold = log_w.sort(-1, descending=True).values[..., m - 1 : m]
    assert torch.equal(kept, log_w >= threshold)  # continuous values: no ties
    assert torch.equal(out[kept], log_w[kept])
    assert torch.equal(truncate_top_m(log_w, N + 5), log_w)
    # VOD: truncate, then sample K < M; every draw is a top-M item
    s = priority_sample(torch.log_softmax(out, -1), 10, g)
    assert bool(kept.gather(-1, s.indices).all())
