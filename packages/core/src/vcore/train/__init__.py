"""A resumable training loop (one process or torchrun/DDP), its data sampler and distributed helpers."""

from vcore.train.distributed import (
    DistInfo,
    all_reduce_mean,
    barrier,
    get_rank,
    get_world_size,
    init_distributed,
    is_main_process,
    launched_by_torchrun,
    shutdown_distributed,
    unwrap_model,
    wrap_model,
)
from vcore.train.ema import WeightAverage
from vcore.train.loop import (
    CHECKPOINT_DIR,
    EMA_NAME,
    METRICS_NAME,
    TrainConfig,
    TrainResult,
    lr_multiplier,
    train,
)
from vcore.train.sampler import ResumableSampler

__all__ = [
    "CHECKPOINT_DIR",
    "EMA_NAME",
    "METRICS_NAME",
    "DistInfo",
    "ResumableSampler",
    "TrainConfig",
    "TrainResult",
    "WeightAverage",
    "all_reduce_mean",
    "barrier",
    "get_rank",
    "get_world_size",
    "init_distributed",
    "is_main_process",
    "launched_by_torchrun",
    "lr_multiplier",
    "shutdown_distributed",
    "train",
    "unwrap_model",
    "wrap_model",
]
