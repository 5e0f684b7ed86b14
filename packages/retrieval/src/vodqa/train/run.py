"""`vodqa train`: the VOD reader-retriever training (or a reader-only baseline), resumable, with re-indexing.

The candidates of a question are the top P of its option pool (`pool="options"`, default;
`vodqa.index.option_pool`) or of the whole corpus (`pool="corpus"`). The run is split into phases of
`reindex_every` steps. Each phase is one call of vcore's resumable loop
(`vcore.train.train`, checkpoints in `<run_dir>/checkpoint`, metrics in `<run_dir>/metrics.jsonl`); between
phases the corpus (with option pools: the passages of every pool) is re-embedded with the current retriever and the cached candidates of every
training and validation question are recomputed (VOD's periodic re-indexing), saved in `<run_dir>/reindex/`
so that a resumed run samples from exactly the cache it had. The LR schedule and the alpha annealing are
functions of the global step over all phases. At the end the model is written to `out` with
`vodqa.model.checkpoint.export_checkpoint` (only what training changed).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import Dataset

from vcore.bounds.annealing import linear_alpha
from vcore.errors import UserError
from vcore.io.atomic import atomic_write_json
from vcore.io.checkpoint import STATE_NAME, WEIGHTS_NAME, load_state, load_weights
from vcore.precision import bf16_native
from vcore.seed import seed_everything
from vcore.train import TrainConfig, train
from vcore.train.distributed import unwrap_model
from vcore.train.loop import lr_multiplier
from vodqa.corpus.passage import passage_text
from vodqa.index import Index
from vodqa.model.checkpoint import export_checkpoint
from vodqa.model.qa_model import VodQAConfig, VodQAModel
from vodqa.questions.question import Question, read_questions
from vodqa.train.candidates import CandidateCache, compute_candidates
from vodqa.train.objectives import Batch, marginal_loss, vod_loss

logger = logging.getLogger(__name__)


@dataclass
class TrainOptions:
    index: Path
    questions: Path
    out: Path
    val: Path | None = None
    run_dir: Path | None = None
    method: str = "vod"
    pool: str = "options"  # rank the options' passages, or the whole corpus
    resume: bool = False
    max_steps: int = 600
    batch_size: int = 4
    passages: int = 4  # K passages per question
    top_p: int = 32  # P cached candidates per question
    lr: float = 1e-4
    head_lr: float = 1e-3
    train_layers: int = 2
    temperature: float = 0.05
    bm25_weight: float = 1.0  # w in f_theta = cos / tau + w * BM25 (vod)
    alpha_start: float = 1.0
    alpha_end: float = 0.0
    reindex_every: int = 0  # steps between re-indexings (0: never; vod only)
    eval_every: int = 100
    max_val: int = 200
    checkpoint_every: int = 50
    seed: int = 0
    progress: bool = True


class _Indices(Dataset[int]):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


def _same_option_count(questions: list[Question], path: Path) -> None:
    counts = {len(q.options) for q in questions}
    if len(counts) != 1:
        raise UserError(
            f"{path}: every question needs the same number of options to train, found {sorted(counts)}"
        )


class _Trainer:
    def __init__(self, options: TrainOptions) -> None:
        self.o = options
        if options.method not in ("vod", "frozen-dense", "bm25"):
            raise UserError(f"--method must be vod, frozen-dense or bm25, got {options.method!r}")
        if options.pool not in ("options", "corpus"):
            raise UserError(f"--pool must be options or corpus, got {options.pool!r}")
        if options.bm25_weight < 0:
            raise UserError(f"--bm25-weight must be non-negative, got {options.bm25_weight}")
        if options.passages < 1 or options.top_p < options.passages:
            raise UserError(f"need 1 <= --passages <= --top-p, got {options.passages} and {options.top_p}")
        self.run_dir = options.run_dir or options.out.with_name(options.out.name + ".run")
        self.index = Index.load(options.index)
        self.train_q = read_questions(options.questions)
        _same_option_count(self.train_q, options.questions)
        self.val_q = read_questions(options.val)[: options.max_val] if options.val else []
        seed_everything(options.seed)  # the reader head's initialisation
        self.model = VodQAModel(
            VodQAConfig(
                method=options.method,
                train_layers=options.train_layers,
                temperature=options.temperature,
                bm25_weight=options.bm25_weight,
                pool=options.pool,
            )
        )
        if (
            options.method != "bm25"
            and self.index.config["encoder"]["fingerprint"] != self.model.config.base_fingerprint
        ):
            raise UserError(
                f"{options.index}: built with encoder {self.index.config['encoder']['fingerprint']}, training starts "
                f"from all-MiniLM-L6-v2 ({self.model.config.base_fingerprint}); rebuild it with `vodqa index` (no --checkpoint)"
            )
        self.texts = [passage_text(p) for p in self.index.passages]
        self.step = 0
        self.train_cache: CandidateCache | None = None
        self.val_cache: CandidateCache | None = None

    # --- candidate caches and re-indexing -------------------------------------------------------------
    def _caches(self) -> tuple[CandidateCache, CandidateCache | None]:
        kwargs: dict[str, Any] = {
            "method": self.o.method,
            "retriever": self.model.retriever,
            "top_p": self.o.top_p,
            "temperature": self.o.temperature,
            "bm25_weight": self.model.config.bm25_weight,
            "query_max_length": self.model.config.query_max_length,
        }
        train_cache = compute_candidates(
            self.index,
            [q.question for q in self.train_q],
            options=self._options(self.train_q),
            progress=self.o.progress,
            **kwargs,
        )
        val_cache = (
            compute_candidates(
                self.index, [q.question for q in self.val_q], options=self._options(self.val_q), **kwargs
            )
            if self.val_q
            else None
        )
        return train_cache, val_cache

    def _options(self, questions: list[Question]) -> list[list[str]] | None:
        return [list(q.options) for q in questions] if self.o.pool == "options" else None

    def _pool_rows(self) -> np.ndarray | None:
        """The passages a re-indexing must embed: every option pool's (None: the whole corpus)."""
        if self.o.pool != "options":
            return None
        pools = self.index.option_pools([list(q.options) for q in self.train_q + self.val_q])
        return np.unique(np.concatenate(pools)) if pools else np.zeros(0, dtype=np.int64)

    def _reindex_dir(self) -> Path:
        return self.run_dir / "reindex"

    def _reindex(self) -> None:
        rows = self._pool_rows()
        count = len(self.texts) if rows is None else len(rows)
        logger.info("step %d: re-indexing %d passages with the current retriever", self.step, count)
        self.model.eval()
        self.index.reembed(self.model.retriever, self.model.tokenizer, rows=rows, progress=self.o.progress)
        self.train_cache, self.val_cache = self._caches()
        folder = self._reindex_dir()
        folder.mkdir(parents=True, exist_ok=True)
        self.train_cache.save(folder / "train.npz")
        if self.val_cache is not None:
            self.val_cache.save(folder / "val.npz")
        atomic_write_json(
            folder / "meta.json",
            {"step": self.step, "fingerprint": self.index.config["encoder"]["fingerprint"]},
        )

    def _restore(self) -> None:
        ckpt = self.run_dir / "checkpoint"
        if not (ckpt / STATE_NAME).is_file():
            if self.o.resume:
                logger.warning("no checkpoint in %s: starting from step 0", self.run_dir)
            self.train_cache, self.val_cache = self._caches()
            return
        if not self.o.resume:
            raise UserError(
                f"{ckpt}: a checkpoint is already there; pass --resume, or choose another output folder"
            )
        self.step = load_state(ckpt / STATE_NAME).step
        load_weights(self.model, ckpt / WEIGHTS_NAME)
        meta_path = self._reindex_dir() / "meta.json"
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else None
        boundary = (self.step // self.o.reindex_every) * self.o.reindex_every if self.o.reindex_every else 0
        if boundary == 0:
            self.train_cache, self.val_cache = self._caches()
        elif meta is not None and meta["step"] == boundary:
            self.train_cache = CandidateCache.load(self._reindex_dir() / "train.npz")
            val_path = self._reindex_dir() / "val.npz"
            self.val_cache = CandidateCache.load(val_path) if self.val_q and val_path.is_file() else None
            if self.val_q and self.val_cache is None:
                self.val_cache = self._caches()[1]
        else:
            if self.step != boundary:
                logger.warning(
                    "re-index of step %d is missing: re-indexing with the weights of step %d",
                    boundary,
                    self.step,
                )
            self._reindex()

    # --- one batch ----------------------------------------------------------------------------------
    def _batch(self, rows: list[int], questions: list[Question], cache: CandidateCache) -> Batch:
        ids = cache.ids[rows]
        return Batch(
            questions=[questions[r].question for r in rows],
            options=[list(questions[r].options) for r in rows],
            answers=torch.tensor([questions[r].answer_idx for r in rows], dtype=torch.long),
            candidate_texts=[[self.texts[i] for i in row] for row in ids],
            candidate_scores=torch.from_numpy(cache.scores[rows]),
            candidate_sparse=torch.from_numpy(cache.sparse[rows]),
        )

    def _collate(self, rows: list[int]) -> Batch:
        assert self.train_cache is not None
        return self._batch(rows, self.train_q, self.train_cache)

    def _loss(self, model: torch.nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        qa = cast(VodQAModel, unwrap_model(model))
        alpha = linear_alpha(self.calls, self.o.max_steps, self.o.alpha_start, self.o.alpha_end)
        self.calls += 1
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16_native(qa.device)):
            if self.o.method == "vod":
                return vod_loss(qa, batch, self.o.passages, alpha)
            return marginal_loss(qa, batch, self.o.passages)

    def _eval(self, model: torch.nn.Module) -> dict[str, float]:
        """Validation accuracy with the top-K cached candidates and p(d|q) = softmax f_r (a fast monitor)."""
        if not self.val_q or self.val_cache is None:
            return {}
        qa = cast(VodQAModel, unwrap_model(model))
        correct, log_lik = 0, 0.0
        k = min(self.o.passages, self.val_cache.ids.shape[1])
        for start in range(0, len(self.val_q), 8):
            rows = list(range(start, min(start + 8, len(self.val_q))))
            batch = self._batch(rows, self.val_q, self.val_cache)
            top = torch.topk(batch.candidate_scores, k, dim=-1)
            texts = [
                [row[i] for i in idx]
                for row, idx in zip(batch.candidate_texts, top.indices.tolist(), strict=True)
            ]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16_native(qa.device)):
                log_probs = qa.reader_log_probs(batch.questions, batch.options, texts).float()
            marginal = torch.logsumexp(torch.log_softmax(top.values, -1).unsqueeze(-1) + log_probs, dim=1)
            correct += int((marginal.argmax(-1) == batch.answers).sum())
            log_lik += float(marginal.gather(-1, batch.answers.view(-1, 1)).sum())
        return {"val_accuracy": correct / len(self.val_q), "val_log_p_answer": log_lik / len(self.val_q)}

    def _optimizer(self, model: torch.nn.Module) -> torch.optim.Optimizer:
        head = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("reader_head")]
        body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("reader_head")]
        groups = [{"params": body, "lr": self.o.lr}, {"params": head, "lr": self.o.head_lr}]
        return torch.optim.AdamW([g for g in groups if g["params"]], weight_decay=0.01)

    # --- the run --------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._restore()
        full = TrainConfig(
            out_dir=str(self.run_dir),
            max_steps=self.o.max_steps,
            lr_schedule="linear",
            warmup_steps=min(50, self.o.max_steps // 10),
            min_lr_ratio=0.1,
        )
        every = (
            self.o.reindex_every if self.o.method == "vod" and self.o.reindex_every > 0 else self.o.max_steps
        )
        result = None
        while self.step < self.o.max_steps:
            phase_end = min((self.step // every + 1) * every, self.o.max_steps)
            self.calls = self.step
            config = TrainConfig(
                out_dir=str(self.run_dir),
                max_steps=phase_end,
                batch_size=self.o.batch_size,
                checkpoint_every=self.o.checkpoint_every,
                eval_every=self.o.eval_every if self.val_q else 0,
                log_every=5,
                seed=self.o.seed,
                resume=self.step > 0,
                progress=self.o.progress,
                grad_clip=1.0,
            )
            result = train(
                self.model,
                self._loss,
                _Indices(len(self.train_q)),
                config,
                optimizer_fn=self._optimizer,
                scheduler_fn=lambda opt: LambdaLR(opt, lambda s: lr_multiplier(s, full)),
                collate_fn=self._collate,
                eval_fn=self._eval if self.val_q else None,
            )
            self.step = result.step
            if self.step < self.o.max_steps:
                self._reindex()
        self.model.eval()
        export_checkpoint(self.model, self.o.out)
        summary = {
            "step": self.step,
            "method": self.o.method,
            "out": str(self.o.out),
            "run_dir": str(self.run_dir),
        }
        if result is not None:
            summary["last_metrics"] = {
                k: v for k, v in result.metrics.items() if isinstance(v, int | float) and math.isfinite(v)
            }
        summary["options"] = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self.o).items()}
        return summary


def train_vodqa(options: TrainOptions) -> dict[str, Any]:
    """Run (or resume) a training and export the checkpoint; returns a summary."""
    return _Trainer(options).run()
