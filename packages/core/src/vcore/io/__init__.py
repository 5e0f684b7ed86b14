"""Checkpoints (`config.json` + `model.safetensors` + `training_state.pt`) and atomic file writes."""

from vcore.io.atomic import (
    atomic_dir,
    atomic_file,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    recover_dir,
)
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
