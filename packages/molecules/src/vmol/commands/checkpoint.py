"""Shared by the EDM commands: loading a checkpoint (the shipped default when none is given) and UserError ->
exit 2."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec

from vcore.cli_support import fail
from vcore.errors import UserError

if TYPE_CHECKING:
    from vmol.model.edm import EDM

P = ParamSpec("P")


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


def exits_2_on_user_error(command: Callable[P, None]) -> Callable[P, None]:
    """Wrap a typer command so that a `UserError` prints one `error:` line and exits with code 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except UserError as err:
            raise fail(str(err)) from None

    return wrapper
