"""QM9 from qm9pack (`vmol.data.qm9`) and EDM's train/val/test split (`vmol.data.split`)."""

from vmol.data.qm9 import QM9_SIZE, cache_dir, load_qm9, read_qm9pack
from vmol.data.split import Split, split_qm9, subset

__all__ = ["QM9_SIZE", "Split", "cache_dir", "load_qm9", "read_qm9pack", "split_qm9", "subset"]
