"""A seeded, sharded sample order whose position is two integers, so training can resume mid-epoch.

Epoch e visits the dataset in the permutation drawn from a generator seeded by (seed, e). With W
processes the permutation is cut to a multiple of W and process r takes every W-th index from r on
(as torch's DistributedSampler does). With per-process batch B, step k of an epoch then uses
positions [k*B*W, (k+1)*B*W) of the permutation across all processes: exactly the samples that one
process with batch B*W would use, which is what makes a W-process run equal a one-process run.

The position within an epoch is `start` (samples already consumed by this process), set together
with the epoch by `set_epoch(epoch, start)`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Sampler


def epoch_seed(seed: int, epoch: int) -> int:
    """A 63-bit seed mixed from (seed, epoch) by NumPy's SeedSequence, so nearby pairs do not collide."""
    return int(
        np.random.SeedSequence([seed, epoch]).generate_state(2, dtype=np.uint32).view(np.uint64)[0] >> 1
    )


class ResumableSampler(Sampler[int]):
    """Indices of one process's shard of the epoch's permutation, starting at `start`."""

    def __init__(self, size: int, *, seed: int = 0, shuffle: bool = True, rank: int = 0, world_size: int = 1):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in [0, {world_size})")
        self.size, self.seed, self.shuffle = size, seed, shuffle
        self.rank, self.world_size = rank, world_size
        self.per_rank = size // world_size  # the tail that does not divide evenly is left out this epoch
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Visit epoch `epoch`'s order from this process's `start`-th sample on."""
        if not 0 <= start <= self.per_rank:
            raise ValueError(f"start {start} is not in [0, {self.per_rank}]")
        self.epoch, self.start = epoch, start

    def epoch_indices(self, epoch: int) -> list[int]:
        """This process's whole shard of epoch `epoch`."""
        if self.shuffle:
            generator = torch.Generator().manual_seed(epoch_seed(self.seed, epoch))
            order = torch.randperm(self.size, generator=generator)
        else:
            order = torch.arange(self.size)
        return order[: self.per_rank * self.world_size][self.rank :: self.world_size].tolist()

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices(self.epoch)[self.start :])

    def __len__(self) -> int:
        return self.per_rank - self.start
