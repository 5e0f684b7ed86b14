"""FAISS indexes over unit vectors: Flat is exact, HNSW/IVF reach recall 1 when searched widely, bad specs fail."""

from __future__ import annotations

import numpy as np
import pytest

from vcore.errors import UserError
from vodqa.index.faiss_factory import (
    DEFAULT_EF_SEARCH,
    DEFAULT_NPROBE,
    build_faiss,
    check_spec,
    default_params,
    set_params,
    to_device,
)


def _unit(rng: np.random.Generator, n: int, d: int = 384) -> np.ndarray:
    latent = rng.normal(size=(n, 12)) @ rng.normal(size=(12, d)) + 0.3 * rng.normal(size=(n, d))
    return (latent / np.linalg.norm(latent, axis=1, keepdims=True)).astype(np.float32)


def _exact(base: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(queries @ base.T), axis=1, kind="stable")[:, :k]


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def test_flat_is_exact() -> None:
    rng = np.random.default_rng(0)
    base, queries = _unit(rng, 300), _unit(rng, 25)
    index, _, _ = build_faiss(base, "Flat", {})
    scores, ids = index.search(queries, 7)
    np.testing.assert_array_equal(ids, _exact(base, queries, 7))
    np.testing.assert_allclose(scores, np.sort(queries @ base.T, axis=1)[:, ::-1][:, :7], atol=1e-5)


@pytest.mark.parametrize(("spec", "params"), [("HNSW32", {"efSearch": 300}), ("IVF8,Flat", {"nprobe": 8})])
def test_approximate_indexes_exact_when_searched_widely(spec: str, params: dict[str, int]) -> None:
    rng = np.random.default_rng(1)
    base, queries = _unit(rng, 400), _unit(rng, 40)
    index, _, _ = build_faiss(base, spec, params)
    _, ids = index.search(queries, 10)
    assert _recall(ids, _exact(base, queries, 10)) == 1.0


def test_search_parameters_are_settable() -> None:
    rng = np.random.default_rng(2)
    index, _, _ = build_faiss(_unit(rng, 200), "IVF4,Flat", {"nprobe": 3})
    import faiss

    assert faiss.extract_index_ivf(index).nprobe == 3
    set_params(index, {"nprobe": 2})
    assert faiss.extract_index_ivf(index).nprobe == 2
    hnsw, _, _ = build_faiss(_unit(rng, 50), "HNSW32", {"efSearch": 77})
    assert faiss.downcast_index(hnsw).hnsw.efSearch == 77
    assert default_params("HNSW32", 384) == {"efSearch": DEFAULT_EF_SEARCH}
    assert default_params("IVF1024,Flat", 384) == {"nprobe": DEFAULT_NPROBE}
    assert default_params("Flat", 384) == {}
    with pytest.raises(UserError, match="efSearch: a Flat index has no such parameter"):
        set_params(build_faiss(_unit(rng, 5), "Flat", {})[0], {"efSearch": 10}, "Flat")
    with pytest.raises(UserError, match="nprobe must be at least 1"):
        set_params(index, {"nprobe": 0})


def test_bad_specs_and_devices() -> None:
    with pytest.raises(UserError, match="--faiss 'Bogus': not a faiss index factory string"):
        check_spec("Bogus", 384, 100)
    with pytest.raises(
        UserError, match=r"1024 inverted lists need at least 1024 passages to train, the corpus has 30"
    ):
        check_spec("IVF1024,Flat", 384, 30)
    index, _, _ = build_faiss(_unit(np.random.default_rng(3), 5), "Flat", {})
    assert to_device(index, "cpu", {}) is index
    with pytest.raises(UserError, match="--device must be cpu, cuda or cuda:N"):
        to_device(index, "tpu", {})
    import faiss

    if not hasattr(faiss, "StandardGpuResources"):
        with pytest.raises(UserError, match="this faiss has no GPU support"):
            to_device(index, "cuda", {})
