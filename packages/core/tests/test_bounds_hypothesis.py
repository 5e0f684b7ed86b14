"""Property tests: every bound is finite and ordered for log-weights spanning +-1e4, K = 1 included.

For fixed log-weights, L_alpha = 1/(1-alpha) log sum_k pi_k w_k^(1-alpha) is the log of a power mean of
order 1 - alpha, which is non-decreasing in its order, so L_alpha is non-increasing in alpha:
VR-max (alpha = -inf) >= VR(alpha < 0) >= IWAE (0) >= VR(0 < alpha < 1) >= ELBO (1) >= VR(alpha > 1) >= min.
Rounding: every form used is accurate to a few eps * (max |log w - mean| + log K), hence the tolerance.
"""

from __future__ import annotations

import itertools
import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vcore.bounds import elbo, iwae, renyi_bound, vr_max

DT = torch.float64
ALPHAS = [
    -math.inf,
    -5.0,
    -1.0,
    -1e-3,
    0.0,
    0.3,
    0.5,
    1 - 1e-4,
    1 - 1e-7,
    1 - 1e-12,
    1.0,
    1 + 1e-12,
    1 + 1e-7,
    1 + 1e-4,
    1.5,
    3.0,
    math.inf,
]

log_weight_lists = st.lists(
    st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False), min_size=1, max_size=32
)


def _tol(lw: torch.Tensor) -> float:
    return 1e-9 * (1.0 + float(lw.abs().max()))


@settings(deadline=None, max_examples=100)
@given(log_weight_lists)
def test_bounds_finite_and_non_increasing_in_alpha(values: list[float]) -> None:
    lw = torch.tensor(values, dtype=DT)
    tol = _tol(lw)
    bounds = [float(renyi_bound(lw, a)) for a in ALPHAS]
    assert all(math.isfinite(b) for b in bounds)
    for hi, lo in itertools.pairwise(bounds):
        assert lo <= hi + tol
    assert float(lw.min()) - tol <= bounds[-1]
    assert bounds[0] <= float(lw.max()) + tol
    assert abs(float(iwae(lw)) - bounds[ALPHAS.index(0.0)]) <= tol
    assert abs(float(elbo(lw)) - bounds[ALPHAS.index(1.0)]) <= tol
    assert float(vr_max(lw)) == bounds[0]
    if len(values) == 1:
        assert all(abs(b - values[0]) <= tol for b in bounds)


@settings(deadline=None, max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=-1e4, max_value=1e4, allow_nan=False),
            st.floats(min_value=-30.0, max_value=30.0, allow_nan=False),
        ),
        min_size=1,
        max_size=32,
    )
)
def test_weighted_bounds_finite_and_ordered(pairs: list[tuple[float, float]]) -> None:
    lw = torch.tensor([p[0] for p in pairs], dtype=DT)
    log_pi = torch.tensor([p[1] for p in pairs], dtype=DT)
    tol = _tol(lw)
    bounds = [float(renyi_bound(lw, a, log_sample_weights=log_pi)) for a in ALPHAS]
    assert all(math.isfinite(b) for b in bounds)
    for hi, lo in itertools.pairwise(bounds):
        assert lo <= hi + tol
    # alpha = 1 is the pi-weighted mean; alpha = 0 the log of the pi-weighted mean of w.
    pi = torch.softmax(log_pi, dim=0)
    assert abs(bounds[ALPHAS.index(1.0)] - float((pi * lw).sum())) <= tol
    assert abs(bounds[ALPHAS.index(0.0)] - float(torch.logsumexp(pi.log() + lw, 0))) <= tol


@settings(deadline=None, max_examples=100)
@given(log_weight_lists, st.floats(min_value=-1e3, max_value=1e3, allow_nan=False))
def test_bounds_shift_equivariant(values: list[float], shift: float) -> None:
    """Scaling every weight by c shifts every bound by log c (the power mean is homogeneous)."""
    lw = torch.tensor(values, dtype=DT)
    tol = 2 * _tol(lw) + 1e-9 * abs(shift)
    for a in ALPHAS:
        assert abs(float(renyi_bound(lw + shift, a)) - float(renyi_bound(lw, a)) - shift) <= tol


@settings(deadline=None, max_examples=100)
@given(
    st.lists(st.floats(min_value=-20.0, max_value=20.0, allow_nan=False), min_size=2, max_size=32),
    st.sampled_from([1e-12, 1e-9, 1e-6, -1e-6, -1e-9, -1e-12]),
)
def test_continuous_through_alpha_one(values: list[float], r: float) -> None:
    """Near alpha = 1 (r = 1 - alpha -> 0): L = m + r/2 k2 + r^2/6 k3 + O(r^3), k_j the sample cumulants."""
    lw = torch.tensor(values, dtype=DT)
    c = lw - lw.mean()
    k2, k3 = float((c**2).mean()), float((c**3).mean())
    series = float(lw.mean()) + r / 2 * k2 + r**2 / 6 * k3
    assert (
        abs(float(renyi_bound(lw, 1.0 - r)) - series)
        <= 1e-12 * (1 + float(lw.abs().max())) + 1e4 * abs(r) ** 3
    )


def test_float32_near_alpha_one_is_stable() -> None:
    """The direct form would lose ~eps32 * log K / |r| ~ 1 nat here; the centred form stays at rounding level."""
    g = torch.Generator().manual_seed(0)
    lw64 = 50.0 * torch.randn(8, 64, generator=g, dtype=DT) - 300.0
    lw32 = lw64.float()
    for r in (1e-5, 1e-7, -1e-7, -1e-5):
        exact = renyi_bound(lw64, 1.0 - r)
        torch.testing.assert_close(renyi_bound(lw32, 1.0 - r).double(), exact, rtol=0, atol=2e-4)
    torch.testing.assert_close(renyi_bound(lw32, 1.0 - 1e-7).double(), elbo(lw64), rtol=0, atol=2e-4)


def test_dim_argument_and_batch_shape() -> None:
    g = torch.Generator().manual_seed(1)
    lw = torch.randn(5, 3, 4, generator=g, dtype=DT)
    for a in (-math.inf, -1.0, 0.0, 0.5, 1.0 - 1e-8, 1.0, 2.0, math.inf):
        torch.testing.assert_close(renyi_bound(lw, a, dim=0), renyi_bound(lw.movedim(0, -1), a))
        assert renyi_bound(lw, a, dim=1).shape == (5, 4)


def test_gradients_match_finite_differences() -> None:
    """gradcheck (float64) on both numeric branches: direct (|1-alpha| large) and centred (alpha near 1)."""
    g = torch.Generator().manual_seed(2)
    lw = torch.randn(2, 6, generator=g, dtype=DT).requires_grad_()
    log_pi = torch.randn(2, 6, generator=g, dtype=DT).requires_grad_()
    for a in (-2.0, 0.0, 0.5, 1.0 - 1e-3, 1.0, 1.0 + 1e-6, 3.0):
        assert torch.autograd.gradcheck(
            lambda x, p, a=a: renyi_bound(x, a, log_sample_weights=p), (lw, log_pi)
        )
    # d/dlog w_k of L_alpha is the normalised weight pi_k w_k^(1-alpha) / sum_j pi_j w_j^(1-alpha).
    for a in (0.0, 0.5, 1.0 - 1e-9, 2.0):
        (grad,) = torch.autograd.grad(renyi_bound(lw, a).sum(), lw)
        torch.testing.assert_close(grad, torch.softmax((1 - a) * lw.detach(), dim=-1))


def test_extreme_spread_gradients_are_finite() -> None:
    lw = torch.tensor([[-1e4, 0.0, 1e4], [5.0, 5.0, 5.0]], dtype=DT, requires_grad=True)
    for a in ALPHAS:
        if math.isinf(a):
            continue
        (grad,) = torch.autograd.grad(renyi_bound(lw, a).sum(), lw)
        assert torch.isfinite(grad).all()
        torch.testing.assert_close(grad.sum(-1), torch.ones(2, dtype=DT))
