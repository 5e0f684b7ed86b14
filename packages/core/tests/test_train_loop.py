"""The resumable training loop: exact resume, metrics file, interrupts, sampler and LR schedule."""

from __future__ import annotations

import json
import os
import random
import signal
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from vcore.errors import UserError
from vcore.io import Pretrained, load_state
from vcore.train import ResumableSampler, TrainConfig, lr_multiplier, train
from vcore.train import loop as loop_module
from vcore.train.ema import WeightAverage, ema_decay_at
from vcore.train.loop import EMA_NAME


@dataclass
class NetConfig:
    width: int = 16


class Net(Pretrained, nn.Module):
    config_class = NetConfig
    model_type = "test-net"

    def __init__(self, config: NetConfig):
        super().__init__()
        self.config = config
        self.body = nn.Sequential(
            nn.Linear(2, config.width), nn.Tanh(), nn.Dropout(0.2), nn.Linear(config.width, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def _dataset(dtype: torch.dtype) -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 2, generator=g, dtype=dtype)
    y = torch.sin(x[:, :1]) + x[:, 1:] ** 2
    return TensorDataset(x, y)


def _model(dtype: torch.dtype, width: int = 16) -> Net:
    torch.manual_seed(123)
    return Net(NetConfig(width)).to(dtype)


def loss_fn(model: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """Uses every global generator (dropout and noise: torch; python and numpy: scales)."""
    x, y = batch
    scale = 0.05 * random.random() + 0.01 * float(np.random.rand())  # noqa: NPY002
    noisy = x + scale * torch.randn_like(x)
    loss = (model(noisy) - y).square().mean()
    return loss, {"scale": scale}


def _config(out: Path, **kwargs: Any) -> TrainConfig:
    base = TrainConfig(
        out_dir=str(out),
        max_steps=12,
        batch_size=8,
        lr=3e-3,
        warmup_steps=3,
        grad_clip=1.0,
        checkpoint_every=3,
        log_every=2,
        seed=5,
        progress=False,
    )
    return replace(base, **kwargs)


def _run(out: Path, dtype: torch.dtype, **kwargs: Any) -> Net:
    model = _model(dtype)
    train(model, loss_fn, _dataset(dtype), _config(out, **kwargs))
    return model


def _records(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def _assert_same_parameters(a: nn.Module, b: nn.Module) -> None:
    for (name, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(p, q), name


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_n_steps_plus_resume_equals_2n_steps(tmp_path: Path, dtype: torch.dtype) -> None:
    full = _run(tmp_path / "full", dtype, max_steps=12)
    _run(tmp_path / "split", dtype, max_steps=6)  # 40 samples / 8 = 5 batches an epoch: stops mid-epoch
    assert load_state(tmp_path / "split/checkpoint/training_state.pt").step == 6
    resumed = _run(tmp_path / "split", dtype, max_steps=12, resume=True)
    _assert_same_parameters(full, resumed)
    assert not torch.equal(full.body[0].weight, _model(dtype).body[0].weight)  # it did train
    a, b = _records(tmp_path / "full"), _records(tmp_path / "split")
    assert [r["step"] for r in a] == [r["step"] for r in b] == [2, 4, 6, 8, 10, 12]
    assert [(r["loss"], r["scale"], r["lr"]) for r in a] == [(r["loss"], r["scale"], r["lr"]) for r in b]


def test_metrics_records(tmp_path: Path) -> None:
    losses: list[float] = []

    def recording_loss(model: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        loss, metrics = loss_fn(model, batch)
        losses.append(loss.item())
        return loss, metrics

    config = _config(tmp_path, max_steps=6, log_every=3, lr_schedule="linear", min_lr_ratio=0.5)
    result = train(_model(torch.float64), recording_loss, _dataset(torch.float64), config)
    records = _records(tmp_path)
    assert [r["step"] for r in records] == [3, 6]
    assert set(records[0]) == {
        "step",
        "epoch",
        "loss",
        "scale",
        "grad_norm",
        "lr",
        "elapsed_s",
        "samples_per_s",
        "time",
    }
    assert records[0]["loss"] == pytest.approx(sum(losses[:3]) / 3, rel=1e-12)
    assert records[1]["loss"] == pytest.approx(sum(losses[3:]) / 3, rel=1e-12)
    # the LR of the update that produced step 6 (step index 5): warmup 3, then linear to 0.5 at step 6
    assert records[1]["lr"] == pytest.approx(3e-3 * (1 - 0.5 * 2 / 3), rel=1e-12)
    assert records[0]["lr"] == pytest.approx(3e-3 * 1.0, rel=1e-12)
    assert records[1]["epoch"] == pytest.approx(6 / 5)
    assert records[1]["samples_per_s"] > 0
    assert result.step == 6
    assert result.metrics == records[-1]


def test_lr_multiplier_closed_forms() -> None:
    config = TrainConfig(max_steps=14, warmup_steps=4, lr_schedule="cosine", min_lr_ratio=0.1)
    assert [lr_multiplier(s, config) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr_multiplier(4, config) == 1.0
    assert lr_multiplier(9, config) == pytest.approx(0.1 + 0.9 * 0.5, abs=1e-15)  # halfway: cos(pi/2) = 0
    assert lr_multiplier(14, config) == pytest.approx(0.1, abs=1e-15)
    linear = replace(config, lr_schedule="linear")
    assert lr_multiplier(9, linear) == pytest.approx(1 - 0.9 * 0.5, abs=1e-15)
    assert lr_multiplier(100, replace(config, lr_schedule="constant")) == 1.0


def test_ctrl_c_saves_a_checkpoint_and_resume_is_exact(tmp_path: Path) -> None:
    full = _run(tmp_path / "full", torch.float64, lr_schedule="cosine", checkpoint_every=0, log_every=1)

    def interrupt_at_step_5(record: dict[str, Any]) -> None:
        if record["step"] == 5:
            os.kill(os.getpid(), signal.SIGINT)

    model = _model(torch.float64)
    config = _config(tmp_path / "cut", lr_schedule="cosine", checkpoint_every=0, log_every=1)
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN, not Python's handler, in a job started with `&`
    with pytest.raises(KeyboardInterrupt):
        train(model, loss_fn, _dataset(torch.float64), config, callbacks=[interrupt_at_step_5])
    assert signal.getsignal(signal.SIGINT) is before  # handler put back
    assert load_state(tmp_path / "cut/checkpoint/training_state.pt").step == 5
    resumed = _run(
        tmp_path / "cut", torch.float64, lr_schedule="cosine", checkpoint_every=0, log_every=1, resume=True
    )
    _assert_same_parameters(full, resumed)


def test_crash_truncates_metrics_on_resume(tmp_path: Path) -> None:
    full = _run(tmp_path / "full", torch.float64, max_steps=10, checkpoint_every=5, log_every=1)

    def crash_at_step_8(record: dict[str, Any]) -> None:
        if record["step"] == 8:
            raise RuntimeError("out of memory")

    config = _config(tmp_path / "crash", max_steps=10, checkpoint_every=5, log_every=1)
    with pytest.raises(RuntimeError, match="out of memory"):
        train(_model(torch.float64), loss_fn, _dataset(torch.float64), config, callbacks=[crash_at_step_8])
    assert [r["step"] for r in _records(tmp_path / "crash")] == list(range(1, 9))
    with (tmp_path / "crash/metrics.jsonl").open("a") as handle:
        handle.write('{"step": 9, "lo')  # a line cut short by the crash
    resumed = _run(
        tmp_path / "crash", torch.float64, max_steps=10, checkpoint_every=5, log_every=1, resume=True
    )
    _assert_same_parameters(full, resumed)
    records = _records(tmp_path / "crash")
    assert [r["step"] for r in records] == list(range(1, 11))
    assert [r["loss"] for r in records] == [r["loss"] for r in _records(tmp_path / "full")]


def test_crash_while_checkpointing_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_save_state = loop_module.save_state
    calls = []

    def fail_second_save(path: Path, **kwargs: Any) -> Path:
        calls.append(kwargs["step"])
        if len(calls) == 2:
            raise OSError("disk full")
        return real_save_state(path, **kwargs)

    monkeypatch.setattr(loop_module, "save_state", fail_second_save)
    with pytest.raises(OSError, match="disk full"):
        _run(tmp_path, torch.float64, max_steps=12, checkpoint_every=3)
    assert calls == [3, 6]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint", "metrics.jsonl"]
    assert load_state(tmp_path / "checkpoint/training_state.pt").step == 3
    Net.from_pretrained(tmp_path / "checkpoint")  # still complete and loadable


def test_eval_fn_runs_on_schedule_without_disturbing_training(tmp_path: Path) -> None:
    plain = _run(tmp_path / "plain", torch.float64, max_steps=6)
    seen_modes = []

    def eval_fn(model: nn.Module) -> dict[str, float]:
        seen_modes.append((model.training, torch.is_grad_enabled()))
        x = torch.randn(5, 2, dtype=torch.float64)  # draws from the training RNG stream, which is restored
        return {"out": model(x).mean().item(), "seed_draw": random.random()}

    model = _model(torch.float64)
    train(
        model,
        loss_fn,
        _dataset(torch.float64),
        _config(tmp_path / "eval", max_steps=6, eval_every=4),
        eval_fn=eval_fn,
    )
    _assert_same_parameters(plain, model)
    assert seen_modes == [(False, False)]
    eval_records = [r for r in _records(tmp_path / "eval") if "eval/out" in r]
    assert [r["step"] for r in eval_records] == [4]


def test_user_errors(tmp_path: Path) -> None:
    _run(tmp_path / "a", torch.float64, max_steps=3)
    with pytest.raises(UserError, match=r"checkpoint: a checkpoint is already there"):
        _run(tmp_path / "a", torch.float64, max_steps=6)
    model = _model(torch.float64, width=8)
    with pytest.raises(UserError, match=r"config differs from the checkpoint's in width"):
        train(model, loss_fn, _dataset(torch.float64), _config(tmp_path / "a", max_steps=6, resume=True))
    with pytest.raises(UserError, match=r"the dataset has 40 samples, fewer than one batch of 64"):
        _run(tmp_path / "b", torch.float64, batch_size=64)
    with pytest.raises(UserError, match=r"max_steps must be at least 1"):
        TrainConfig(max_steps=0)


def test_resume_past_max_steps_does_nothing(tmp_path: Path) -> None:
    done = _run(tmp_path, torch.float64, max_steps=3)
    again = _run(tmp_path, torch.float64, max_steps=3, resume=True)
    _assert_same_parameters(done, again)
    assert [r["step"] for r in _records(tmp_path)] == [2]


def test_resume_with_another_lr_and_weight_decay_uses_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _run(tmp_path, torch.float64, max_steps=6, lr=3e-3)
    with caplog.at_level("WARNING", logger="vcore.train.loop"):
        _run(tmp_path, torch.float64, max_steps=12, lr=1e-2, weight_decay=0.5, resume=True)
    lrs = {r["step"]: r["lr"] for r in _records(tmp_path)}
    assert [lrs[4], lrs[6]] == pytest.approx([3e-3, 3e-3])  # warmup is over at step 3
    assert [lrs[8], lrs[10], lrs[12]] == pytest.approx([1e-2, 1e-2, 1e-2])
    group = torch.load(tmp_path / "checkpoint/training_state.pt", weights_only=False)["optimizer"]
    group = group["param_groups"][0]
    assert (group["initial_lr"], group["lr"], group["weight_decay"]) == (1e-2, 1e-2, 0.5)
    assert "resuming with lr = 0.01 (the checkpoint used 0.003)" in caplog.text
    assert "resuming with weight_decay = 0.5 (the checkpoint used 0.0)" in caplog.text


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cpu_checkpoint_resumes_on_cuda(tmp_path: Path) -> None:
    _run(tmp_path, torch.float32, max_steps=3)  # RNG states saved as CPU tensors, loaded onto the GPU
    model = _model(torch.float32)
    train(model, loss_fn, _dataset(torch.float32), _config(tmp_path, max_steps=6, resume=True, device="cuda"))
    assert load_state(tmp_path / "checkpoint/training_state.pt").step == 6


def test_sampler_shards_equal_one_process_batches() -> None:
    """With W processes and batch B, step k's samples are one process's batch k of size W*B."""
    size, batch, world = 22, 3, 2
    single = list(ResumableSampler(size, seed=7))
    shards = [ResumableSampler(size, seed=7, rank=r, world_size=world) for r in range(world)]
    per_rank = [list(s) for s in shards]
    assert [len(p) for p in per_rank] == [11, 11]
    for k in range(11 // batch):
        union = sorted(i for p in per_rank for i in p[k * batch : (k + 1) * batch])
        assert union == sorted(single[k * batch * world : (k + 1) * batch * world])
    assert sorted(single) == list(range(size))
    shards[1].set_epoch(0, start=4)
    assert list(shards[1]) == per_rank[1][4:]
    assert len(shards[1]) == 7
    epoch1 = ResumableSampler(size, seed=7)
    epoch1.set_epoch(1)
    assert list(epoch1) != single
    assert sorted(epoch1) == list(range(size))
    assert list(ResumableSampler(size, seed=7, shuffle=False)) == list(range(size))


def test_ema_decay_closed_form() -> None:
    assert ema_decay_at(0.999, 1) == pytest.approx(2 / 11)
    assert ema_decay_at(0.999, 10_000) == 0.999
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(nn.Linear(1, 1), 1.0)


def test_weight_average_of_a_known_trajectory() -> None:
    """theta_k = k for k = 1..K: the average is the recursion's closed form, computed step by step."""
    model = nn.Linear(1, 1, bias=False).double()
    nn.init.zeros_(model.weight)
    average = WeightAverage(model, 0.9)
    expected = 0.0
    for k in range(1, 30):
        model.weight.data.fill_(float(k))
        average.update(model, k)
        d = min(0.9, (1 + k) / (10 + k))
        expected = d * expected + (1 - d) * k
    assert float(average.model.weight) == pytest.approx(expected, rel=1e-12)
    assert not average.model.weight.requires_grad


def test_ema_resume_equals_one_run(tmp_path: Path) -> None:
    model = _model(torch.float64)
    full = train(model, loss_fn, _dataset(torch.float64), _config(tmp_path / "full", ema_decay=0.9))
    split_model = _model(torch.float64)
    train(
        split_model, loss_fn, _dataset(torch.float64), _config(tmp_path / "split", max_steps=6, ema_decay=0.9)
    )
    assert (tmp_path / "split/checkpoint" / EMA_NAME).is_file()
    resumed = train(
        _model(torch.float64),
        loss_fn,
        _dataset(torch.float64),
        _config(tmp_path / "split", ema_decay=0.9, resume=True),
    )
    assert full.ema is not None
    assert resumed.ema is not None
    _assert_same_parameters(full.ema.model, resumed.ema.model)
    assert not torch.equal(full.ema.model.body[0].weight, model.body[0].weight)  # an average, not the last
    target = _model(torch.float64)
    full.ema.copy_to(target)
    _assert_same_parameters(target, full.ema.model)


def test_no_ema_by_default(tmp_path: Path) -> None:
    result = train(_model(torch.float64), loss_fn, _dataset(torch.float64), _config(tmp_path, max_steps=3))
    assert result.ema is None
    assert not (tmp_path / "checkpoint" / EMA_NAME).exists()
    with pytest.raises(UserError, match="ema_decay"):
        _config(tmp_path, ema_decay=1.0)
