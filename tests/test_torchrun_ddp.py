"""torchrun end to end: 2 gloo processes on CPU train like one process with the doubled batch, and resume.

Two launches of `python -m torch.distributed.run --standalone --nproc_per_node=2` (a few seconds each):
4 steps with a checkpoint, then a resume to 8 steps. The result must equal an 8-step run in this
process with batch 2B to 1e-10 (float64 linear regression, SGD with momentum), and only rank 0 may
have written metrics and checkpoints. Each process checks that its gloo threads ended with training
(a group left to interpreter exit aborts the process now and then).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

from vcore.io import load_state, read_weights

SCRIPT = Path(__file__).with_name("ddp_train_script.py")
pytestmark = pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed missing")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ddp_train_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _torchrun(*args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(SCRIPT),
    ]
    done = subprocess.run([*command, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _records(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def _check_written_by_rank_0_only(out: Path, steps: int) -> None:
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint", "metrics.jsonl"]  # no stray temp folders
    assert sorted(p.name for p in (out / "checkpoint").iterdir()) == [
        "config.json",
        "model.safetensors",
        "training_state.pt",
    ]
    assert [r["step"] for r in _records(out)] == list(range(1, steps + 1))  # one line per step, not two
    state = load_state(out / "checkpoint/training_state.pt")
    assert state.step == steps
    assert state.extra["world_size"] == 2
    assert state.extra["global_batch_size"] == 16
    assert len(state.rng) == 2  # both processes' generators, gathered by rank 0
    assert not torch.equal(state.rng[0]["torch"], state.rng[1]["torch"])  # seeded seed + rank


def test_two_processes_equal_one_with_the_doubled_batch(tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    _torchrun("--out", str(out), "--steps", "4", "--batch-size", "8", "--checkpoint-every", "2")
    _check_written_by_rank_0_only(out, 4)
    _torchrun("--out", str(out), "--steps", "8", "--batch-size", "8", "--checkpoint-every", "2", "--resume")
    _check_written_by_rank_0_only(out, 8)

    reference = _script().main(["--out", str(tmp_path / "single"), "--steps", "8", "--batch-size", "16"])
    weights = read_weights(out / "checkpoint/model.safetensors")
    expected = reference.state_dict()
    assert weights.keys() == expected.keys()
    for name, value in expected.items():
        assert weights[name].dtype == torch.float64
        torch.testing.assert_close(weights[name], value, rtol=0, atol=1e-10)
    ddp_losses = [r["loss"] for r in _records(out)]
    single_losses = [r["loss"] for r in _records(tmp_path / "single")]
    assert ddp_losses == pytest.approx(single_losses, rel=0, abs=1e-10)
    assert single_losses[-1] < 0.5 * single_losses[0]  # it learns
