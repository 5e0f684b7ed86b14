"""torch.distributed for data-parallel training under `torchrun`; every helper is a no-op in one process.

`torchrun --nproc_per_node=N script.py` starts N processes and gives each the environment variables
RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT. `init_distributed` reads them and joins
the process group (gloo on CPU, nccl on CUDA); launched without torchrun it returns rank 0 of 1.

DistributedDataParallel (Li et al. 2020, "PyTorch Distributed: Experiences on Accelerating Data
Parallel Training") all-reduces gradients and divides by the world size, so N processes with
per-process batch B take the same step as one process with batch N*B over the same samples when the
loss is a mean over the batch. Only rank 0 writes checkpoints and metrics.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits: its rank among `world_size` processes and the device it computes on."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def launched_by_torchrun() -> bool:
    """True when the torchrun environment variables name more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def init_distributed(device: str | torch.device = "cpu", timeout_s: float = 1800.0) -> DistInfo:
    """Join the process group torchrun set up (idempotent); without torchrun, return rank 0 of 1.

    On CUDA each process takes `cuda:LOCAL_RANK` and the nccl backend; on CPU the gloo backend.
    """
    device = torch.device(device)
    if not launched_by_torchrun():
        return DistInfo(rank=0, world_size=1, local_rank=0, device=device)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        _import_compiler_before_the_group()
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, timeout=timedelta(seconds=timeout_s))
        logger.info("rank %d of %d joined (%s)", dist.get_rank(), dist.get_world_size(), backend)
    return DistInfo(dist.get_rank(), dist.get_world_size(), local_rank, device)


def _import_compiler_before_the_group() -> None:
    """Import torch._dynamo now, before the process group exists.

    DistributedDataParallel imports torch._dynamo on construction. When that first import happens
    while a group is up (importing torch._inductor alone does the same), it keeps references to the
    group that `destroy_process_group` does not drop (torch 2.11), so the gloo group and its threads
    outlive `shutdown_distributed` and are torn down during interpreter finalization, where they abort
    the process now and then ("terminate called without an active exception", exit -6). Imported
    before the group, the same modules hold nothing of it.
    """
    import torch._dynamo  # noqa: F401


def shutdown_distributed() -> None:
    """Leave the process group, if one was joined."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def get_rank() -> int:
    return dist.get_rank() if _active() else 0


def get_world_size() -> int:
    return dist.get_world_size() if _active() else 1


def is_main_process() -> bool:
    """True on rank 0, and in a process that is not part of a group."""
    return get_rank() == 0


def barrier() -> None:
    """Wait until every process reaches this point."""
    if _active():
        dist.barrier()


def wrap_model(model: nn.Module, info: DistInfo) -> nn.Module:
    """`model` wrapped in DistributedDataParallel when there are several processes, else `model` itself."""
    if not info.distributed:
        return model
    device_ids = [info.device.index] if info.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def unwrap_model(model: nn.Module) -> nn.Module:
    """The module inside a DistributedDataParallel wrapper (or `model` itself)."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def all_reduce_mean(values: Mapping[str, float | torch.Tensor], device: torch.device) -> dict[str, float]:
    """Average scalar metrics over processes (every process must pass the same keys)."""
    keys = sorted(values)
    if not keys:
        return {}
    stacked = torch.stack(
        [torch.as_tensor(values[k], dtype=torch.float64, device=device).detach().reshape(()) for k in keys]
    )
    if _active():
        dist.all_reduce(stacked, op=dist.ReduceOp.SUM)
        stacked /= dist.get_world_size()
    return dict(zip(keys, stacked.tolist(), strict=True))


def any_process(flag: bool, device: torch.device) -> bool:
    """True when `flag` is true in at least one process (so that every process takes the same branch)."""
    if not _active():
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def all_gather_object(obj: Any) -> list[Any]:
    """`[obj from rank 0, obj from rank 1, ...]` in every process (picklable objects)."""
    if not _active():
        return [obj]
    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, obj)
    return gathered
