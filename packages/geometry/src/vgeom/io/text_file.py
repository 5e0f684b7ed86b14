"""Reading a mesh file's text, with a missing or undecodable file a `UserError` naming it."""

from __future__ import annotations

import os

from vcore.errors import UserError


def read_mesh_text(path: str | os.PathLike[str], kind: str) -> str:
    """The UTF-8 text of `path`, a `kind` file ("OFF", "OBJ"); UserError if it is missing or not text."""
    try:
        with open(path, encoding="utf-8", errors="strict") as handle:
            return handle.read()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: unreadable {kind} file ({err.__class__.__name__})") from None
