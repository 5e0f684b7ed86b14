"""vgeom: diffusion point-cloud generation and SE(3)-diffusion registration."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vbound-geometry")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
