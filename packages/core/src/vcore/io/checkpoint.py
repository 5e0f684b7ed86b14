"""Checkpoints: a folder with `config.json` + `model.safetensors` (+ `training_state.pt` to resume).

    config.json         {"model_type": "mlp", "vcore_version": "0.1.0", "config": {...dataclass fields...}}
    model.safetensors   the module's state dict (tensors that share storage are stored once)
    training_state.pt   optimizer, LR scheduler, step, per-process RNG states, extra (torch.save)

A model opts in with the `Pretrained` mixin: it keeps its hyper-parameters in a dataclass `self.config`,
is built as `cls(config)`, and names `config_class` and `model_type`:

    @dataclass
    class MLPConfig:
        width: int = 64

    class MLP(Pretrained, nn.Module):
        config_class = MLPConfig
        model_type = "mlp"
        def __init__(self, config: MLPConfig): ...

    model.save_pretrained("out/mlp")            # atomic: readers see the old folder or the new one
    model = MLP.from_pretrained("out/mlp")      # UserError naming the path if anything does not fit

`training_state.pt` holds only tensors and plain Python values, so `load_state` reads it with
`torch.load(weights_only=True)`, which executes no pickled code. NumPy's RNG key is stored as a
tensor for that reason; `extra` must stay within the same types (numbers, strings, lists, dicts,
tuples, tensors).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pickle
import random
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_model
from torch import nn

from vcore.errors import UserError
from vcore.io.atomic import atomic_dir, atomic_file

logger = logging.getLogger(__name__)

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
STATE_NAME = "training_state.pt"
STATE_FORMAT = 1
_MAX_LISTED = 5

P = TypeVar("P", bound="Pretrained")
RngState = dict[str, Any]


def _listed(names: typing.Iterable[str]) -> str:
    names = sorted(names)
    more = f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else ""
    return ", ".join(names[:_MAX_LISTED]) + more


# --- config.json --------------------------------------------------------------------------------------


def _coerce(hint: Any, value: Any) -> Any:
    """Undo JSON's flattening: nested dataclasses come back from dicts and tuples from lists."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arm in typing.get_args(hint):
            if dataclasses.is_dataclass(arm) and isinstance(value, dict):
                return _coerce(arm, value)
            if typing.get_origin(arm) is tuple and isinstance(value, list):
                return tuple(value)
        return value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, dict):
        hints = typing.get_type_hints(hint)
        return hint(**{k: _coerce(hints.get(k), v) for k, v in value.items()})
    if (origin is tuple or hint is tuple) and isinstance(value, list):
        return tuple(value)
    return value


def config_from_dict(config_class: type, data: dict[str, Any], source: str | os.PathLike[str]) -> Any:
    """Build `config_class(**data)`; unknown or missing fields raise a `UserError` naming `source`."""
    fields = {f.name: f for f in dataclasses.fields(config_class) if f.init}
    unknown = set(data) - set(fields)
    if unknown:
        raise UserError(f"{source}: unknown {config_class.__name__} field(s) {_listed(unknown)}")
    missing = [
        name
        for name, f in fields.items()
        if name not in data and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise UserError(f"{source}: missing {config_class.__name__} field(s) {_listed(missing)}")
    hints = typing.get_type_hints(config_class)
    try:
        return config_class(**{k: _coerce(hints.get(k), v) for k, v in data.items()})
    except (TypeError, ValueError) as err:
        raise UserError(f"{source}: invalid {config_class.__name__}: {err}") from err


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint folder's `config.json` as `{"model_type", "vcore_version", "config"}`."""
    file = Path(path) / CONFIG_NAME
    if not Path(path).is_dir():
        raise UserError(f"{path}: no such checkpoint folder")
    if not file.is_file():
        raise UserError(f"{path}: not a checkpoint folder (missing {CONFIG_NAME})")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"{file}: not valid JSON ({err})") from err
    if not isinstance(data, dict) or "model_type" not in data or not isinstance(data.get("config"), dict):
        raise UserError(f"{file}: expected an object with 'model_type' and 'config'")
    return data


# --- model.safetensors --------------------------------------------------------------------------------


def save_weights(module: nn.Module, file: str | os.PathLike[str]) -> Path:
    """Write `module.state_dict()` to a safetensors file (atomically); tied tensors are stored once."""
    with atomic_file(file) as tmp:
        save_model(module, str(tmp), metadata={"format": "pt"})
    return Path(file)


def read_weights(
    file: str | os.PathLike[str], map_location: str | torch.device = "cpu"
) -> dict[str, torch.Tensor]:
    """Read a safetensors file written by `save_weights`, restoring the names of tied duplicates."""
    file = Path(file)
    if not file.is_file():
        raise UserError(f"{file.parent}: checkpoint has no {file.name}")
    try:
        tensors = load_file(str(file), device=str(map_location))
        with safe_open(str(file), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except Exception as err:  # safetensors raises its own error types for truncated or foreign files
        raise UserError(f"{file}: not a readable safetensors file ({err})") from err
    for alias, kept in metadata.items():  # save_model records each dropped duplicate as {alias: kept}
        if alias not in tensors and kept in tensors:
            tensors[alias] = tensors[kept]
    return tensors


def load_weights(
    module: nn.Module,
    file: str | os.PathLike[str],
    map_location: str | torch.device = "cpu",
    tensors: dict[str, torch.Tensor] | None = None,
) -> None:
    """Load a safetensors file (or its already `read_weights` content) into `module`, checking it first.

    Missing file, unreadable file, missing or unexpected tensor names and shape mismatches raise a
    `UserError` naming the file. Values are copied into the module's own tensors (so tied weights stay
    tied and the module keeps its dtype and device).
    """
    if tensors is None:
        tensors = read_weights(file, map_location)
    expected = module.state_dict()
    missing, unexpected = set(expected) - set(tensors), set(tensors) - set(expected)
    if missing or unexpected:
        parts = [f"missing {_listed(missing)}"] if missing else []
        parts += [f"unexpected {_listed(unexpected)}"] if unexpected else []
        raise UserError(f"{file}: tensors do not match the model ({'; '.join(parts)})")
    for name, tensor in tensors.items():
        if tensor.shape != expected[name].shape:
            raise UserError(
                f"{file}: tensor {name} has shape {tuple(tensor.shape)}, "
                f"the model expects {tuple(expected[name].shape)}"
            )
    module.load_state_dict(tensors, strict=True)


# --- the mixin ----------------------------------------------------------------------------------------


class Pretrained:
    """Mixin for `nn.Module` subclasses built as `cls(config)` from a dataclass kept in `self.config`."""

    config_class: ClassVar[type]
    model_type: ClassVar[str]
    config: Any

    @classmethod
    def _check_declared(cls) -> None:
        if not isinstance(getattr(cls, "model_type", None), str):
            raise TypeError(f"{cls.__name__} must set the class attribute model_type (a string)")
        if not dataclasses.is_dataclass(getattr(cls, "config_class", None)):
            raise TypeError(f"{cls.__name__} must set the class attribute config_class (a dataclass)")

    def config_json(self) -> dict[str, Any]:
        """The content of `config.json` for this model."""
        import vcore

        self._check_declared()
        return {
            "model_type": self.model_type,
            "vcore_version": vcore.__version__,
            "config": dataclasses.asdict(self.config),
        }

    def write_pretrained(self, folder: str | os.PathLike[str]) -> None:
        """Write `config.json` and `model.safetensors` into an existing folder (not atomic as a whole)."""
        folder = Path(folder)
        text = json.dumps(self.config_json(), indent=2, sort_keys=True) + "\n"
        (folder / CONFIG_NAME).write_text(text, encoding="utf-8")
        save_weights(cast(nn.Module, self), folder / WEIGHTS_NAME)

    def save_pretrained(self, path: str | os.PathLike[str]) -> Path:
        """Save to the folder `path`, replacing an existing one only once the new one is complete."""
        with atomic_dir(path) as tmp:
            self.write_pretrained(tmp)
        logger.info("saved %s to %s", self.model_type, path)
        return Path(path)

    @classmethod
    def from_pretrained(
        cls: type[P],
        path: str | os.PathLike[str],
        map_location: str | torch.device = "cpu",
        dtype: torch.dtype | None = None,
    ) -> P:
        """Build the model from `config.json`, load `model.safetensors`, return it in eval mode.

        The floating-point dtype is the checkpoint's (when all its float tensors share one) unless
        `dtype` is given. Any mismatch raises a `UserError` naming `path`.
        """
        cls._check_declared()
        data = read_config(path)
        if data["model_type"] != cls.model_type:
            raise UserError(
                f"{path}: checkpoint holds a '{data['model_type']}' model, not '{cls.model_type}' "
                f"({cls.__name__})"
            )
        config = config_from_dict(cls.config_class, data["config"], Path(path) / CONFIG_NAME)
        model = cast(nn.Module, cast(Any, cls)(config))
        weights = Path(path) / WEIGHTS_NAME
        tensors = read_weights(weights, map_location)
        if dtype is None:
            float_dtypes = {t.dtype for t in tensors.values() if t.is_floating_point()}
            dtype = float_dtypes.pop() if len(float_dtypes) == 1 else None
        if dtype is not None:
            model.to(dtype)
        model.to(map_location)
        load_weights(model, weights, tensors=tensors)
        return cast(P, model.eval())


# --- training_state.pt --------------------------------------------------------------------------------


def capture_rng_state() -> RngState:
    """The states of Python's, NumPy's and torch's global generators (and CUDA's when in use)."""
    np_state = np.random.get_state(legacy=False)  # noqa: NPY002 (the global generator is what we save)
    assert isinstance(np_state, dict)
    return {
        "python": random.getstate(),
        "numpy": {
            "bit_generator": np_state["bit_generator"],
            "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
    }


def restore_rng_state(state: RngState) -> None:
    """Put back states taken by `capture_rng_state`; its tensors may have been loaded onto any device (a
    checkpoint resumed with ``map_location="cuda"``): the generators take host tensors."""
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
    npy = state["numpy"]
    np.random.set_state(  # noqa: NPY002
        {
            "bit_generator": npy["bit_generator"],
            "state": {"key": npy["key"].cpu().numpy().astype(np.uint32), "pos": npy["pos"]},
            "has_gauss": npy["has_gauss"],
            "gauss": npy["gauss"],
        }
    )
    torch.set_rng_state(state["torch"].cpu())
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


@dataclass
class TrainingState:
    """What `load_state` returns besides the optimizer and scheduler it fills in."""

    step: int
    rng: list[RngState]
    extra: dict[str, Any]


def save_state(
    path: str | os.PathLike[str],
    *,
    optimizer: torch.optim.Optimizer,
    step: int,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    rng: list[RngState] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write `training_state.pt` atomically.

    The model's weights are not in it: they live next to it in `model.safetensors`. `rng` holds one
    `capture_rng_state()` per process (index = rank); by default this process's only.
    """
    state = {
        "format": STATE_FORMAT,
        "step": int(step),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": rng if rng is not None else [capture_rng_state()],
        "extra": extra or {},
    }
    with atomic_file(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_state(
    path: str | os.PathLike[str],
    *,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    map_location: str | torch.device = "cpu",
) -> TrainingState:
    """Read `training_state.pt` with `weights_only=True` and load it into `optimizer` and `scheduler`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path.parent}: checkpoint has no {path.name}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"{path}: not a readable training state ({first_line})") from err
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise UserError(f"{path}: not a vcore training state (format {STATE_FORMAT} expected)")
    try:
        if optimizer is not None:
            optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state["scheduler"] is not None:
            scheduler.load_state_dict(state["scheduler"])
    except (ValueError, KeyError) as err:
        raise UserError(f"{path}: optimizer or scheduler state does not fit ({err})") from err
    return TrainingState(step=int(state["step"]), rng=list(state["rng"]), extra=dict(state["extra"]))


def shipped_checkpoint(folder: Path, package: str) -> Path:
    """A package's shipped default checkpoint `folder`; UserError naming `package` when this installation
    has none (no config.json there)."""
    if not (folder / "config.json").is_file():
        raise UserError(f"this installation ships no default {package} checkpoint: pass --checkpoint CKPT")
    return folder
