"""vcore: variational bounds, noise schedules, diffusion samplers and a resumable training loop.

The shared core of vbound. Pure-tensor functions first; thin classes only where state is real.
"""

from importlib.metadata import PackageNotFoundError, version

from vcore.errors import UserError
from vcore.seed import seed_everything

try:
    __version__ = version("vbound-core")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = ["UserError", "__version__", "seed_everything"]
