"""The latent flow prior: change of variables against a numerical Jacobian, normalisation, inverse, sampling."""

from __future__ import annotations

import math

import pytest
import torch

from vgeom.model.flow import AffineCoupling, LatentFlow


def _random_flow(dim: int, depth: int, hidden: int, classes: int = 1, seed: int = 0) -> LatentFlow:
    torch.manual_seed(seed)
    flow = LatentFlow(dim, depth, hidden, classes).double()
    with torch.no_grad():  # large random weights so that the map is far from the identity
        for p in flow.parameters():
            p.normal_(0.0, 0.4)
    return flow


@pytest.mark.parametrize("dim", [5, 6])
def test_log_det_matches_numerical_jacobian(dim: int) -> None:
    flow = _random_flow(dim, depth=4, hidden=8)
    z = torch.randn(3, dim, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    _, log_det = flow(z)
    for row in range(3):
        jac = torch.autograd.functional.jacobian(lambda v: flow(v.unsqueeze(0))[0][0], z[row])
        expected = torch.linalg.slogdet(jac).logabsdet
        assert float(log_det[row].detach()) == pytest.approx(float(expected), abs=1e-10)
    # the Jacobian of one coupling layer is triangular in its (kept, moved) blocks: not the identity
    layer = flow.layers[0]
    assert isinstance(layer, AffineCoupling)
    jac = torch.autograd.functional.jacobian(lambda v: layer(v.unsqueeze(0))[0][0], z[0])
    assert float((jac - torch.eye(dim, dtype=torch.float64)).abs().max()) > 0.05


def test_inverse_undoes_forward() -> None:
    flow = _random_flow(6, depth=5, hidden=8)
    z = torch.randn(10, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        w, _ = flow(z)
    assert float((w - z).abs().max()) > 0.1
    torch.testing.assert_close(flow.inverse(w), z, rtol=0, atol=1e-10)


def test_density_integrates_to_one_in_2d() -> None:
    flow = _random_flow(2, depth=4, hidden=8, seed=3)
    lin = torch.linspace(-12.0, 12.0, 801, dtype=torch.float64)
    gx, gy = torch.meshgrid(lin, lin, indexing="ij")
    grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    with torch.no_grad():
        density = torch.exp(flow.log_prob(grid))
    cell = float(lin[1] - lin[0]) ** 2
    assert float(density.sum()) * cell == pytest.approx(1.0, abs=2e-3)


def test_sample_then_log_prob_is_consistent() -> None:
    flow = _random_flow(4, depth=3, hidden=8, seed=4)
    with torch.no_grad():
        z, labels = flow.sample(6, torch.Generator().manual_seed(5))
        noise = torch.randn(6, 4, generator=_after_multinomial(6, 5), dtype=torch.float64)
        w, log_det = flow(z)
        torch.testing.assert_close(w, noise, rtol=0, atol=1e-9)  # z = f^-1(w) for the base draw w
        base = (-0.5 * (math.log(2 * math.pi) + noise**2)).sum(dim=1)
        torch.testing.assert_close(flow.log_prob(z), base + log_det, rtol=0, atol=1e-9)
    assert labels.tolist() == [0] * 6


def _after_multinomial(n: int, seed: int) -> torch.Generator:
    """A generator advanced past the category draw that `sample` makes first."""
    g = torch.Generator().manual_seed(seed)
    torch.multinomial(torch.ones(1, dtype=torch.float64), n, replacement=True, generator=g)
    return g


def test_conditional_base_is_a_gaussian_per_class() -> None:
    flow = LatentFlow(3, depth=0, hidden=4, num_classes=2).double()
    with torch.no_grad():
        flow.base_mean.copy_(torch.tensor([[1.0, -2.0, 0.5], [0.0, 0.0, 3.0]]))
        flow.base_log_std.copy_(torch.tensor([[0.0, 0.5, -0.3], [0.2, 0.2, 0.2]]))
    z = torch.tensor([[0.3, -1.0, 0.0], [0.3, -1.0, 0.0]], dtype=torch.float64)
    labels = torch.tensor([0, 1])
    expected = torch.distributions.Normal(flow.base_mean[labels], flow.base_log_std[labels].exp())
    torch.testing.assert_close(flow.log_prob(z, labels), expected.log_prob(z).sum(dim=1))
    with pytest.raises(ValueError, match="labels"):
        flow.log_prob(z)
