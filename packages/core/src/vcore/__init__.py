"""vcore: variational bounds, noise schedules, diffusion samplers and a resumable training loop.

The shared core of vbound. Pure-tensor functions first; thin classes only where state is real.
Submodules are imported on use (`vcore.bounds`, `vcore.samplers`, ...), so CLIs start without torch.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from vcore.errors import UserError

if TYPE_CHECKING:
    from vcore.seed import seed_everything

try:
    __version__ = version("vbound-core")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = ["UserError", "__version__", "seed_everything"]


def __getattr__(name: str) -> Any:
    if name == "seed_everything":
        from vcore.seed import seed_everything

        return seed_everything
    raise AttributeError(f"module 'vcore' has no attribute {name!r}")
