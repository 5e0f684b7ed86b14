"""The pointwise noise predictor: folded per-cloud ConcatSquash maps equal the per-point formula."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vgeom.model.pointwise import ConcatSquashLinear, PointwiseNet, hidden_widths, time_embedding


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_folded_concat_squash_equals_per_point_formula() -> None:
    torch.manual_seed(0)
    layer = ConcatSquashLinear(5, 7, 4).double()
    x = torch.randn(3, 11, 5, dtype=torch.float64, generator=_gen(1))
    ctx = torch.randn(3, 4, dtype=torch.float64, generator=_gen(2))
    # the formula written out point by point: (W x + b) * sigmoid(G c + g) + H c
    expected = torch.empty(3, 11, 7, dtype=torch.float64)
    for b in range(3):
        gate = torch.sigmoid(layer.gate.weight @ ctx[b] + layer.gate.bias)
        shift = layer.shift.weight @ ctx[b]
        for i in range(11):
            expected[b, i] = (layer.layer.weight @ x[b, i] + layer.layer.bias) * gate + shift
    weight, bias = layer.folded(ctx)
    assert weight.shape == (3, 5, 7)
    assert bias.shape == (3, 1, 7)
    torch.testing.assert_close(torch.baddbmm(bias, x, weight), expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(layer(x, ctx), expected, rtol=0, atol=1e-12)


def test_network_fold_equals_layer_by_layer_evaluation() -> None:
    torch.manual_seed(0)
    net = PointwiseNet(context_dim=6, widths=hidden_widths(8)).double()
    x = torch.randn(2, 50, 3, dtype=torch.float64, generator=_gen(3))
    beta = torch.tensor([1e-4, 0.02], dtype=torch.float64)
    z = torch.randn(2, 6, dtype=torch.float64, generator=_gen(4))
    torch.testing.assert_close(net(x, beta, z), net.forward_per_point(x, beta, z), rtol=0, atol=1e-12)
    with torch.no_grad():  # the in-place activation path (no autograd) gives the same numbers
        torch.testing.assert_close(net(x, beta, z), net.forward_per_point(x, beta, z), rtol=0, atol=1e-12)
    # the reference structure: widths 3-8-16-32-16-8-3, residual output, leaky-ReLU(0.01) in between
    dims = [(lay.layer.in_features, lay.layer.out_features) for lay in net.cs_layers()]
    assert dims == [(3, 8), (8, 16), (16, 32), (32, 16), (16, 8), (8, 3)]
    h = x
    ctx = torch.cat([time_embedding(beta), z], dim=1)
    for i, lay in enumerate(net.cs_layers()):
        h = lay(h, ctx)
        h = F.leaky_relu(h, 0.01) if i < 5 else h
    torch.testing.assert_close(net(x, beta, z), x + h, rtol=0, atol=1e-12)


def test_time_embedding_values() -> None:
    beta = torch.tensor([0.0, 0.5], dtype=torch.float64)
    expected = torch.tensor(
        [[0.0, 0.0, 1.0], [0.5, 0.479425538604203, 0.8775825618903728]], dtype=torch.float64
    )
    torch.testing.assert_close(time_embedding(beta), expected, rtol=0, atol=1e-15)


def test_bfloat16_products_stay_close_to_float32() -> None:
    torch.manual_seed(0)
    net = PointwiseNet(context_dim=16, widths=hidden_widths(32))
    x = torch.randn(2, 256, 3, generator=_gen(5))
    beta = torch.tensor([0.01, 0.001])
    z = torch.randn(2, 16, generator=_gen(6))
    with torch.inference_mode():
        full = net(x, beta, z)
        half = net(x, beta, z, compute_dtype=torch.bfloat16)
    assert half.dtype == torch.float32
    out = full - x  # compare the network's part, not the residual input
    rel = float((half - full).norm() / out.norm())
    assert 0.0 < rel < 0.02
