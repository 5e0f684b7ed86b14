"""Checkpoint folders: exact round trips, clear errors for wrong checkpoints, and atomic replacement."""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import vcore
from vcore.errors import UserError
from vcore.io import (
    Pretrained,
    atomic_dir,
    atomic_file,
    atomic_write_json,
    capture_rng_state,
    load_state,
    recover_dir,
    restore_rng_state,
    save_state,
)
from vcore.io import atomic as atomic_module
from vcore.io import checkpoint as checkpoint_module
from vcore.io.checkpoint import shipped_checkpoint


@dataclass
class MLPConfig:
    sizes: tuple[int, ...] = (3, 8, 2)
    activation: str = "tanh"


class MLP(Pretrained, nn.Module):
    config_class = MLPConfig
    model_type = "test-mlp"

    def __init__(self, config: MLPConfig):
        super().__init__()
        self.config = config
        self.layers = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(config.sizes, config.sizes[1:], strict=False)
        )
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.tanh(x) if self.config.activation == "tanh" else torch.relu(x)
        return x


class OtherMLP(MLP):
    model_type = "other-model"


@dataclass
class TiedConfig:
    vocab: int = 5
    dim: int = 4


class Tied(Pretrained, nn.Module):
    config_class = TiedConfig
    model_type = "test-tied"

    def __init__(self, config: TiedConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab, config.dim)
        self.head = nn.Linear(config.dim, config.vocab, bias=False)
        self.head.weight = self.embed.weight


def _model(dtype: torch.dtype = torch.float64, sizes: tuple[int, ...] = (3, 8, 2), seed: int = 0) -> MLP:
    torch.manual_seed(seed)
    model = MLP(MLPConfig(sizes=sizes, activation="relu")).to(dtype)
    model.calls.fill_(7)
    return model


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_round_trip_is_bitwise_and_restores_config(tmp_path: Path, dtype: torch.dtype) -> None:
    model = _model(dtype)
    path = model.save_pretrained(tmp_path / "ckpt")
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.safetensors"]
    saved = json.loads((path / "config.json").read_text())
    assert saved == {
        "model_type": "test-mlp",
        "vcore_version": vcore.__version__,
        "config": {"sizes": [3, 8, 2], "activation": "relu"},
    }

    loaded = MLP.from_pretrained(path)
    assert loaded.config == MLPConfig(sizes=(3, 8, 2), activation="relu")  # the tuple comes back a tuple
    assert not loaded.training
    before, after = model.state_dict(), loaded.state_dict()
    assert before.keys() == after.keys()
    for name in before:
        assert after[name].dtype == before[name].dtype
        assert torch.equal(after[name], before[name]), name
    assert int(loaded.calls) == 7
    x = torch.linspace(-1, 1, 12, dtype=dtype).reshape(4, 3)
    assert torch.equal(loaded(x), model(x))


def test_tied_weights_stay_tied(tmp_path: Path) -> None:
    torch.manual_seed(1)
    model = Tied(TiedConfig())
    model.save_pretrained(tmp_path / "tied")
    loaded = Tied.from_pretrained(tmp_path / "tied")
    assert loaded.head.weight is loaded.embed.weight
    assert torch.equal(loaded.embed.weight, model.embed.weight)


def test_dtype_argument_overrides_the_checkpoint(tmp_path: Path) -> None:
    model = _model(torch.float64)
    model.save_pretrained(tmp_path / "c")
    loaded = MLP.from_pretrained(tmp_path / "c", dtype=torch.float32)
    assert loaded.layers[0].weight.dtype == torch.float32
    assert torch.equal(loaded.layers[0].weight, model.layers[0].weight.float())


def test_other_model_type_is_a_user_error(tmp_path: Path) -> None:
    _model().save_pretrained(tmp_path / "c")
    with pytest.raises(UserError, match=r"c: checkpoint holds a 'test-mlp' model, not 'other-model'"):
        OtherMLP.from_pretrained(tmp_path / "c")


def test_missing_files_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"nowhere: no such checkpoint folder"):
        MLP.from_pretrained(tmp_path / "nowhere")
    path = _model().save_pretrained(tmp_path / "c")
    (path / "model.safetensors").unlink()
    with pytest.raises(UserError, match=r"c: checkpoint has no model.safetensors"):
        MLP.from_pretrained(path)
    (path / "config.json").unlink()
    with pytest.raises(UserError, match=r"c: not a checkpoint folder \(missing config.json\)"):
        MLP.from_pretrained(path)


def test_shape_mismatch_is_a_user_error(tmp_path: Path) -> None:
    path = _model(sizes=(3, 8, 2)).save_pretrained(tmp_path / "c")
    data = json.loads((path / "config.json").read_text())
    data["config"]["sizes"] = [3, 9, 2]
    (path / "config.json").write_text(json.dumps(data))
    with pytest.raises(UserError, match=r"tensor layers\.0\.bias has shape \(8,\), the model expects \(9,\)"):
        MLP.from_pretrained(path)


def test_mismatched_keys_and_fields_are_user_errors(tmp_path: Path) -> None:
    path = _model(sizes=(3, 8, 2)).save_pretrained(tmp_path / "c")
    config_file = path / "config.json"
    data = json.loads(config_file.read_text())
    data["config"]["sizes"] = [3, 8, 8, 2]
    config_file.write_text(json.dumps(data))
    with pytest.raises(
        UserError, match=r"tensors do not match the model \(missing layers\.2\.bias, layers\.2"
    ):
        MLP.from_pretrained(path)
    data["config"] = {"sizes": [3, 8, 2], "depth": 3}
    config_file.write_text(json.dumps(data))
    with pytest.raises(UserError, match=r"config.json: unknown MLPConfig field\(s\) depth"):
        MLP.from_pretrained(path)
    config_file.write_text("{not json")
    with pytest.raises(UserError, match=r"config.json: not valid JSON"):
        MLP.from_pretrained(path)


def test_corrupt_weights_are_a_user_error(tmp_path: Path) -> None:
    path = _model().save_pretrained(tmp_path / "c")
    weights = path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:40])
    with pytest.raises(UserError, match=r"model.safetensors: not a readable safetensors file"):
        MLP.from_pretrained(path)


def test_crash_mid_save_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _model(seed=0)
    path = old.save_pretrained(tmp_path / "c")
    new = _model(seed=1)

    def crash(module: nn.Module, filename: str, metadata: dict[str, str] | None = None) -> None:
        Path(filename).write_bytes(b"half a file")
        raise RuntimeError("disk full")

    monkeypatch.setattr(checkpoint_module, "save_model", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        new.save_pretrained(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]  # no temporary folder left behind
    loaded = MLP.from_pretrained(path)
    assert torch.equal(loaded.layers[0].weight, old.layers[0].weight)
    assert not torch.equal(loaded.layers[0].weight, new.layers[0].weight)


def test_crash_between_the_renames_restores_the_old_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _model(seed=0)
    path = old.save_pretrained(tmp_path / "c")
    real_replace = os.replace
    calls = []

    def second_rename_fails(src: str | Path, dst: str | Path) -> None:
        if Path(src).parent == tmp_path:  # the folder renames, not the files written inside
            calls.append((Path(src).name, Path(dst).name))
            if len(calls) == 2:
                raise OSError("power cut")
        real_replace(src, dst)

    monkeypatch.setattr(atomic_module.os, "replace", second_rename_fails)
    with pytest.raises(OSError, match="power cut"):
        _model(seed=1).save_pretrained(path)
    monkeypatch.setattr(atomic_module.os, "replace", real_replace)
    assert calls[0][0] == "c"
    assert calls[0][1].startswith("c.old-")
    assert calls[1][0].startswith("c.tmp-")
    assert calls[1][1] == "c"
    assert calls[2][0] == calls[0][1]
    assert calls[2][1] == "c"
    assert torch.equal(MLP.from_pretrained(path).layers[0].weight, old.layers[0].weight)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]


def test_recover_dir_puts_back_a_stranded_backup(tmp_path: Path) -> None:
    path = _model().save_pretrained(tmp_path / "c")
    os.replace(path, tmp_path / "c.old-abc123")  # what a crash between the two renames leaves
    (tmp_path / "c.old-empty").mkdir()
    assert recover_dir(path)
    assert MLP.from_pretrained(path).config.sizes == (3, 8, 2)
    assert not recover_dir(path)


def _write_then_fail(target: Path) -> None:
    with atomic_file(target) as tmp:
        tmp.write_text("partial")
        raise ValueError("boom")


def _fill_then_fail(target: Path) -> None:
    with atomic_dir(target) as folder:
        (folder / "x").write_text("x")
        raise ValueError("boom")


def test_atomic_writes_leave_old_content_on_failure(tmp_path: Path) -> None:
    target = atomic_write_json(tmp_path / "a.json", {"b": 1, "a": [1, 2]})
    assert target.read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'
    with pytest.raises(ValueError, match="boom"):
        _write_then_fail(target)
    assert json.loads(target.read_text()) == {"a": [1, 2], "b": 1}
    with pytest.raises(ValueError, match="boom"):
        _fill_then_fail(tmp_path / "d")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def _optimizer_after_steps(
    model: nn.Module,
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0 / (1 + s))
    x = torch.linspace(-1, 1, 15, dtype=torch.float64).reshape(5, 3)
    for _ in range(3):
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()
        scheduler.step()
    return optimizer, scheduler


def test_training_state_round_trip_under_weights_only(tmp_path: Path) -> None:
    model = _model()
    optimizer, scheduler = _optimizer_after_steps(model)
    random.seed(3)
    np.random.seed(4)  # noqa: NPY002 (the legacy global generator is what is checkpointed)
    torch.manual_seed(5)
    rng = capture_rng_state()
    expected = (random.random(), np.random.rand(), torch.rand(()).item())  # noqa: NPY002
    file = save_state(
        tmp_path / "training_state.pt",
        optimizer=optimizer,
        scheduler=scheduler,
        step=3,
        rng=[rng],
        extra={"k": 1},
    )
    raw = torch.load(file, weights_only=True)  # RNG states are tensors and plain values only
    assert raw["rng"][0]["torch"].dtype == torch.uint8

    fresh = _model(seed=9)
    fresh_optimizer = torch.optim.AdamW(fresh.parameters(), lr=0.1, weight_decay=0.01)
    fresh_scheduler = torch.optim.lr_scheduler.LambdaLR(fresh_optimizer, lambda s: 1.0 / (1 + s))
    state = load_state(file, optimizer=fresh_optimizer, scheduler=fresh_scheduler)
    assert state.step == 3
    assert state.extra == {"k": 1}
    assert fresh_scheduler.last_epoch == 3
    assert fresh_optimizer.param_groups[0]["lr"] == pytest.approx(0.1 / 4, abs=0)
    for a, b in zip(optimizer.state.values(), fresh_optimizer.state.values(), strict=True):
        assert torch.equal(a["exp_avg"], b["exp_avg"])
        assert torch.equal(a["exp_avg_sq"], b["exp_avg_sq"])
        assert float(a["step"]) == float(b["step"]) == 3.0
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002 (the legacy global generator is what is checkpointed)
    torch.manual_seed(0)
    restore_rng_state(state.rng[0])
    assert (random.random(), np.random.rand(), torch.rand(()).item()) == expected  # noqa: NPY002


class NotATensor:
    pass


def test_state_with_arbitrary_objects_is_refused(tmp_path: Path) -> None:
    model = _model()
    optimizer, _ = _optimizer_after_steps(model)
    file = save_state(tmp_path / "s.pt", optimizer=optimizer, step=1, extra={"obj": NotATensor()})
    with pytest.raises(UserError, match=r"s.pt: not a readable training state"):
        load_state(file)
    (tmp_path / "t.pt").write_bytes(b"garbage")
    with pytest.raises(UserError, match=r"t.pt: not a readable training state"):
        load_state(tmp_path / "t.pt")
    torch.save({"step": 1}, tmp_path / "u.pt")
    with pytest.raises(UserError, match=r"u.pt: not a vcore training state"):
        load_state(tmp_path / "u.pt")


def test_optimizer_state_for_another_model_is_a_user_error(tmp_path: Path) -> None:
    optimizer, _ = _optimizer_after_steps(_model())
    file = save_state(tmp_path / "s.pt", optimizer=optimizer, step=3)
    other = _model(sizes=(3, 8, 8, 2))
    with pytest.raises(UserError, match=r"s.pt: optimizer or scheduler state does not fit"):
        load_state(file, optimizer=torch.optim.AdamW(other.parameters()))


def test_shipped_checkpoint_or_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="ships no default mypkg checkpoint: pass --checkpoint"):
        shipped_checkpoint(tmp_path, "mypkg")
    (tmp_path / "config.json").write_text("{}")
    assert shipped_checkpoint(tmp_path, "mypkg") == tmp_path
