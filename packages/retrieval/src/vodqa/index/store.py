"""A retrieval index on disk and in memory: passages, their embeddings, a FAISS index and a BM25 index.

    IDX/config.json       {"format": "vodqa-index", "version": 1, "encoder": {"name", "fingerprint"},
                           "faiss": "Flat" | "HNSW32" | "IVF1024,Flat" ..., "faiss_params": {"efSearch"|"nprobe"},
                           "num_passages", "dim", "source", "hybrid": {"dense_temperature", "bm25_weight"},
                           "bm25": {...settings}, "build": {...timings}}
    IDX/passages.jsonl    one passage per line, row i of every array below is passage i
    IDX/embeddings.npy    float16 [N, d] unit embeddings (the FAISS index holds them in float32)
    IDX/dense.faiss       faiss.write_index of the dense index
    IDX/bm25/             bm25s's save

The folder is written at once (`vcore.io.atomic.atomic_dir`): readers see the old index or the new one.
Search results are row ids (int64) into `Index.passages`, padded with -1 (score -inf) when fewer exist.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import torch

from vcore.errors import UserError
from vcore.io.atomic import atomic_dir, recover_dir
from vodqa.corpus.passage import Passage, passage_text, read_passages, write_passages
from vodqa.index import bm25 as bm25_mod
from vodqa.index import faiss_factory
from vodqa.index.hybrid import DEFAULT_HYBRID, Candidates, empty_candidates, merge_one
from vodqa.index.option_pool import TitleLookup, option_pool

logger = logging.getLogger(__name__)

FORMAT = "vodqa-index"
VERSION = 1
CONFIG_NAME = "config.json"
PASSAGES_NAME = "passages.jsonl"
EMBEDDINGS_NAME = "embeddings.npy"
FAISS_NAME = "dense.faiss"
BM25_DIR = "bm25"


def _check_k(k: int) -> None:
    if int(k) < 1:
        raise UserError(f"k must be at least 1, got {k}")


def write_index_folder(
    out: Path,
    config: dict[str, Any],
    passages: Sequence[Passage],
    embeddings: np.ndarray,
    dense: faiss.Index,
    bm25: Any,
) -> Path:
    """Write every file of an index into folder `out`, atomically."""
    with atomic_dir(out) as tmp:
        write_passages(tmp / PASSAGES_NAME, passages)
        np.save(tmp / EMBEDDINGS_NAME, np.asarray(embeddings, dtype=np.float16))
        faiss.write_index(faiss_factory.to_cpu(dense), str(tmp / FAISS_NAME))
        (tmp / BM25_DIR).mkdir()
        bm25_mod.save_bm25(bm25, tmp / BM25_DIR)
        (tmp / CONFIG_NAME).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return Path(out)


def read_config(path: Path) -> dict[str, Any]:
    """An index folder's config.json, checked for format and version; UserError otherwise."""
    recover_dir(path)
    if not path.exists():
        raise UserError(f"{path}: no such index folder (build one with `vodqa index`)")
    if not path.is_dir():
        raise UserError(f"{path}: not an index folder (it is a file)")
    config_path = path / CONFIG_NAME
    if not config_path.is_file():
        raise UserError(f"{path}: not a vodqa index (no {CONFIG_NAME})")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"{config_path}: corrupt index config ({err})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        got = config.get("format") if isinstance(config, dict) else type(config).__name__
        raise UserError(f"{config_path}: format is {got!r}, not a {FORMAT!r}; build one with `vodqa index`")
    if config.get("version") != VERSION:
        raise UserError(
            f"{config_path}: index version {config.get('version')!r}, this vodqa reads version {VERSION}; "
            "rebuild it with `vodqa index`"
        )
    for key in ("encoder", "faiss", "num_passages"):
        if key not in config:
            raise UserError(f"{config_path}: corrupt index config (no {key!r})")
    return config


class Index:
    """Passages with a dense (FAISS) and a sparse (BM25) index over them; see the module docstring."""

    def __init__(
        self,
        config: dict[str, Any],
        passages: list[Passage],
        embeddings16: np.ndarray,
        dense: faiss.Index,
        bm25: Any,
        path: Path | None = None,
    ) -> None:
        self.config = config
        self.passages = passages
        self.path = path
        self._embeddings16 = embeddings16
        self._embeddings32: np.ndarray | None = None
        self.dense = dense
        self.bm25 = bm25
        self._titles: TitleLookup | None = None

    @classmethod
    def load(cls, path: Path, *, device: str = "cpu") -> Index:
        """Read an index folder (UserError on a missing, corrupt or other-format folder)."""
        path = Path(path)
        config = read_config(path)
        for name in (PASSAGES_NAME, EMBEDDINGS_NAME, FAISS_NAME):
            if not (path / name).is_file():
                raise UserError(f"{path}: corrupt index ({name} is missing); rebuild it with `vodqa index`")
        passages = read_passages(path / PASSAGES_NAME)
        try:
            embeddings = np.load(path / EMBEDDINGS_NAME, allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:
            raise UserError(f"{path / EMBEDDINGS_NAME}: unreadable embeddings ({err})") from None
        try:
            dense = faiss.read_index(str(path / FAISS_NAME))
        except RuntimeError as err:
            reason = str(err).strip().rsplit(": ", 1)[-1]
            raise UserError(f"{path / FAISS_NAME}: unreadable faiss index ({reason})") from None
        bm25 = bm25_mod.load_bm25(path / BM25_DIR)
        n = int(config["num_passages"])
        sizes = {
            PASSAGES_NAME: len(passages),
            EMBEDDINGS_NAME: embeddings.shape[0] if embeddings.ndim == 2 else -1,
            FAISS_NAME: int(dense.ntotal),
            BM25_DIR: int(bm25.scores["num_docs"]),
        }
        for name, size in sizes.items():
            if size != n:
                raise UserError(f"{path}: corrupt index ({name} holds {size} passages, config.json says {n})")
        if embeddings.shape[1] != dense.d:
            raise UserError(
                f"{path}: corrupt index (embeddings are {embeddings.shape[1]}-d, faiss {dense.d}-d)"
            )
        params = dict(config.get("faiss_params", {}))
        faiss_factory.set_params(dense, params, config["faiss"])
        dense = faiss_factory.to_device(dense, device, params)
        return cls(config, passages, embeddings, dense, bm25, path)

    def __len__(self) -> int:
        return len(self.passages)

    @property
    def dim(self) -> int:
        return int(self._embeddings16.shape[1])

    @property
    def embeddings(self) -> np.ndarray:
        """Stored passage embeddings [N, d] as float32 (a cached copy of the float16 file)."""
        if self._embeddings32 is None:
            self._embeddings32 = self._embeddings16.astype(np.float32)
        return self._embeddings32

    def set_search_params(self, *, ef_search: int | None = None, nprobe: int | None = None) -> None:
        """Change HNSW's efSearch / IVF's nprobe for the following searches (and in `config`)."""
        params = {name: v for name, v in (("efSearch", ef_search), ("nprobe", nprobe)) if v is not None}
        faiss_factory.set_params(self.dense, params, self.config["faiss"])
        self.config.setdefault("faiss_params", {}).update(params)

    def _query_matrix(self, query_vectors: np.ndarray) -> np.ndarray:
        q = np.ascontiguousarray(query_vectors, dtype=np.float32)
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise UserError(f"query vectors must be [Q, {self.dim}], got shape {tuple(q.shape)}")
        return q

    def search_dense(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """FAISS top-k: inner products [Q, k] (float32) and row ids [Q, k] (int64, -1 padded)."""
        _check_k(k)
        q = self._query_matrix(query_vectors)
        if len(q) == 0:
            return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
        scores, ids = self.dense.search(q, int(k))
        ids = ids.astype(np.int64)
        scores = np.where(ids >= 0, scores, -np.inf).astype(np.float32)
        return scores, ids

    def bm25_scores(self, query: str) -> np.ndarray:
        """BM25 scores [N] of every passage for one query."""
        return bm25_mod.score_all(self.bm25, bm25_mod.tokenize([query])[0])

    def search_bm25(self, queries: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """BM25 top-k: scores [Q, k] (float32) and row ids [Q, k] (int64); only passages sharing a term."""
        _check_k(k)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        for row, tokens in enumerate(bm25_mod.tokenize(queries)):
            all_scores = bm25_mod.score_all(self.bm25, tokens)
            top = bm25_mod.top_k(all_scores, k)
            ids[row, : len(top)] = top
            scores[row, : len(top)] = all_scores[top]
        return scores, ids

    def hybrid_params(self) -> dict[str, float]:
        return {**DEFAULT_HYBRID, **self.config.get("hybrid", {})}

    def candidates(self, queries: Sequence[str], query_vectors: np.ndarray, k: int) -> Candidates:
        """Hybrid top-k of the union of dense and BM25 top-k (see `vodqa.index.hybrid`)."""
        _check_k(k)
        _, dense_ids = self.search_dense(self._query_matrix(query_vectors), k)
        return self._hybrid(
            queries, query_vectors, k, lambda row, bm25: (dense_ids[row], bm25_mod.top_k(bm25, k))
        )

    def option_pools(self, options: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """Each question's pool of passages about its options (`vodqa.index.option_pool`)."""
        if self._titles is None:
            self._titles = TitleLookup(self.passages)
        return [option_pool(self._titles, row, self.search_bm25) for row in options]

    def option_candidates(
        self,
        queries: Sequence[str],
        query_vectors: np.ndarray,
        options: Sequence[Sequence[str]],
        k: int,
        passage_vectors: Any = None,
    ) -> Candidates:
        """The k best of each question's option pool by the hybrid score, with its cosine and BM25 parts.

        `passage_vectors` (default: the stored embeddings) gives the passages' vectors as `passage_vectors[ids]`,
        e.g. a `vodqa.index.passage_vectors.LazyPassageVectors` of another retriever.
        """
        _check_k(k)
        if len(options) != len(queries):
            raise UserError(f"{len(queries)} queries but {len(options)} option lists")
        pools, none = self.option_pools(options), np.zeros(0, dtype=np.int64)
        return self._hybrid(queries, query_vectors, k, lambda row, _: (pools[row], none), passage_vectors)

    def _hybrid(
        self,
        queries: Sequence[str],
        query_vectors: np.ndarray,
        k: int,
        proposals: Callable[[int, np.ndarray], tuple[np.ndarray, np.ndarray]],
        passage_vectors: Any = None,
    ) -> Candidates:
        """The k best by the hybrid score of the union of `proposals(row, bm25_scores_of_every_passage)`."""
        q = self._query_matrix(query_vectors)
        if len(queries) != len(q):
            raise UserError(f"{len(queries)} queries but {len(q)} query vectors")
        params = self.hybrid_params()
        out = empty_candidates(len(q), k)
        for row, tokens in enumerate(bm25_mod.tokenize(queries)):
            all_scores = bm25_mod.score_all(self.bm25, tokens)
            first, second = proposals(row, all_scores)
            ids, score, dense, bm25 = merge_one(
                q[row],
                first,
                second,
                all_scores,
                self._embeddings16 if passage_vectors is None else passage_vectors,
                k,
                params["dense_temperature"],
                params["bm25_weight"],
            )
            n = len(ids)
            out.ids[row, :n], out.scores[row, :n], out.dense[row, :n], out.bm25[row, :n] = (
                ids,
                score,
                dense,
                bm25,
            )
        return out

    def reembed(
        self,
        model: torch.nn.Module,
        tokenizer: Any,
        *,
        rows: np.ndarray | None = None,
        batch_size: int = 128,
        progress: bool = False,
        encoder_name: str | None = None,
    ) -> None:
        """Embed the passages again with `model` and rebuild the FAISS index (in memory; `save` writes it).

        With `rows`, only those passages are embedded again (a training run that ranks option pools needs
        no others); the FAISS index and the other rows keep the old encoder, so such an index is marked
        partial and `save` refuses it.
        """
        from vodqa.encoder import embed, weights_fingerprint

        targets = self.passages if rows is None else [self.passages[int(i)] for i in rows]
        vectors = embed(
            model, tokenizer, [passage_text(p) for p in targets], batch_size=batch_size, progress=progress
        )
        fingerprint = weights_fingerprint(model)
        old = self.config["encoder"]
        name = encoder_name or (old.get("name") if old.get("fingerprint") == fingerprint else "custom")
        self.config["encoder"] = {"name": name, "fingerprint": fingerprint}
        self._embeddings32 = None
        if rows is not None:
            embeddings = self._embeddings16.copy()
            embeddings[rows] = vectors.astype(np.float16)
            self._embeddings16 = embeddings
            self.config["encoder"]["partial_rows"] = len(rows)
            return
        device = "cpu" if not type(self.dense).__name__.startswith("Gpu") else "cuda"
        params = dict(self.config.get("faiss_params", {}))
        dense, _, _ = faiss_factory.build_faiss(vectors, self.config["faiss"], params)
        self.config["dim"] = int(vectors.shape[1])
        self._embeddings16 = vectors.astype(np.float16)
        self.dense = faiss_factory.to_device(dense, device, params)

    def save(self, path: Path | None = None) -> Path:
        """Write the index (atomically) to `path`, by default the folder it was loaded from; returns the folder."""
        target = path or self.path
        if "partial_rows" in self.config["encoder"]:
            raise UserError("this index was re-embedded in part (a training run's option pools): not saved")
        if target is None:
            raise UserError("this index was not loaded from a folder: give a path to save it to")
        written = write_index_folder(
            Path(target), self.config, self.passages, self._embeddings16, self.dense, self.bm25
        )
        self.path = self.path or written
        return written


def check_encoder(index: Index, model: torch.nn.Module) -> None:
    """UserError unless `index` was built with exactly the weights of `model` (compared by fingerprint)."""
    from vodqa.encoder import weights_fingerprint

    built = index.config["encoder"].get("fingerprint")
    given = weights_fingerprint(model)
    if built != given:
        raise UserError(
            f"{index.path or 'index'}: built with encoder {built}, the checkpoint's retriever is {given}; "
            "rebuild with `vodqa index ... --checkpoint`"
        )
