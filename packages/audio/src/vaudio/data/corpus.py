"""Helpers shared by the corpus builders: the output folder, the split rule, a process pool with a progress
bar, and per-split totals for the manifest."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, TypeVar

from vcore.errors import UserError

T = TypeVar("T")
R = TypeVar("R")

SPLITS = ("train", "val", "test")
SPLIT_PERIOD, VAL_SLOT, TEST_SLOT = 20, 3, 13


def split_for(k: int) -> str:
    """Split of the k-th group (melody, sentence; 0-based): k % 20 == 3 -> val, 13 -> test, else train."""
    slot = k % SPLIT_PERIOD
    return "val" if slot == VAL_SLOT else "test" if slot == TEST_SLOT else "train"


def prepare_out_dir(out: Path) -> Path:
    """Create `out` (and parents) and check that files can be written in it; UserError otherwise."""
    out = out.expanduser()
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise UserError(f"{out}: cannot write to the output folder ({err.strerror or err})") from None
    return out


def map_with_progress(
    fn: Callable[[T], R], tasks: Sequence[T], jobs: int = 1, desc: str = "", quiet: bool = False
) -> list[R]:
    """[fn(t) for t in tasks] in `jobs` processes (in this one when jobs == 1), with a tqdm progress bar."""
    from tqdm import tqdm

    results: list[R | None] = [None] * len(tasks)
    with tqdm(total=len(tasks), desc=desc, unit="item", disable=quiet, dynamic_ncols=True) as bar:
        if jobs <= 1:
            for k, task in enumerate(tasks):
                results[k] = fn(task)
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = {pool.submit(fn, task): k for k, task in enumerate(tasks)}
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    bar.update()
    return [r for r in results if r is not None]


def split_totals(
    items: Sequence[dict[str, Any]], group_key: str, group_name: str
) -> dict[str, dict[str, Any]]:
    """Per split: item count, number of distinct `group_key` values (as `group_name`) and hours of audio."""
    out = {}
    for split in SPLITS:
        chosen = [it for it in items if it["split"] == split]
        out[split] = {
            "items": len(chosen),
            group_name: len({it[group_key] for it in chosen}),
            "hours": round(sum(it["duration"] for it in chosen) / 3600.0, 4),
        }
    return out


def manifest_items(folder: Path) -> list[dict[str, Any]] | None:
    """The `items` of a corpus folder's manifest.json (each with at least `wav` and `split`), or None when the
    folder has no manifest; UserError naming the file when it is not a valid one."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"{manifest}: not valid JSON ({err})") from None
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise UserError(f"{manifest}: expected a list of items")
    for k, item in enumerate(items):
        if not isinstance(item, dict) or "wav" not in item or "split" not in item:
            raise UserError(f"{manifest}: item {k} needs 'wav' and 'split'")
    return items
