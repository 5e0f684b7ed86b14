"""Reading JSONL input files line by line, with every problem a `UserError` naming the file (and line)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vcore.errors import UserError


def jsonl_rows(path: Path, what: str) -> Iterator[tuple[int, str, Any]]:
    """(line number, "path:line", decoded JSON) for each non-blank line of `path`, a `what` file ("corpus", ...)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise UserError(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, expected a JSONL {what} file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot read the {what} file ({err})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            yield number, where, json.loads(line)
        except json.JSONDecodeError as err:
            raise UserError(f"{where}: invalid JSON ({err.msg})") from None
