"""Shared by the EDM commands: loading a checkpoint (the shipped default when none is given)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vmol.model.edm import EDM


def load_edm(checkpoint: Path | None, device: str = "cpu") -> EDM:
    """The EDM model of `checkpoint`, by default the shipped one (UserError when this installation has none).

    `checkpoint` is an exported model or a training run's ``checkpoint/`` folder; in the latter the weight
    average (``ema.safetensors``), when there is one, replaces the last iterate.
    """
    from vcore.io.checkpoint import load_weights
    from vcore.train import EMA_NAME
    from vmol.model.edm import EDM
    from vmol.pretrained import default_checkpoint

    if checkpoint is None:
        checkpoint = default_checkpoint()
    model = EDM.from_pretrained(checkpoint, map_location=device)
    if (checkpoint / EMA_NAME).is_file():
        load_weights(model, checkpoint / EMA_NAME, map_location=device)
    return model
