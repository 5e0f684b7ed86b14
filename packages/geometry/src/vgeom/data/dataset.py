"""The on-disk dataset format "vgeom-shapes/1": a manifest and one NPZ per split.

    DIR/manifest.json   {"format": "vgeom-shapes/1", "points": N, "seed": S,
                         "normalization": {"mode": "shape_unit", "description": ...},
                         "categories": {name: count}, "splits": {"train": n, "val": n, "test": n},
                         "sources": [...]}
    DIR/{train,val,test}.npz   points float32 [S, N, 3] (normalised), category str [S], shape_id str [S],
                               shift float32 [S, 3], scale float32 [S];  original = points * scale + shift

NPZ files are written without pickles and with fixed zip timestamps, so the same content gives the same
bytes (builds are reproducible file for file).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vcore.errors import UserError
from vcore.io.atomic import atomic_file, atomic_write_json

FORMAT = "vgeom-shapes/1"
SPLITS = ("train", "val", "test")
MANIFEST_NAME = "manifest.json"
_FIELDS = ("points", "category", "shape_id", "shift", "scale")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ShapeSplit:
    """One split: normalised clouds and what is needed to undo the normalisation."""

    points: np.ndarray  # float32 [S, N, 3]
    category: np.ndarray  # str [S]
    shape_id: np.ndarray  # str [S]
    shift: np.ndarray  # float32 [S, 3]
    scale: np.ndarray  # float32 [S]

    def __len__(self) -> int:
        return int(self.points.shape[0])

    def original(self) -> np.ndarray:
        """Clouds in their source coordinates: points * scale + shift, float32 [S, N, 3]."""
        return self.points * self.scale[:, None, None] + self.shift[:, None, :]

    def select(self, mask: np.ndarray) -> ShapeSplit:
        """The shapes where the boolean `mask` [S] (or an index array) selects."""
        return ShapeSplit(
            self.points[mask], self.category[mask], self.shape_id[mask], self.shift[mask], self.scale[mask]
        )


def _check_dir(directory: str | os.PathLike[str]) -> Path:
    path = Path(directory)
    if not path.is_dir():
        raise UserError(f"{path}: no such dataset folder")
    return path


def read_manifest(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check DIR/manifest.json; UserError if it is missing, unreadable or of another format."""
    path = _check_dir(directory) / MANIFEST_NAME
    if not path.is_file():
        raise UserError(f"{path}: missing (not a vgeom dataset; build one with `vgeom data shapes`)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{path}: unreadable manifest ({err})") from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise UserError(f"{path}: format {found!r} is not {FORMAT!r}")
    return manifest


def load_split(directory: str | os.PathLike[str], split: str, category: str | None = None) -> ShapeSplit:
    """Load DIR/<split>.npz, optionally only one category; UserError on a missing or malformed file."""
    if split not in SPLITS:
        raise UserError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    manifest = read_manifest(directory)
    path = Path(directory) / f"{split}.npz"
    if not path.is_file():
        raise UserError(f"{path}: missing split file")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [name for name in _FIELDS if name not in data.files]
            if missing:
                raise UserError(f"{path}: missing arrays {', '.join(missing)}")
            arrays = {name: data[name] for name in _FIELDS}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise UserError(f"{path}: unreadable split file ({err})") from err
    result = ShapeSplit(
        points=arrays["points"].astype(np.float32, copy=False),
        category=arrays["category"].astype(str),
        shape_id=arrays["shape_id"].astype(str),
        shift=arrays["shift"].astype(np.float32, copy=False),
        scale=arrays["scale"].astype(np.float32, copy=False),
    )
    s = len(result.category)
    n = int(manifest.get("points", -1))
    if result.points.shape != (s, n, 3) or result.shift.shape != (s, 3) or result.scale.shape != (s,):
        raise UserError(f"{path}: array shapes do not match the manifest ({n} points per shape)")
    if category is not None:
        if category not in manifest.get("categories", {}):
            known = ", ".join(sorted(manifest.get("categories", {})))
            raise UserError(f"{path.parent}: unknown category {category!r}; known: {known}")
        result = result.select(result.category == category)
    return result


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An uncompressed NPZ with fixed member timestamps (np.savez stamps the current time)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


def write_split(path: str | os.PathLike[str], split: ShapeSplit) -> Path:
    """Write one split as an NPZ atomically with reproducible bytes; returns the path."""
    arrays = {
        "points": np.asarray(split.points, dtype=np.float32),
        "category": np.asarray(split.category, dtype=str),
        "shape_id": np.asarray(split.shape_id, dtype=str),
        "shift": np.asarray(split.shift, dtype=np.float32),
        "scale": np.asarray(split.scale, dtype=np.float32),
    }
    with atomic_file(path) as tmp:
        tmp.write_bytes(_npz_bytes(arrays))
    return Path(path)


def write_manifest(directory: str | os.PathLike[str], manifest: dict[str, Any]) -> Path:
    """Write DIR/manifest.json (sorted keys) atomically, adding the format tag."""
    return atomic_write_json(Path(directory) / MANIFEST_NAME, {**manifest, "format": FORMAT})
