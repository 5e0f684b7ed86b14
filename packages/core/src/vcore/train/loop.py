"""A small resumable training loop that runs unchanged in one process or under `torchrun` (DDP).

    config = TrainConfig(out_dir="runs/mlp", max_steps=2000, checkpoint_every=500, batch_size=64)
    train(model, loss_fn, dataset, config)          # loss_fn(model, batch) -> (loss, {"name": value})

Layout of `out_dir`:

    checkpoint/          the last checkpoint: config.json (for `Pretrained` models) + model.safetensors
                         + training_state.pt (+ ema.safetensors, the weight average, when `ema_decay` > 0),
                         replaced atomically, so a crash mid-save leaves the previous one
    metrics.jsonl        one JSON object per logged step ({"step", "loss", "lr", "elapsed_s", ...})
                         and per evaluation ({"step", "eval/<name>"})

Exact resume. A checkpoint holds the weights, the optimizer and LR-scheduler states, the step, and
every process's Python/NumPy/torch RNG states. The data order is a function of (seed, epoch) and the
position in the epoch is derived from the step (`vcore.train.sampler`), so a run of 2N steps and a run
of N steps resumed for N more give bitwise-equal parameters on CPU, provided the randomness inside
`loss_fn` comes from those global generators and `__getitem__` is deterministic or runs in the main
process (`num_workers=0`). On resume, lines of metrics.jsonl after the checkpoint's step are dropped.
The LR schedule is a function of the step and `max_steps`: raising `max_steps` on resume re-times a
decaying schedule (constant and warmup-only schedules are unaffected). With the default schedule, the
optimizer's hyper-parameters (peak `lr`, weight decay, betas, ...) are the resuming run's, not the
checkpoint's: a resume with another `lr` trains at that `lr` (logged as a warning); only the optimizer's
moment estimates and the step come from the checkpoint.

Ctrl-C (SIGINT) or SIGTERM asks the loop to stop after the current step: every process stops at the
same step, rank 0 saves a checkpoint, then KeyboardInterrupt is raised. A repeated signal more than a
second later aborts at once.

Under DDP, `loss_fn` receives the DistributedDataParallel wrapper: call it (`model(x)`) so that gradients
are averaged; reach the inner module's attributes through `vcore.train.distributed.unwrap_model`.
`batch_size` is per process; metrics are averaged over processes; `eval_fn` runs on rank 0 only.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Literal

import torch
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR, LRScheduler
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from vcore.errors import UserError
from vcore.io.atomic import atomic_dir, atomic_write_text, recover_dir
from vcore.io.checkpoint import (
    STATE_NAME,
    WEIGHTS_NAME,
    Pretrained,
    capture_rng_state,
    load_state,
    load_weights,
    read_config,
    restore_rng_state,
    save_state,
    save_weights,
)
from vcore.seed import seed_everything
from vcore.train import distributed as ddp
from vcore.train.ema import WeightAverage
from vcore.train.sampler import ResumableSampler, epoch_seed

logger = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoint"
METRICS_NAME = "metrics.jsonl"
EMA_NAME = "ema.safetensors"  # in the checkpoint folder when `ema_decay` > 0

LossFn = Callable[[nn.Module, Any], tuple[torch.Tensor, Mapping[str, float | torch.Tensor]]]
EvalFn = Callable[[nn.Module], Mapping[str, float | torch.Tensor]]
Callback = Callable[[dict[str, Any]], None]


@dataclass
class TrainConfig:
    """Hyper-parameters of a run; `batch_size` is per process, `*_every = 0` switches that action off."""

    out_dir: str = "runs/train"
    max_steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-3  # for the default AdamW and LR schedule
    weight_decay: float = 0.0
    lr_schedule: Literal["constant", "cosine", "linear"] = "constant"
    warmup_steps: int = 0
    min_lr_ratio: float = 0.0  # final LR / peak LR for the decaying schedules
    ema_decay: float = 0.0  # > 0: keep an exponential moving average of the weights (`vcore.train.ema`)
    grad_clip: float | None = None  # max global gradient norm
    checkpoint_every: int = 0  # 0: only at the end and on Ctrl-C
    log_every: int = 10
    eval_every: int = 0
    seed: int = 0
    shuffle: bool = True
    num_workers: int = 0
    device: str = "cpu"
    resume: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        positive = {"max_steps": self.max_steps, "batch_size": self.batch_size, "log_every": self.log_every}
        for name, value in positive.items():
            if value < 1:
                raise UserError(f"{name} must be at least 1, got {value}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise UserError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        for name in ("checkpoint_every", "eval_every", "warmup_steps", "num_workers"):
            if getattr(self, name) < 0:
                raise UserError(f"{name} must be non-negative, got {getattr(self, name)}")
        if self.lr_schedule not in ("constant", "cosine", "linear"):
            raise UserError(f"lr_schedule must be constant, cosine or linear, got {self.lr_schedule!r}")


@dataclass
class TrainResult:
    """The step reached, the last logged training metrics, the checkpoint folder and the weight average."""

    step: int
    metrics: dict[str, Any]
    checkpoint: Path
    ema: WeightAverage | None = None


def lr_multiplier(step: int, config: TrainConfig) -> float:
    """Factor on the peak LR for the update from step `step` to `step + 1`.

    Linear warmup (step+1)/W over the first W steps, then constant, or cosine
    m + (1 - m) (1 + cos(pi p)) / 2, or linear 1 - (1 - m) p, with p = (step - W) / (max_steps - W)
    and m = `min_lr_ratio` (Loshchilov & Hutter 2017, "SGDR", eq. 5 without restarts).
    """
    warmup = config.warmup_steps
    if step < warmup:
        return (step + 1) / warmup
    if config.lr_schedule == "constant":
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, config.max_steps - warmup))
    m = config.min_lr_ratio
    if config.lr_schedule == "cosine":
        return m + (1.0 - m) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return 1.0 - (1.0 - m) * progress


def default_optimizer(config: TrainConfig) -> Callable[[nn.Module], Optimizer]:
    """AdamW (Loshchilov & Hutter 2019) with `config.lr` and `config.weight_decay`."""
    return lambda model: torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def _keep_configured_hyperparameters(
    optimizer: Optimizer,
    scheduler: LRScheduler,
    configured: list[dict[str, Any]],
    step: int,
    config: TrainConfig,
) -> None:
    """After loading a checkpoint into `optimizer` and the default `scheduler`, put back the hyper-parameters
    the optimizer was built with (`configured`, its param groups without the parameters), and set each
    group's LR to its peak (``initial_lr``) times `lr_multiplier(step)`, as the scheduler would have."""
    changed: dict[str, tuple[Any, Any]] = {}
    for group, wanted in zip(optimizer.param_groups, configured, strict=True):
        for key, value in wanted.items():
            if key != "lr" and not _same_value(group.get(key), value):
                changed.setdefault(key, (group.get(key), value))
                group[key] = value
        group["lr"] = group["initial_lr"] * lr_multiplier(step, config)
    scheduler.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
    for key, (old, new) in changed.items():
        name = "lr" if key == "initial_lr" else key
        logger.warning("resuming with %s = %s (the checkpoint used %s)", name, new, old)


def _same_value(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (RuntimeError, TypeError, ValueError):  # tensors of several elements
        return False


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, tuple | list):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


class _StopRequest:
    """Turns SIGINT/SIGTERM into a request to stop at the next step boundary."""

    def __init__(self) -> None:
        self.requested_at: float | None = None
        self.previous: dict[signal.Signals, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if self.requested_at is not None and now - self.requested_at > 1.0:
            raise KeyboardInterrupt
        if self.requested_at is None:
            logger.warning("signal %d: stopping after this step and saving a checkpoint", signum)
            self.requested_at = now

    @property
    def requested(self) -> bool:
        return self.requested_at is not None

    @contextmanager
    def installed(self) -> Iterator[_StopRequest]:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self._handle)
        try:
            yield self
        finally:
            for sig, handler in self.previous.items():
                signal.signal(sig, handler)


@contextmanager
def _rng_preserved() -> Iterator[None]:
    """Run a block (evaluation) without moving the training run's random streams."""
    state = capture_rng_state()
    try:
        yield
    finally:
        restore_rng_state(state)


def _truncate_metrics(path: Path, step: int) -> None:
    """Keep the records of steps <= `step` (and drop a line cut short by a crash)."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and record.get("step", math.inf) <= step:
            kept.append(line + "\n")
    atomic_write_text(path, "".join(kept))


class _Window:
    """Sums of the loss and metrics since the last log line."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor | float] = {}
        self.steps = 0
        self.start = time.perf_counter()

    def add(self, loss: torch.Tensor, metrics: Mapping[str, float | torch.Tensor]) -> None:
        for name, value in {"loss": loss, **metrics}.items():
            value = value.detach().double() if isinstance(value, torch.Tensor) else float(value)
            self.sums[name] = self.sums.get(name, 0.0) + value
        self.steps += 1

    def means(self) -> dict[str, torch.Tensor | float]:
        return {k: v / self.steps for k, v in self.sums.items()}


def _json_number(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


def _check_model_config(model: nn.Module, ckpt: Path) -> None:
    if not isinstance(model, Pretrained):
        return
    saved = read_config(ckpt)
    if saved["model_type"] != model.model_type:
        raise UserError(f"{ckpt}: checkpoint holds a '{saved['model_type']}' model, not '{model.model_type}'")
    current = json.loads(json.dumps(model.config_json()["config"]))
    if saved["config"] != current:
        fields = {
            k for k in saved["config"].keys() | current.keys() if saved["config"].get(k) != current.get(k)
        }
        raise UserError(
            f"{ckpt}: the model's config differs from the checkpoint's in {', '.join(sorted(fields))}"
        )


def _save_checkpoint(
    ckpt: Path,
    model: nn.Module,
    optimizer: Optimizer,
    scheduler: LRScheduler,
    step: int,
    extra: dict[str, Any],
    info: ddp.DistInfo,
    ema: WeightAverage | None,
) -> None:
    rngs = ddp.all_gather_object(capture_rng_state())  # every process's generators, index = rank
    if info.is_main:
        with atomic_dir(ckpt) as tmp:
            if isinstance(model, Pretrained):
                model.write_pretrained(tmp)
            else:
                save_weights(model, tmp / WEIGHTS_NAME)
            if ema is not None:
                ema.save(tmp / EMA_NAME)
            save_state(
                tmp / STATE_NAME, optimizer=optimizer, scheduler=scheduler, step=step, rng=rngs, extra=extra
            )
        logger.info("step %d: checkpoint saved to %s", step, ckpt)
    ddp.barrier()


def train(
    model: nn.Module,
    loss_fn: LossFn,
    dataset: Dataset[Any],
    config: TrainConfig,
    *,
    optimizer_fn: Callable[[nn.Module], Optimizer] | None = None,
    scheduler_fn: Callable[[Optimizer], LRScheduler] | None = None,
    collate_fn: Callable[[list[Any]], Any] | None = None,
    eval_fn: EvalFn | None = None,
    callbacks: Sequence[Callback] = (),
) -> TrainResult:
    """Train `model` for `config.max_steps` optimizer steps, checkpointing into `config.out_dir`.

    `optimizer_fn(model)` builds the optimizer (default AdamW with `config.lr`); `scheduler_fn(optimizer)`
    the LR scheduler (default: `lr_multiplier`). `eval_fn(model)` runs every `eval_every` steps in eval
    mode under no_grad, on rank 0, without disturbing the training RNG streams. Each `callbacks` entry is
    called on rank 0 with every record written to metrics.jsonl. Joins the torchrun process group if
    launched by torchrun (and leaves it at the end if it joined it).
    """
    owns_group = ddp.launched_by_torchrun() and not torch.distributed.is_initialized()
    info = ddp.init_distributed(config.device)
    try:
        return _train(
            model, loss_fn, dataset, config, info, optimizer_fn, scheduler_fn, collate_fn, eval_fn, callbacks
        )
    finally:
        if owns_group:
            ddp.shutdown_distributed()


def _train(
    model: nn.Module,
    loss_fn: LossFn,
    dataset: Dataset[Any],
    config: TrainConfig,
    info: ddp.DistInfo,
    optimizer_fn: Callable[[nn.Module], Optimizer] | None,
    scheduler_fn: Callable[[Optimizer], LRScheduler] | None,
    collate_fn: Callable[[list[Any]], Any] | None,
    eval_fn: EvalFn | None,
    callbacks: Sequence[Callback],
) -> TrainResult:
    out = Path(config.out_dir)
    ckpt, metrics_path = out / CHECKPOINT_DIR, out / METRICS_NAME
    model.to(info.device)
    optimizer = (optimizer_fn or default_optimizer(config))(model)
    scheduler = (
        scheduler_fn(optimizer) if scheduler_fn else LambdaLR(optimizer, lambda s: lr_multiplier(s, config))
    )
    global_batch = config.batch_size * info.world_size
    ema = WeightAverage(model, config.ema_decay) if config.ema_decay > 0 else None

    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        recover_dir(ckpt)
    ddp.barrier()
    step, elapsed_before = 0, 0.0
    if ckpt.exists():
        if not config.resume:
            raise UserError(f"{ckpt}: a checkpoint is already there; resume, or choose another output folder")
        _check_model_config(model, ckpt)
        load_weights(model, ckpt / WEIGHTS_NAME, map_location=info.device)
        configured = [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
        state = load_state(
            ckpt / STATE_NAME, optimizer=optimizer, scheduler=scheduler, map_location=info.device
        )
        step, elapsed_before = state.step, float(state.extra.get("elapsed_s", 0.0))
        if scheduler_fn is None:
            _keep_configured_hyperparameters(optimizer, scheduler, configured, step, config)
        if ema is not None:
            if (ckpt / EMA_NAME).is_file():
                ema.load(ckpt / EMA_NAME, map_location=info.device)
            else:
                logger.warning("%s has no %s: the weight average starts from step %d", ckpt, EMA_NAME, step)
                ema = WeightAverage(model, config.ema_decay)
        if state.extra.get("global_batch_size", global_batch) != global_batch:
            logger.warning(
                "resuming with a global batch of %d, the checkpoint used %d: the data order differs",
                global_batch,
                state.extra["global_batch_size"],
            )
        if len(state.rng) == info.world_size:
            restore_rng_state(state.rng[info.rank])
        else:
            logger.warning(
                "checkpoint has RNG states of %d processes, not %d: reseeding",
                len(state.rng),
                info.world_size,
            )
            seed_everything((config.seed + 7919 * info.rank + step) % 2**32)
        logger.info("resumed from %s at step %d", ckpt, step)
    else:
        if config.resume:
            logger.warning("no checkpoint in %s: starting from step 0", out)
        seed_everything((config.seed + info.rank) % 2**32)
    if info.is_main:
        _truncate_metrics(metrics_path, step)

    size = len(dataset)  # type: ignore[arg-type]  # a map-style dataset with __len__
    sampler = ResumableSampler(
        size,
        seed=config.seed,
        shuffle=config.shuffle,
        rank=info.rank,
        world_size=info.world_size,
    )
    batches_per_epoch = sampler.per_rank // config.batch_size
    if batches_per_epoch == 0:
        raise UserError(
            f"the dataset has {size} samples, fewer than one batch of {config.batch_size} "
            f"for each of {info.world_size} process(es)"
        )
    loader_generator = torch.Generator()  # DataLoader draws worker seeds from it, not from the global RNG
    loader = DataLoader(
        dataset,
        batch_size=config.batch_size,
        sampler=sampler,
        drop_last=True,
        collate_fn=collate_fn,
        num_workers=config.num_workers,
        generator=loader_generator,
        pin_memory=info.device.type == "cuda",
    )
    wrapped = ddp.wrap_model(model, info)
    wrapped.train()

    def extra_state() -> dict[str, Any]:
        return {
            "epoch": step // batches_per_epoch,
            "batch_in_epoch": step % batches_per_epoch,
            "global_batch_size": global_batch,
            "world_size": info.world_size,
            "elapsed_s": elapsed_before + time.perf_counter() - t_start,
            "train_config": dataclasses.asdict(config),
        }

    def emit(record: dict[str, Any]) -> None:
        with metrics_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        for callback in callbacks:
            callback(record)

    last: dict[str, Any] = {}
    saved_step = step
    t_start = time.perf_counter()
    window = _Window()
    bar = tqdm(
        total=config.max_steps,
        initial=step,
        disable=not (config.progress and info.is_main),
        desc="train",
        unit="step",
        dynamic_ncols=True,
    )
    if step >= config.max_steps:
        logger.info("step %d already reaches max_steps=%d: nothing to do", step, config.max_steps)
    try:
        with _StopRequest().installed() as stop:
            while step < config.max_steps:
                epoch, offset = divmod(step, batches_per_epoch)
                sampler.set_epoch(epoch, start=offset * config.batch_size)
                loader_generator.manual_seed(epoch_seed(config.seed + info.rank, epoch))
                for batch in loader:
                    optimizer.zero_grad(set_to_none=True)
                    loss, metrics = loss_fn(wrapped, _to_device(batch, info.device))
                    loss.backward()
                    metrics = dict(metrics)
                    if config.grad_clip:
                        metrics["grad_norm"] = nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                    lr = optimizer.param_groups[0]["lr"]
                    optimizer.step()
                    scheduler.step()
                    step += 1
                    if ema is not None:
                        ema.update(model, step)
                    window.add(loss, metrics)
                    bar.update(1)

                    if step % config.log_every == 0:
                        means = ddp.all_reduce_mean(window.means(), info.device)
                        seconds = time.perf_counter() - window.start
                        last = {"step": step, "epoch": round(step / batches_per_epoch, 4)}
                        last |= {k: _json_number(v) for k, v in means.items()}
                        last |= {
                            "lr": float(lr),
                            "elapsed_s": round(elapsed_before + time.perf_counter() - t_start, 3),
                            "samples_per_s": round(window.steps * global_batch / max(seconds, 1e-9), 2),
                            "time": round(time.time(), 3),
                        }
                        if info.is_main:
                            emit(last)
                            bar.set_postfix(loss=f"{means['loss']:.4g}")
                        window = _Window()
                    if eval_fn is not None and config.eval_every and step % config.eval_every == 0:
                        if info.is_main:
                            model.eval()
                            with _rng_preserved(), torch.no_grad():
                                results = eval_fn(model)
                            model.train()
                            emit(
                                {
                                    "step": step,
                                    **{f"eval/{k}": _json_number(float(v)) for k, v in results.items()},
                                }
                            )
                        ddp.barrier()
                    interrupted = ddp.any_process(stop.requested, info.device)
                    every = config.checkpoint_every
                    if interrupted or step == config.max_steps or (every and step % every == 0):
                        t_save = time.perf_counter()
                        _save_checkpoint(ckpt, model, optimizer, scheduler, step, extra_state(), info, ema)
                        saved_step = step
                        window.start += time.perf_counter() - t_save  # keep saving out of samples/s
                    if interrupted:
                        raise KeyboardInterrupt
                    if step >= config.max_steps:
                        break
    except KeyboardInterrupt:
        if info.is_main:
            logger.warning(
                "interrupted at step %d; the last checkpoint is step %d in %s", step, saved_step, ckpt
            )
        raise
    finally:
        bar.close()
    return TrainResult(step=step, metrics=last, checkpoint=ckpt, ema=ema)
