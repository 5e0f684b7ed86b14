"""vodqa: FAISS-backed Variational Open-Domain QA."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vbound-retrieval")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
