r"""Training EDM (`vmol.model.edm`) on a `vmol data qm9` folder with vcore's resumable loop.

Objective: EDM's l2 loss (eps mean-squared error per dimension, t ~ U{0..T}); logged as `loss`. The atom
count prior p(N) is the histogram of the training molecules' atom counts, stored in the model's config.
EDM trains with AdamW, lr 1e-4, batch 64, gradient clipping; here lr defaults to 1e-4 with a norm clip
of 1.0 (EDM clips adaptively at 1.5x the recent gradient-norm mean plus 2 std). Like EDM, an exponential
moving average of the weights is kept (`vcore.train.ema`; decay 0.999 by default, EDM's QM9 runs use
0.9999 over far more steps) and is what gets exported and sampled from.

Arithmetic: with ``precision="auto"`` the network runs under bfloat16 autocast where bf16 matmuls are native
(AMX here: about 1.8x faster steps at 6 x 128); parameters, optimizer state and the loss stay float32.

Warm start (``init``): the weights, architecture and feature scaling of a trained model (its weight average
when it is a run checkpoint; ``"default"`` names the shipped one), with the atom-count prior p(N) recounted on
the new data. The optimizer starts afresh, so a short learning-rate warmup (``warmup_steps``) is advised.

Layout: the run folder (default ``<out>.run``) holds vcore's ``checkpoint/`` and ``metrics.jsonl`` (resume
from it with ``resume=True``); at the end the model alone (config.json + model.safetensors, the averaged
weights) is written to ``out`` atomically.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from vcore.errors import UserError
from vcore.precision import use_bf16
from vcore.train import CHECKPOINT_DIR, TrainConfig, train
from vcore.train.loop import LossFn
from vmol.io.molecules import Molecule, read_npz
from vmol.model.batch import MoleculeDataset, check_types, size_chunks
from vmol.model.edm import EDM, EDMConfig

logger = logging.getLogger(__name__)


@dataclass
class TrainOptions:
    """What `vmol train edm` takes (see the command's help)."""

    data: Path
    out: Path
    run_dir: Path | None = None
    resume: bool = False
    max_steps: int = 10000
    batch_size: int = 64
    layers: int | None = None  # None: 4, or the init model's
    hidden: int | None = None  # None: 64, or the init model's
    timesteps: int | None = None  # None: 500, or the init model's
    lr: float = 1e-4
    lr_schedule: str = "constant"  # constant, or cosine / linear decay to 0 at max_steps
    warmup_steps: int = 0
    init: Path | None = None  # warm start from this model ("default": the shipped one)
    seed: int = 0
    device: str = "cpu"
    quiet: bool = False
    checkpoint_every: int = 250
    log_every: int = 10
    ema_decay: float = 0.999
    size_chunks: int = 4  # the batch is cut into this many size-sorted parts (less padding)
    precision: str = "auto"  # bf16 autocast where native ("auto"), "bf16" or "fp32"

    def run_folder(self) -> Path:
        return self.run_dir if self.run_dir is not None else self.out.with_name(self.out.name + ".run")


def load_train(data: Path) -> list[Molecule]:
    """The training molecules of a dataset folder (`train.npz`)."""
    if not data.is_dir():
        raise UserError(f"{data}: no such dataset folder")
    path = data / "train.npz"
    if not path.is_file():
        raise UserError(f"{data}: not a vmol dataset folder (missing train.npz; see `vmol data qm9`)")
    molecules = read_npz(path)
    if not molecules:
        raise UserError(f"{path}: no molecules")
    return molecules


def n_nodes_counts(molecules: list[Molecule]) -> tuple[int, ...]:
    """counts[n] = molecules with n atoms, n = 0..max."""
    hist = Counter(len(m) for m in molecules)
    return tuple(hist.get(n, 0) for n in range(max(hist) + 1))


def make_loss_fn(bf16: bool, chunks: int = 1) -> LossFn:
    """EDM's l2 loss, the mean over the batch's molecules, computed on `chunks` size-sorted parts of the batch
    (`vmol.model.batch.size_chunks`: less padding, the same per-molecule losses); the network under
    bfloat16 autocast when `bf16`."""

    def loss_fn(model: nn.Module, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        device = batch["positions"].device.type
        total = batch["positions"].new_zeros(())
        for part in size_chunks(batch, chunks):
            with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
                loss = model(part["positions"], part["one_hot"], part["charges"], part["node_mask"])
            total = total + loss.float().sum()
        return total / batch["positions"].shape[0], {}

    return loss_fn


ARCHITECTURE_DEFAULTS = {"layers": 4, "hidden": 64, "timesteps": 500}


def load_init(init: Path) -> EDM:
    """The model to warm-start from: a checkpoint folder, or the shipped default for ``default``."""
    from vmol.commands.checkpoint import load_edm

    if not init.exists():
        if str(init) != "default":
            raise UserError(f"--init {init}: no such checkpoint folder")
        return load_edm(None)
    return load_edm(init)


def build_model(options: TrainOptions, molecules: list[Molecule]) -> EDM:
    """The model to train, with p(N) counted on `molecules`.

    Resuming a run: the architecture of its checkpoint (the loop then loads its weights). Otherwise with
    `init`: a copy of that model. Otherwise a fresh EDM of the options' sizes. Sizes given explicitly must
    agree with the checkpoint's or the init model's.
    """
    asked = {name: getattr(options, name) for name in ARCHITECTURE_DEFAULTS}
    counts = n_nodes_counts(molecules)
    saved = options.run_folder() / CHECKPOINT_DIR
    if options.resume and saved.is_dir():
        source, flag = EDM.from_pretrained(saved), "run's checkpoint"
    elif options.init is not None:
        source, flag = load_init(options.init), "--init model"
    else:
        size = {name: ARCHITECTURE_DEFAULTS[name] if v is None else v for name, v in asked.items()}
        config = EDMConfig(
            hidden=size["hidden"], layers=size["layers"], timesteps=size["timesteps"], n_nodes_counts=counts
        )
        check_types(molecules, config.atom_types, str(options.data / "train.npz"))
        return EDM(config)
    for name, value in asked.items():
        if value is not None and value != getattr(source.config, name):
            raise UserError(
                f"--{name} {value} differs from the {flag}'s {getattr(source.config, name)}; "
                f"leave it out to keep the {flag}'s"
            )
    config = replace(source.config, n_nodes_counts=counts)
    check_types(molecules, config.atom_types, str(options.data / "train.npz"))
    model = EDM(config)
    model.load_state_dict(source.state_dict())
    return model


def run_training(options: TrainOptions) -> dict[str, Any]:
    """Train, export the model to `options.out`, return a summary (steps, metrics, wall time)."""
    for name in ("layers", "hidden", "timesteps", "max_steps", "batch_size"):
        if getattr(options, name) is not None and getattr(options, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(options, name)}")
    if options.lr_schedule not in ("constant", "cosine", "linear"):
        raise UserError(f"--lr-schedule must be constant, cosine or linear, got {options.lr_schedule!r}")
    if options.warmup_steps < 0:
        raise UserError(f"--warmup-steps must be non-negative, got {options.warmup_steps}")
    if options.size_chunks < 1:
        raise UserError(f"--size-parts must be at least 1, got {options.size_chunks}")
    if not 0.0 <= options.ema_decay < 1.0:
        raise UserError(f"--ema-decay must be in [0, 1), got {options.ema_decay}")
    bf16 = use_bf16(options.precision, torch.device(options.device))
    molecules = load_train(options.data)
    torch.manual_seed(options.seed)  # the initial weights
    model = build_model(options, molecules)
    dataset = MoleculeDataset(molecules, model.config.atom_types)
    run = options.run_folder()
    config = TrainConfig(
        out_dir=str(run),
        max_steps=options.max_steps,
        batch_size=min(options.batch_size, len(molecules)),
        lr=options.lr,
        lr_schedule=options.lr_schedule,  # type: ignore[arg-type]  # checked above
        warmup_steps=options.warmup_steps,
        grad_clip=1.0,
        checkpoint_every=options.checkpoint_every,
        log_every=options.log_every,
        seed=options.seed,
        device=options.device,
        resume=options.resume,
        progress=not options.quiet,
        ema_decay=options.ema_decay,
    )
    logger.info(
        "training EDM on %d molecules, %d layers x %d, T = %d, %.3fM parameters, %s%s",
        len(molecules),
        model.config.layers,
        model.config.hidden,
        model.config.timesteps,
        sum(p.numel() for p in model.parameters()) / 1e6,
        "bf16 autocast" if bf16 else "fp32",
        f", warm start from {options.init}" if options.init is not None else "",
    )
    start = time.perf_counter()
    result = train(
        model, make_loss_fn(bf16, options.size_chunks), dataset, config, collate_fn=dataset.collate
    )
    if result.ema is not None:
        result.ema.copy_to(model)
    model.cpu().eval().save_pretrained(options.out)
    return {
        "steps": result.step,
        "metrics": result.metrics,
        "wall_s": time.perf_counter() - start,
        "out": str(options.out),
        "run_dir": str(run),
        "train_molecules": len(molecules),
    }
