"""Checkpoints (`config.json` + `model.safetensors` + `training_state.pt`) and atomic file writes.

The checkpoint names are imported on first use, so `vcore.io.atomic` stays usable without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vcore.io.atomic import (
    atomic_dir,
    atomic_file,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    recover_dir,
)

if TYPE_CHECKING:
    from vcore.io.checkpoint import (
        CONFIG_NAME,
        STATE_NAME,
        WEIGHTS_NAME,
        Pretrained,
        TrainingState,
        capture_rng_state,
        config_from_dict,
        load_state,
        load_weights,
        read_config,
        read_weights,
        restore_rng_state,
        save_state,
        save_weights,
    )

_CHECKPOINT_NAMES = frozenset(
    {
        "CONFIG_NAME",
        "STATE_NAME",
        "WEIGHTS_NAME",
        "Pretrained",
        "TrainingState",
        "capture_rng_state",
        "config_from_dict",
        "load_state",
        "load_weights",
        "read_config",
        "read_weights",
        "restore_rng_state",
        "save_state",
        "save_weights",
    }
)

__all__ = [
    "CONFIG_NAME",
    "STATE_NAME",
    "WEIGHTS_NAME",
    "Pretrained",
    "TrainingState",
    "atomic_dir",
    "atomic_file",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "capture_rng_state",
    "config_from_dict",
    "load_state",
    "load_weights",
    "read_config",
    "read_weights",
    "recover_dir",
    "restore_rng_state",
    "save_state",
    "save_weights",
]


def __getattr__(name: str) -> Any:
    if name in _CHECKPOINT_NAMES:
        from vcore.io import checkpoint

        return getattr(checkpoint, name)
    raise AttributeError(f"module 'vcore.io' has no attribute {name!r}")
