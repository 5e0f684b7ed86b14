"""PointDiffusionModel: checkpoints, sampling shapes and determinism, categories, user errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from vcore.errors import UserError
from vgeom.model.model import PointDiffusionConfig, PointDiffusionModel


def _model(mode: str = "gen", categories: tuple[str, ...] = ("chair", "lamp")) -> PointDiffusionModel:
    torch.manual_seed(0)
    config = PointDiffusionConfig(
        mode=mode,
        latent_dim=8,
        width=8,
        encoder_width=8,
        num_steps=10,
        flow_depth=2,
        flow_hidden=16,
        num_points=64,
        categories=categories,
        category_weights=(3.0, 1.0) if len(categories) == 2 else (),
    )
    return PointDiffusionModel(config).eval()


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_save_load_round_trip(tmp_path: Path) -> None:
    model = _model()
    with torch.no_grad():
        model.flow.base_mean.add_(0.5)  # type: ignore[union-attr]  # a trained-looking, non-default state
    model.save_pretrained(tmp_path / "ckpt")
    loaded = PointDiffusionModel.from_pretrained(tmp_path / "ckpt")
    assert loaded.config == model.config
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=False):
        assert torch.equal(a, b), name
    a = model.sample(3, 32, _g(1), precision="fp32")
    b = loaded.sample(3, 32, _g(1), precision="fp32")
    assert torch.equal(a, b)
    saved = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert saved["model_type"] == "vgeom-point-diffusion"
    assert saved["config"]["categories"] == [
        "chair",
        "lamp",
    ]


def test_loading_another_model_type_is_a_user_error(tmp_path: Path) -> None:
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "mlp", "config": {"width": 3}}))
    with pytest.raises(UserError, match="holds a 'mlp' model"):
        PointDiffusionModel.from_pretrained(folder)
    with pytest.raises(UserError, match="no such checkpoint"):
        PointDiffusionModel.from_pretrained(tmp_path / "missing")


def test_sample_shapes_and_determinism() -> None:
    model = _model()
    a = model.sample(4, 50, _g(7), precision="fp32")
    b = model.sample(4, 50, _g(7), precision="fp32")
    c = model.sample(4, 50, _g(8), precision="fp32")
    assert a.shape == (4, 50, 3)
    assert a.dtype == torch.float32
    assert torch.equal(a, b)
    assert float((a - c).abs().max()) > 0.1
    assert bool(torch.isfinite(a).all())
    fewer = model.sample(2, 20, _g(7), steps=5, precision="fp32")
    assert fewer.shape == (2, 20, 3)
    assert not torch.equal(fewer, model.sample(2, 20, _g(7), precision="fp32"))
    default = model.sample(1, generator=_g(7), precision="fp32")
    assert default.shape == (1, 64, 3)  # the config's num_points


def test_categories_drive_the_conditional_prior() -> None:
    model = _model()
    assert model.conditional
    _z, names = model.sample_latents(400, _g(3))
    share = names.count("chair") / len(names)
    assert abs(share - 0.75) < 0.07  # drawn by the training frequencies 3:1
    z_lamp, names_lamp = model.sample_latents(5, _g(3), category="lamp")
    assert names_lamp == ["lamp"] * 5
    assert z_lamp.shape == (5, 8)
    with pytest.raises(UserError, match="unknown category 'sofa'; this model knows: chair, lamp"):
        model.sample_latents(2, _g(3), category="sofa")
    single = _model(categories=("vase",))
    assert not single.conditional
    assert single.sample_latents(2, _g(3), category="vase")[1] == ["vase", "vase"]
    with pytest.raises(UserError, match="unknown category"):
        single.sample_latents(2, _g(3), category="chair")


def test_autoencoder_reconstructs_shape_and_has_no_prior() -> None:
    ae = _model("ae", categories=())
    assert ae.flow is None
    x = torch.randn(2, 30, 3, generator=_g(4))
    out = ae.reconstruct(x, generator=_g(5), precision="fp32")
    assert out.shape == (2, 30, 3)
    assert torch.equal(out, ae.reconstruct(x, generator=_g(5), precision="fp32"))
    with pytest.raises(UserError, match="auto-encoder"):
        ae.sample(1)
