"""Write files and folders so that readers see either the old version or the new one, never a mix.

A file is written to a temporary sibling (same folder, hence same file system), flushed to disk and
moved over the target with `os.replace`, which POSIX makes atomic. A folder is built under a
temporary sibling name `<name>.tmp-XXXX` and swapped into place when the `with` block succeeds:

    with atomic_dir(out / "checkpoint") as tmp:
        (tmp / "config.json").write_text(...)
        ...                                   # any exception here leaves `out / "checkpoint"` untouched

POSIX cannot `rename` a folder over a non-empty folder, so replacing one takes two renames: the old
folder becomes `<name>.old-XXXX`, then the new one takes its name, then the old one is deleted. A
crash between the two renames leaves the old folder complete under its `.old-` name;
`recover_dir(path)` moves it back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# mkstemp/mkdtemp create private (0600/0700) entries; give the final ones the usual umask-based modes.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def _fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable (best effort: not every platform opens folders)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Flush every file under `root` to disk before the folder is renamed into place."""
    for file in root.rglob("*"):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to `path` to write; on success it is flushed and moved over `path`.

    On an exception the temporary file is removed and `path` keeps its previous content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_UMASK)
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` through a temporary sibling and `os.replace`; return the path."""
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically (see `atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: str | os.PathLike[str], obj: Any, indent: int | None = 2) -> Path:
    """Write `obj` as JSON (sorted keys, trailing newline) to `path` atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=indent, sort_keys=True) + "\n")


def _backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.old-*"))


def recover_dir(path: str | os.PathLike[str]) -> bool:
    """If `path` is missing but a crash left its previous version as `<name>.old-XXXX`, move it back.

    Returns True when a folder was restored. With several backups the newest one is taken.
    """
    path = Path(path)
    if path.exists():
        return False
    backups = [b for b in _backups(path) if b.is_dir() and any(b.iterdir())]
    if not backups:
        return False
    newest = max(backups, key=lambda b: b.stat().st_mtime)
    os.replace(newest, path)
    logger.warning("restored %s from %s left by an interrupted save", path, newest.name)
    return True


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary folder next to `path`; on success it replaces `path`, on error it is removed.

    An existing `path` (a folder) is replaced only after the new content is complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{path} exists and is not a folder")
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f"{path.name}.tmp-"))
    os.chmod(tmp, 0o777 & ~_UMASK)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old: Path | None = None
    try:
        _fsync_tree(tmp)
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f"{path.name}.old-"))
            os.replace(path, old)  # `old` is an empty folder, which rename may overwrite
        os.replace(tmp, path)
    except BaseException:
        if old is not None and not path.exists():
            os.replace(old, path)
            old = None
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if old is not None and path.exists():
            shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(path.parent)
