"""Real meshes from CGAL's data set, as shipped by Debian's libcgal-demo package.

The package installs `data.tar.gz` (in libcgal-dev's documentation folder; 139 OFF files: bunny,
armadillo, elephant, cow, dragon, ... and many small test polyhedra). It is located with
`dpkg -L libcgal-demo`, read in memory (nothing is extracted to disk), screened (see `screening`:
point sets, flat patches and duplicates are dropped with a logged reason) and returned sorted by name.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from vcore.errors import UserError
from vgeom.data.mesh import Mesh
from vgeom.data.screening import drop_reason, signature
from vgeom.io.off import parse_off

logger = logging.getLogger(__name__)

PACKAGE = "libcgal-demo"
ARCHIVE_NAME = "data.tar.gz"
CATEGORY = "cgal"


@dataclass(frozen=True)
class RealMeshes:
    """Meshes kept (name -> Mesh, sorted by name) and those dropped (name -> reason)."""

    meshes: dict[str, Mesh]
    dropped: dict[str, str] = field(default_factory=dict)


def find_archive() -> Path:
    """The path of CGAL's data.tar.gz from `dpkg -L libcgal-demo`; UserError if it is not installed."""
    hint = f"install Debian's {PACKAGE} (apt-get install {PACKAGE}) or build without it (--no-cgal)"
    if shutil.which("dpkg") is None:
        raise UserError(f"{PACKAGE}: cannot look it up (no dpkg on this system); {hint}")
    listing = subprocess.run(["dpkg", "-L", PACKAGE], capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise UserError(f"{PACKAGE}: package not installed; {hint}")
    for line in listing.stdout.splitlines():
        path = Path(line.strip())
        if path.name == ARCHIVE_NAME and path.is_file():
            return path
    raise UserError(f"{PACKAGE}: installed but no {ARCHIVE_NAME} found in its file list; {hint}")


def _short_names(members: list[str]) -> dict[str, str]:
    """Member path -> file stem, or the path without the `data/` prefix where stems collide."""
    stems = [PurePosixPath(m).stem for m in members]
    names = {}
    for member, stem in zip(members, stems, strict=True):
        if stems.count(stem) > 1:
            stem = str(PurePosixPath(member).with_suffix("")).removeprefix("data/").replace("/", "-")
        names[member] = stem
    return names


def load_cgal_meshes(archive: str | os.PathLike[str] | None = None) -> RealMeshes:
    """Read, screen and deduplicate every OFF mesh of the archive (default: `find_archive()`)."""
    path = Path(archive) if archive is not None else find_archive()
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = sorted(
                (m for m in tar.getmembers() if m.isfile() and m.name.lower().endswith(".off")),
                key=lambda m: m.name,
            )
            names = _short_names([m.name for m in members])
            texts = {}
            for member in members:
                handle = tar.extractfile(member)
                if handle is not None:
                    texts[names[member.name]] = handle.read().decode("utf-8", errors="replace")
    except (OSError, tarfile.TarError, EOFError) as err:
        raise UserError(f"{path}: unreadable archive ({err})") from err
    kept: dict[str, Mesh] = {}
    dropped: dict[str, str] = {}
    seen: dict[tuple[float, ...], str] = {}
    for name in sorted(texts):
        try:
            mesh = parse_off(texts[name], f"{path}:{name}")
        except UserError as err:
            dropped[name] = f"unreadable OFF ({err})"
            continue
        reason = drop_reason(mesh)
        if reason is None:
            key = signature(mesh)
            if key in seen:
                reason = f"duplicate of {seen[key]}"
            else:
                seen[key] = name
        if reason is None:
            kept[name] = mesh
        else:
            dropped[name] = reason
    for name, reason in dropped.items():
        logger.debug("cgal: dropped %s: %s", name, reason)
    logger.info(
        "cgal: kept %d of %d meshes from %s (dropped reasons in the manifest)", len(kept), len(texts), path
    )
    return RealMeshes(kept, dropped)
