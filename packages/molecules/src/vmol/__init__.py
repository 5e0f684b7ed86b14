"""vmol: 3D molecule diffusion and CDVAE crystal generation."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vbound-molecules")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
