"""EGNN equivariance and masks, EDM noise, marginals, bound terms, training, save/load and sampling."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from vcore.diffusion.gaussian import gaussian_kl
from vmol.io.molecules import Molecule
from vmol.model.batch import molecules_to_batch, size_chunks
from vmol.model.edm import EDM, EDMConfig, com_free_noise, log_normal_mass
from vmol.model.egnn import EGNNDynamics, EquivariantBlock, pair_linear, remove_mean
from vmol.train import make_loss_fn

TYPES = (1, 6, 7, 8, 9)


def tiny(timesteps: int = 20, dtype: torch.dtype = torch.float64) -> EDM:
    torch.manual_seed(0)
    config = EDMConfig(
        hidden=16, layers=2, timesteps=timesteps, n_nodes_counts=(0, 0, 0, 2, 0, 1, 0, 0, 0, 3)
    )
    return EDM(config).to(dtype)


def rotation(seed: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(
        torch.randn(3, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    )
    return q


def _inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 5, 3, generator=g, dtype=torch.float64)
    h = torch.randn(2, 5, 6, generator=g, dtype=torch.float64)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.float64)
    return x, h, torch.tensor([0.3, 0.7], dtype=torch.float64), mask


def test_egnn_e3_equivariance() -> None:
    torch.manual_seed(0)
    net = EGNNDynamics(6, hidden=16, layers=3).double()
    with torch.no_grad():  # make the coordinate weights large enough to matter
        for block in net.blocks:
            assert isinstance(block, EquivariantBlock)
            block.update.coord_mlp[-1].weight.mul_(500.0)  # type: ignore[operator]
    x, h, t, mask = _inputs()
    ex, eh = net(x, h, t, mask)
    r, shift = rotation(3), torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    ex2, eh2 = net((x @ r.T + shift) * mask.unsqueeze(-1), h, t, mask)
    assert ex.abs().max() > 1e-3
    torch.testing.assert_close(ex2, ex @ r.T, atol=1e-5, rtol=0)
    torch.testing.assert_close(eh2, eh, atol=1e-5, rtol=0)
    assert remove_mean(ex, mask).sub(ex).abs().max() < 1e-12  # eps_x is CoM-free


def test_egnn_permutation_and_padding() -> None:
    torch.manual_seed(0)
    net = EGNNDynamics(6, hidden=16, layers=2).double()
    x, h, t, mask = _inputs()
    with torch.no_grad():
        ex, eh = net(x, h, t, mask)
    perm = torch.tensor([3, 0, 4, 1, 2])
    ex_p, eh_p = net(x[:, perm], h[:, perm], t, torch.ones_like(mask)[:, perm])
    ex_full, eh_full = net(x, h, t, torch.ones_like(mask))
    torch.testing.assert_close(ex_p, ex_full[:, perm], atol=1e-12, rtol=0)
    torch.testing.assert_close(eh_p, eh_full[:, perm], atol=1e-12, rtol=0)
    x2, h2 = x.clone(), h.clone()  # change the padding atoms of molecule 2
    x2[1, 3:] = 100.0
    h2[1, 3:] = -7.0
    with torch.no_grad():
        ex2, eh2 = net(x2, h2, t, mask)
    torch.testing.assert_close(ex2, ex, atol=1e-12, rtol=0)
    torch.testing.assert_close(eh2, eh, atol=1e-12, rtol=0)
    assert float(ex[1, 3:].abs().max()) == 0.0
    assert float(eh[1, 3:].abs().max()) == 0.0


def test_com_free_noise_has_zero_mean_and_subspace_variance() -> None:
    mask = torch.tensor([[1.0] * 4 + [0.0] * 2] * 20000, dtype=torch.float64)
    eps = com_free_noise((20000, 6, 3), mask, torch.Generator().manual_seed(0))
    assert float(eps.sum(dim=1).abs().max()) < 1e-12
    assert float(eps[:, 4:].abs().max()) == 0.0
    # Each coordinate of an N-atom CoM-free Gaussian has variance (N - 1) / N.
    assert float(eps[:, :4].var()) == pytest.approx(3 / 4, rel=0.02)


def test_q_marginal_matches_closed_form(hand_built: dict[str, Molecule]) -> None:
    ethanol = hand_built["ethanol"]
    model = tiny()
    batch = molecules_to_batch([ethanol] * 20000, TYPES, torch.float64)
    x, h, mask = model._inputs(batch)
    t = torch.full((20000,), 7)
    zx, zh, _, _ = model._noised(x, h, mask, t, torch.Generator().manual_seed(0))
    ab = float(model.alpha2[7])
    torch.testing.assert_close(zx.mean(0), math.sqrt(ab) * x[0], atol=0.02, rtol=0)
    torch.testing.assert_close(zh.mean(0), math.sqrt(ab) * h[0], atol=0.02, rtol=0)
    assert float(zh.var(0).mean()) == pytest.approx(1 - ab, rel=0.02)
    assert float(zx.var(0).mean()) == pytest.approx((1 - ab) * 8 / 9, rel=0.02)


def test_prior_kl_matches_subspace_closed_form(hand_built: dict[str, Molecule]) -> None:
    model = tiny()
    batch = molecules_to_batch([hand_built["ethanol"], hand_built["water"]], TYPES, torch.float64)
    x, h, mask = model._inputs(batch)
    got = model.prior_kl(x, h, mask)
    ab = model.alpha2[-1]
    for i, n in enumerate((9, 3)):
        # Orthonormal basis of the zero-mean subspace of R^n, coordinates of x in it (each axis separately).
        basis, _ = torch.linalg.qr(torch.eye(n, dtype=torch.float64) - 1.0 / n)
        basis = basis[:, : n - 1]
        coords = basis.T @ x[i, :n]  # [(n - 1), 3]
        flat = torch.cat([coords.reshape(-1), h[i, :n].reshape(-1)])
        kl = gaussian_kl(
            ab.sqrt() * flat, (1 - ab).expand_as(flat), torch.zeros_like(flat), torch.ones_like(flat)
        )
        assert float(got[i]) == pytest.approx(float(kl.sum()), rel=1e-10)


def test_decoder_masses_are_normalised() -> None:
    est = torch.tensor([0.3, 5.7, 8.2], dtype=torch.float64)
    ks = torch.arange(-60, 80, dtype=torch.float64)
    for sigma in (0.05, 1.0, 3.0):
        d = ks.unsqueeze(1) - est
        total = torch.exp(log_normal_mass((d - 0.5) / sigma, (d + 0.5) / sigma)).sum(0)
        torch.testing.assert_close(total, torch.ones(3, dtype=torch.float64), atol=1e-12, rtol=0)
    assert float(log_normal_mass(torch.tensor(40.0), torch.tensor(41.0))) == pytest.approx(
        -800.0 - math.log(40.0) - 0.5 * math.log(2 * math.pi), abs=2e-3
    )  # Mills ratio


def test_bound_terms_and_lower_bound_on_entropy(three: list[Molecule]) -> None:
    model = tiny(timesteps=8)
    mols = three
    batch = molecules_to_batch(mols, TYPES, torch.float64)
    with torch.no_grad():
        terms = model.nll(batch, torch.Generator().manual_seed(0), full=True)
    parts = sum(terms[k] for k in ("neg_log_pn", "prior", "diffusion", "decoder_x", "decoder_h", "log_det"))
    torch.testing.assert_close(terms["total"], parts)
    counts = np.array(model.config.n_nodes_counts, dtype=float)
    expected_pn = -np.log(counts[[5, 3, 9]] / counts.sum() + 1e-30)
    np.testing.assert_allclose(terms["neg_log_pn"].numpy(), expected_pn, rtol=1e-12)
    assert bool((terms["prior"] >= 0).all())
    assert bool((terms["diffusion"] >= 0).all())
    assert bool((terms["decoder_h"] >= 0).all())
    assert bool(torch.isfinite(terms["total"]).all())
    # The bound on a discrete-and-continuous datum is at least -log p(N) (the atom-count part is exact).
    assert bool((terms["total"] > terms["neg_log_pn"] - 1e3).all())


def test_training_lowers_loss_and_round_trip(tmp_path: Path, three: list[Molecule]) -> None:
    model = tiny(timesteps=50, dtype=torch.float32)
    mols = three * 2 + three[:2]
    batch = molecules_to_batch(mols, TYPES)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def eval_loss() -> float:
        torch.manual_seed(123)
        with torch.no_grad():
            return float(torch.stack([model(**batch).mean() for _ in range(8)]).mean())

    before = eval_loss()
    torch.manual_seed(0)
    for _ in range(20):
        opt.zero_grad()
        model(**batch).mean().backward()
        opt.step()
    after = eval_loss()
    assert after < 0.9 * before
    model.save_pretrained(tmp_path / "ckpt")
    loaded = EDM.from_pretrained(tmp_path / "ckpt")
    assert loaded.config == model.config
    torch.manual_seed(5)
    a = model.eval()(**batch)
    torch.manual_seed(5)
    b = loaded(**batch)
    torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_sampling_counts_and_steps() -> None:
    model = tiny(timesteps=20, dtype=torch.float32)
    assert model.time_grid(4) == [20, 15, 10, 5, 0]
    mols = model.sample([3, 5, 3], steps=4, generator=torch.Generator().manual_seed(0), batch_size=2)
    assert [len(m) for m in mols] == [3, 5, 3]
    for m in mols:
        assert np.isfinite(m.positions).all()
        assert set(int(z) for z in m.numbers) <= set(TYPES)
        assert np.abs(m.positions.mean(axis=0)).max() < 1.0
    drawn = model.sample_n_nodes(50, torch.Generator().manual_seed(0))
    assert set(drawn) <= {3, 5, 9}
    # bf16 network arithmetic: the same draws of noise, outputs within bf16 rounding of the fp32 ones
    full = model.sample([4, 4], steps=4, generator=torch.Generator().manual_seed(1))
    half = model.sample([4, 4], steps=4, generator=torch.Generator().manual_seed(1), bf16=True)
    for a, b in zip(full, half, strict=True):
        assert a.positions.dtype == b.positions.dtype
        np.testing.assert_allclose(a.positions, b.positions, atol=0.05)


def test_pair_linear_equals_the_linear_of_concatenated_pairs() -> None:
    torch.manual_seed(0)
    linear = torch.nn.Linear(2 * 8 + 2, 5).double()
    h, edge = torch.randn(3, 4, 8, dtype=torch.float64), torch.randn(3, 4, 4, 2, dtype=torch.float64)
    hi, hj = h.unsqueeze(2).expand(-1, -1, 4, -1), h.unsqueeze(1).expand(-1, 4, -1, -1)
    expected = linear(torch.cat([hi, hj, edge], dim=-1))
    torch.testing.assert_close(pair_linear(linear, h, edge), expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(TypeError, match="Linear"):
        pair_linear(torch.nn.Identity(), h, edge)


def test_size_chunks_keep_every_molecule_with_less_padding() -> None:
    rng = np.random.default_rng(0)
    mols = [
        Molecule(np.full(n, 6), rng.normal(size=(n, 3)), None, i) for i, n in enumerate([9, 3, 7, 3, 5, 8])
    ]
    batch = molecules_to_batch(mols, TYPES)
    parts = size_chunks(batch, 3)
    assert [tuple(p["node_mask"].shape) for p in parts] == [(2, 3), (2, 7), (2, 9)]
    assert sorted(int(n) for p in parts for n in p["node_mask"].sum(1)) == sorted(len(m) for m in mols)
    assert sum(float(p["positions"].abs().sum()) for p in parts) == pytest.approx(
        float(batch["positions"].abs().sum())
    )
    assert len(size_chunks(batch, 10)) == 6


def test_chunked_loss_is_the_batch_mean_of_the_per_molecule_losses() -> None:
    class RealAtomsOnly(torch.nn.Module):
        """A per-molecule 'loss' that depends only on the real atoms (as EDM's does)."""

        def forward(self, positions, one_hot, charges, node_mask):  # type: ignore[no-untyped-def]
            m = node_mask.unsqueeze(-1)
            return (
                (positions.square() * m).sum((1, 2)) + (one_hot * m).sum((1, 2)) * 0.5 + charges.sum((1, 2))
            )

    rng = np.random.default_rng(1)
    mols = [Molecule(np.array([6] * n), rng.normal(size=(n, 3)), None, i) for i, n in enumerate([4, 9, 2, 6])]
    batch = molecules_to_batch(mols, TYPES)
    whole, _ = make_loss_fn(False, 1)(RealAtomsOnly(), batch)
    chunked, _ = make_loss_fn(False, 3)(RealAtomsOnly(), batch)
    assert float(chunked) == pytest.approx(float(whole), rel=1e-12)


def test_compiled_network_falls_back_to_eager_when_compiling_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    model = tiny(timesteps=10, dtype=torch.float32)
    eager = model.sample([4, 4], steps=3, generator=torch.Generator().manual_seed(2))

    def broken(*args: object, **kwargs: object) -> object:
        def fail(*a: object) -> object:
            raise RuntimeError("no C++ compiler")

        return fail

    monkeypatch.setattr(torch, "compile", broken)
    model.compile_network()
    fallback = model.sample([4, 4], steps=3, generator=torch.Generator().manual_seed(2))
    assert "_compiled" not in model.__dict__
    for a, b in zip(eager, fallback, strict=True):
        np.testing.assert_array_equal(a.positions, b.positions)
    assert set(model.state_dict()) == set(tiny(timesteps=10).state_dict())


@pytest.mark.slow
def test_compiled_network_samples_like_the_eager_one() -> None:
    model = tiny(timesteps=10, dtype=torch.float32)
    eager = model.sample([5, 3], steps=3, generator=torch.Generator().manual_seed(3))
    model.compile_network()
    compiled = model.sample([5, 3], steps=3, generator=torch.Generator().manual_seed(3))
    for a, b in zip(eager, compiled, strict=True):
        np.testing.assert_allclose(a.positions, b.positions, atol=1e-4)
