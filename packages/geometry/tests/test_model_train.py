"""Training end to end on a toy dataset: the loss falls, resume is exact, the auto-encoder learns shapes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vcore.errors import UserError
from vgeom.data.dataset import ShapeSplit, write_manifest, write_split
from vgeom.model.model import PointDiffusionModel
from vgeom.train import TrainOptions, run_training, step_loss, subsample

N = 128


def _cloud(kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "ring":  # a flat circle in the xy plane
        a = rng.uniform(0, 2 * np.pi, N)
        p = np.stack([np.cos(a), np.sin(a), rng.normal(0, 0.02, N)], axis=1)
    else:  # a stick along z
        p = np.stack([rng.normal(0, 0.02, N), rng.normal(0, 0.02, N), rng.uniform(-1, 1, N)], axis=1)
    p = p - p.mean(axis=0)
    return (p / np.sqrt((p**2).mean())).astype(np.float32)


def _toy(folder: Path, per_split: dict[str, int]) -> Path:
    rng = np.random.default_rng(0)
    counts: dict[str, int] = {}
    for split, n in per_split.items():
        kinds = ["ring" if i % 2 == 0 else "stick" for i in range(n)]
        for k in kinds:
            counts[k] = counts.get(k, 0) + 1
        points = np.stack([_cloud(k, rng) for k in kinds])
        ids = np.array([f"{split}-{i}" for i in range(n)])
        write_split(
            folder / f"{split}.npz",
            ShapeSplit(points, np.array(kinds), ids, np.zeros((n, 3), np.float32), np.ones(n, np.float32)),
        )
    splits = dict(per_split)
    write_manifest(
        folder,
        {
            "points": N,
            "seed": 0,
            "normalization": {"mode": "shape_unit", "description": "toy"},
            "categories": counts,
            "splits": splits,
            "sources": ["toy"],
        },
    )
    return folder


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _toy(tmp_path_factory.mktemp("toy"), {"train": 32, "val": 8, "test": 8})


def _options(toy: Path, out: Path, **kw: object) -> TrainOptions:
    base = dict(
        mode="gen",
        data=toy,
        out=out,
        max_steps=40,
        batch_size=8,
        points=64,
        latent_dim=8,
        width=16,
        flow_depth=2,
        eval_every=0,
        checkpoint_every=0,
        log_every=5,
        quiet=True,
        lr=5e-3,
    )
    base.update(kw)
    return TrainOptions(**base)  # type: ignore[arg-type]


def _losses(run: Path) -> list[float]:
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [r["loss"] for r in lines if "loss" in r]


def test_training_lowers_the_loss_and_exports_the_model(toy: Path, tmp_path: Path) -> None:
    summary = run_training(_options(toy, tmp_path / "gen", eval_every=40))
    losses = _losses(tmp_path / "gen.run")
    assert len(losses) == 8
    assert np.mean(losses[-2:]) < 0.8 * np.mean(losses[:2])
    model = PointDiffusionModel.from_pretrained(tmp_path / "gen")
    assert model.config.categories == ("ring", "stick")
    assert model.conditional
    assert summary["steps"] == 40
    evals = [json.loads(x) for x in (tmp_path / "gen.run" / "metrics.jsonl").read_text().splitlines()]
    bound = [r["eval/bound_nats_per_point"] for r in evals if "eval/bound_nats_per_point" in r]
    assert len(bound) == 1
    assert np.isfinite(bound[0])


def test_resume_continues_exactly(toy: Path, tmp_path: Path) -> None:
    # (a decaying LR is re-timed by a new max_steps, so the split run uses a constant one)
    common = dict(loss="vlb", lr_schedule="constant")
    run_training(_options(toy, tmp_path / "a", max_steps=10, **common))
    run_training(_options(toy, tmp_path / "b", max_steps=5, checkpoint_every=5, **common))
    run_training(_options(toy, tmp_path / "b", max_steps=10, resume=True, **common))
    a = PointDiffusionModel.from_pretrained(tmp_path / "a").state_dict()
    b = PointDiffusionModel.from_pretrained(tmp_path / "b").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(UserError, match="already there"):
        run_training(_options(toy, tmp_path / "a", max_steps=10))


def test_autoencoder_separates_rings_from_sticks(toy: Path, tmp_path: Path) -> None:
    run_training(_options(toy, tmp_path / "ae", mode="ae", max_steps=150, batch_size=16, width=16, lr=5e-3))
    model = PointDiffusionModel.from_pretrained(tmp_path / "ae")
    rng = np.random.default_rng(5)
    ring, stick = torch.from_numpy(_cloud("ring", rng)), torch.from_numpy(_cloud("stick", rng))
    rec = model.reconstruct(
        torch.stack([ring, stick]), generator=torch.Generator().manual_seed(0), precision="fp32"
    )

    def chamfer(a: torch.Tensor, b: torch.Tensor) -> float:
        d = torch.cdist(a, b) ** 2
        return float(d.min(dim=1).values.mean() + d.min(dim=0).values.mean())

    # each reconstruction is closer to its own input than to the other shape and than Gaussian noise
    noise = torch.randn(N, 3, generator=torch.Generator().manual_seed(1))
    assert chamfer(rec[0], ring) < 0.5 * chamfer(rec[0], stick)
    assert chamfer(rec[1], stick) < 0.5 * chamfer(rec[1], ring)
    assert chamfer(rec[0], ring) < 0.5 * chamfer(noise, ring)
    assert chamfer(rec[1], stick) < 0.5 * chamfer(noise, stick)


def test_step_loss_definitions() -> None:
    terms = {
        "vlb": torch.tensor([10.0, 20.0]),
        "mse": torch.tensor([1.0, 3.0]),
        "kl": torch.tensor([4.0, 8.0]),
    }
    loss, metrics = step_loss(terms, 2, "vlb", 1.0)
    assert float(loss) == pytest.approx(((10 + 4) / 2 + (20 + 8) / 2) / 2)
    loss, metrics = step_loss(terms, 2, "simple", 0.5)
    assert float(loss) == pytest.approx(2.0 + 0.5 * 6.0)
    assert float(metrics["bound_nats_per_point"]) == pytest.approx(10.5)
    with pytest.raises(UserError):
        step_loss(terms, 2, "other", 1.0)


def test_subsample_draws_distinct_points() -> None:
    clouds = torch.arange(2 * 10 * 3, dtype=torch.float32).reshape(2, 10, 3)
    sub = subsample(clouds, 4, torch.Generator().manual_seed(0))
    assert sub.shape == (2, 4, 3)
    for b in range(2):
        rows = {tuple(r.tolist()) for r in sub[b]}
        assert len(rows) == 4
        assert rows <= {tuple(r.tolist()) for r in clouds[b]}
    assert subsample(clouds, 50).shape == (2, 10, 3)
