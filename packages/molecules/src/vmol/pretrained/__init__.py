"""The default checkpoint shipped with the package (`pretrained/default/`), when one ships."""

from __future__ import annotations

from pathlib import Path

from vcore.io.checkpoint import shipped_checkpoint

DEFAULT_DIR = Path(__file__).resolve().parent / "default"


def default_checkpoint() -> Path:
    """The shipped default checkpoint folder; UserError if this installation has none."""
    return shipped_checkpoint(DEFAULT_DIR, "vmol")
