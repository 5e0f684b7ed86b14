"""Linear regression trained by `vcore.train.train`; run it under torchrun or as a plain script.

    python -m torch.distributed.run --standalone --nproc_per_node=2 tests/ddp_train_script.py --out D
    python tests/ddp_train_script.py --out D --batch-size 16      # the same updates in one process

The loss is a batch mean and SGD with momentum is linear in the gradient, so two processes with batch
B take the same steps as one process with batch 2B (DDP averages the two half-batch gradients).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.data import TensorDataset

from vcore.io import Pretrained
from vcore.train import TrainConfig, train


@dataclass
class LinearConfig:
    features: int = 4


class LinearModel(Pretrained, nn.Module):
    config_class = LinearConfig
    model_type = "ddp-test-linear"

    def __init__(self, config: LinearConfig):
        super().__init__()
        self.config = config
        self.linear = nn.Linear(config.features, 1, dtype=torch.float64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


def dataset() -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g, dtype=torch.float64)
    w = torch.tensor([[1.5], [-2.0], [0.5], [3.0]], dtype=torch.float64)
    y = x @ w + 0.7 + 0.1 * torch.randn(64, 1, generator=g, dtype=torch.float64)
    return TensorDataset(x, y)


def loss_fn(model: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, Any]]:
    x, y = batch
    loss = (model(x) - y).square().mean()
    return loss, {"abs_err": (model(x) - y).abs().mean().detach()}


def main(argv: list[str] | None = None) -> LinearModel:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--checkpoint-every", type=int, default=2)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    torch.manual_seed(1)
    model = LinearModel(LinearConfig())
    config = TrainConfig(
        out_dir=args.out,
        max_steps=args.steps,
        batch_size=args.batch_size,
        checkpoint_every=args.checkpoint_every,
        log_every=1,
        seed=3,
        resume=args.resume,
        progress=False,
    )
    train(
        model,
        loss_fn,
        dataset(),
        config,
        optimizer_fn=lambda m: torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9),
    )
    return model


def gloo_threads_left() -> list[str]:
    """Threads of this process that belong to a gloo process group (Linux; empty elsewhere)."""
    tasks = "/proc/self/task"
    if not os.path.isdir(tasks):
        return []
    names = []
    for task in os.listdir(tasks):
        try:
            with open(os.path.join(tasks, task, "comm"), encoding="utf-8") as handle:
                names.append(handle.read().strip())
        except FileNotFoundError:  # the thread ended meanwhile
            continue
    return [name for name in names if name.startswith("pt_gloo")]


if __name__ == "__main__":
    main()
    left = gloo_threads_left()
    if left:  # a group that outlives training is torn down at interpreter exit, which can abort
        sys.exit(f"the process group outlived training: threads {left} are still running")
