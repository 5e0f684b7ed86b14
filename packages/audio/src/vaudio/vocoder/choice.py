"""Which vocoder turns a mel into audio: a DiffWave checkpoint or Griffin-Lim, decided by measured scores.

- `--checkpoint CKPT` (an exported model or a run's ``checkpoint/`` folder, whose weight average is used)
  always means DiffWave.
- Otherwise the shipped default vocoder (`vaudio/pretrained/vocoder/`) is used only if its held-out scores
  (``heldout.json``, written when it was trained: mean PESQ-wb and STOI of DiffWave with 6 steps and of
  Griffin-Lim from the same mels) beat Griffin-Lim on both. When no default ships, or it does not beat
  Griffin-Lim, the reason is logged and Griffin-Lim (32 iterations) is used.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vaudio.pretrained import HELDOUT_NAME, VOCODER_DIR
from vaudio.vocoder.diffwave import DiffWave
from vcore.errors import UserError

logger = logging.getLogger(__name__)

VOCODER_METHODS = ("auto", "diffwave", "griffin-lim")


def load_diffwave(checkpoint: Path, device: str = "cpu") -> DiffWave:
    """The DiffWave model of `checkpoint` (UserError naming it if it holds another model or is broken)."""
    from vcore.io.checkpoint import load_weights
    from vcore.train import EMA_NAME

    model = DiffWave.from_pretrained(checkpoint, map_location=device)
    if (checkpoint / EMA_NAME).is_file():
        load_weights(model, checkpoint / EMA_NAME, map_location=device)
    return model


def heldout_scores(folder: Path = VOCODER_DIR) -> dict[str, Any] | None:
    """The shipped vocoder's held-out comparison, or None when no default vocoder ships."""
    if not (folder / "config.json").is_file():
        return None
    path = folder / HELDOUT_NAME
    if not path.is_file():
        return None
    return dict(json.loads(path.read_text(encoding="utf-8")))


def beats_griffin_lim(scores: dict[str, Any]) -> bool:
    """Mean PESQ and mean STOI of DiffWave both above Griffin-Lim's."""
    dw, gl = scores["diffwave"], scores["griffin_lim"]
    return bool(dw["pesq"] > gl["pesq"] and dw["stoi"] > gl["stoi"])


@dataclass(frozen=True)
class VocoderChoice:
    """The vocoder to use: `method` "diffwave" (with `model`) or "griffin-lim", and why."""

    method: str
    model: DiffWave | None
    reason: str


def choose_vocoder(method: str, checkpoint: Path | None, folder: Path = VOCODER_DIR) -> VocoderChoice:
    """Resolve `--method auto|diffwave|griffin-lim` and `--checkpoint` (see the module docstring)."""
    if method not in VOCODER_METHODS:
        raise UserError(f"--method must be one of {', '.join(VOCODER_METHODS)}, got {method!r}")
    if method == "griffin-lim":
        if checkpoint is not None:
            raise UserError(
                "--checkpoint is a DiffWave checkpoint: it cannot be used with --method griffin-lim"
            )
        return VocoderChoice("griffin-lim", None, "asked for")
    if checkpoint is not None:
        return VocoderChoice("diffwave", load_diffwave(checkpoint), f"checkpoint {checkpoint}")
    scores = heldout_scores(folder)
    if scores is None:
        if method == "diffwave":
            raise UserError("this installation ships no default vaudio vocoder: pass --checkpoint CKPT")
        return VocoderChoice("griffin-lim", None, "no default DiffWave vocoder ships with this installation")
    if method == "diffwave" or beats_griffin_lim(scores):
        return VocoderChoice("diffwave", load_diffwave(folder), "the shipped default vocoder")
    dw, gl = scores["diffwave"], scores["griffin_lim"]
    return VocoderChoice(
        "griffin-lim",
        None,
        f"the shipped DiffWave does not beat Griffin-Lim on held-out audio (PESQ {dw['pesq']:.2f} vs "
        f"{gl['pesq']:.2f}, STOI {dw['stoi']:.3f} vs {gl['stoi']:.3f})",
    )
