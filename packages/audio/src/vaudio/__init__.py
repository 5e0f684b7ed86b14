"""vaudio: DiffWave vocoder and DiffSinger singing synthesis trained through variational bounds."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vbound-audio")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
