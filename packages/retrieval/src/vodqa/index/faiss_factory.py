"""FAISS indexes over unit embeddings: exact inner product (Flat), HNSW graphs and IVF inverted lists.

Indexes are made with `faiss.index_factory(d, spec, METRIC_INNER_PRODUCT)` (Johnson, Douze & Jégou 2019,
"Billion-scale similarity search with GPUs"); on unit vectors inner product is cosine similarity.

- "Flat": exact search, the reference the others are measured against.
- "HNSW32": a hierarchical navigable small-world graph with 32 links per node (Malkov & Yashunin 2018).
  Search keeps `efSearch` candidates; more means better recall and slower search.
- "IVF1024,Flat": k-means into 1024 lists, trained on the embeddings themselves; search visits the
  `nprobe` nearest lists.

The search parameters live in the index config ("faiss_params") and can be changed at search time.
The defaults were chosen with `apps/bench/retrieval.py` on all of WordNet (117,659 passages, 5,000 WordNet
questions, batch search on 2 threads of a loaded 2-core machine), recall@10 against exact Flat search:

    HNSW32 efSearch 24: 0.959 at 10,100 q/s;  32: 0.970 at 8,100 q/s;  48: 0.981 at 5,900 q/s
    IVF1024 nprobe 32:  0.924 at 3,000 q/s;   64: 0.960 at 1,500 q/s   (Flat: 290 q/s)

efSearch 32 keeps a margin above recall 0.95 at well over 5,000 q/s; nprobe 64 is the smallest >= 0.95.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import faiss
import numpy as np

from vcore.errors import UserError

logger = logging.getLogger(__name__)

DEFAULT_SPEC = "Flat"
DEFAULT_EF_SEARCH = 32
DEFAULT_NPROBE = 64
PARAM_NAMES = ("efSearch", "nprobe")


def _make(dim: int, spec: str) -> faiss.Index:
    try:
        return faiss.index_factory(dim, spec, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as err:
        reason = str(err).strip().rsplit(": ", 1)[-1] or "rejected"
        raise UserError(f"--faiss {spec!r}: not a faiss index factory string ({reason})") from None


def _ivf_lists(index: faiss.Index) -> int | None:
    ivf = faiss.try_extract_index_ivf(index)
    return None if ivf is None else int(ivf.nlist)


def _is_hnsw(index: faiss.Index) -> bool:
    return bool(re.search(r"HNSW", type(faiss.downcast_index(index)).__name__))


def default_params(spec: str, dim: int) -> dict[str, int]:
    """The search parameters stored for a new index of kind `spec`."""
    index = _make(dim, spec)
    params: dict[str, int] = {}
    if _is_hnsw(index):
        params["efSearch"] = DEFAULT_EF_SEARCH
    if _ivf_lists(index) is not None:
        params["nprobe"] = DEFAULT_NPROBE
    return params


def check_spec(spec: str, dim: int, num_vectors: int) -> None:
    """UserError for a spec faiss does not know, or an IVF with more lists than there are vectors."""
    nlist = _ivf_lists(_make(dim, spec))
    if nlist is not None and nlist > num_vectors:
        raise UserError(
            f"--faiss {spec!r}: {nlist} inverted lists need at least {nlist} passages to train, "
            f"the corpus has {num_vectors}; use fewer lists (e.g. IVF{max(1, num_vectors // 40)},Flat) or Flat"
        )


def set_params(index: faiss.Index, params: dict[str, Any], kind: str | None = None) -> None:
    """Set search parameters (efSearch, nprobe) on `index` (a `kind` index, for messages); UserError for
    one the index does not have."""
    space = faiss.GpuParameterSpace() if type(index).__name__.startswith("Gpu") else faiss.ParameterSpace()
    for name, value in params.items():
        if name not in PARAM_NAMES:
            raise UserError(f"unknown faiss search parameter {name!r} (known: {', '.join(PARAM_NAMES)})")
        if int(value) < 1:
            raise UserError(f"{name} must be at least 1, got {value}")
        try:
            space.set_index_parameter(index, name, int(value))
        except RuntimeError:
            raise UserError(f"{name}: a {kind or type(index).__name__} index has no such parameter") from None


def build_faiss(vectors: np.ndarray, spec: str, params: dict[str, Any]) -> tuple[faiss.Index, float, float]:
    """A trained, filled index over `vectors` [N, d] (float32), plus train and add seconds."""
    import time

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    check_spec(spec, vectors.shape[1], len(vectors))
    index = _make(vectors.shape[1], spec)
    start = time.perf_counter()
    if not index.is_trained:
        index.train(vectors)
    trained = time.perf_counter()
    index.add(vectors)
    added = time.perf_counter()
    set_params(index, params, spec)
    logger.info(
        "faiss %s: trained in %.2f s, added %d vectors in %.2f s",
        spec,
        trained - start,
        len(vectors),
        added - trained,
    )
    return index, trained - start, added - trained


def gpu_available() -> bool:
    """Whether this faiss was built with GPU support and sees a GPU."""
    return hasattr(faiss, "StandardGpuResources") and int(faiss.get_num_gpus()) > 0


def to_device(index: faiss.Index, device: str, params: dict[str, Any]) -> faiss.Index:
    """`index` itself on "cpu"; a GPU copy on "cuda"/"cuda:N" (UserError without faiss GPU support)."""
    if device == "cpu":
        return index
    match = re.fullmatch(r"cuda(?::(\d+))?", device)
    if match is None:
        raise UserError(f"--device must be cpu, cuda or cuda:N, got {device!r}")
    if not gpu_available():
        raise UserError(
            f"--device {device}: this faiss has no GPU support or sees no GPU "
            "(install the extra: pip install 'vbound-retrieval[gpu]')"
        )
    resources = faiss.StandardGpuResources()
    try:
        moved = faiss.index_cpu_to_gpu(resources, int(match.group(1) or 0), index)
    except RuntimeError as err:
        raise UserError(
            f"--device {device}: faiss cannot move a {type(index).__name__} index to the GPU ({err})"
        ) from None
    moved.referenced_resources = resources  # type: ignore[attr-defined]  # keep the GPU memory manager alive with the index
    set_params(moved, params)
    return moved


def to_cpu(index: faiss.Index) -> faiss.Index:
    """A CPU copy of a GPU index (the index itself when it is on the CPU already)."""
    if type(index).__name__.startswith("Gpu"):
        return faiss.index_gpu_to_cpu(index)
    return index
