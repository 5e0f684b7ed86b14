"""The default EDM checkpoint shipped with the package (`pretrained/default/`), when one ships."""

from __future__ import annotations

from pathlib import Path

from vcore.errors import UserError

DEFAULT_DIR = Path(__file__).resolve().parent / "default"


def default_checkpoint() -> Path:
    """The shipped default checkpoint folder; UserError if this installation has none."""
    if not (DEFAULT_DIR / "config.json").is_file():
        raise UserError("this installation ships no default vmol checkpoint: pass --checkpoint CKPT")
    return DEFAULT_DIR
