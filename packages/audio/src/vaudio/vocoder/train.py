r"""Training a DiffWave vocoder (`vaudio.vocoder.diffwave`) on corpus folders with vcore's resumable loop.

Objective: the eps mean-squared error on whitened audio (`vaudio.vocoder.process.loss`), DiffWave's
Alg. 1 (Kong et al. 2021) with PriorGrad's prior by default (Lee et al. 2022). AdamW, lr 2e-4 (lmnt's
DiffWave), gradient-norm clip 1.0, an exponential moving average of the weights (decay 0.999) that is
what gets exported. With ``precision="auto"`` the network runs under bfloat16 autocast where bf16 matmuls
are native (AMX); parameters, optimizer state and the loss stay float32.

PriorGrad's gain (`vaudio.vocoder.prior.fit_prior_gain`) is fitted on the training clips before the first
step and stored in the model's config; a resumed run keeps it, even if the corpus has changed since.

Every `eval_every` steps (on the raw, not the averaged, weights) the loop logs, on up to four validation
clips: `val_loss` (the objective with a fixed draw), `val_vlb` (the full 50-term bound, nats per sample,
on the first 2 s of two clips) and `val_mel_l1` (mean |mel(x_hat) - mel| of 6-step fast samples), and
writes those samples as wav with a PNG of their mels beside the originals' into
``<run>/validation/step-<N>/``.

Layout: the run folder (default ``<out>.run``) holds vcore's ``checkpoint/`` and ``metrics.jsonl`` (resume
with ``resume=True``); at the end the model alone (config.json + model.safetensors, averaged weights) is
written to ``out`` atomically.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from vaudio.features.mel import MelConfig, mel_spectrogram
from vaudio.io.audio import save_audio
from vaudio.vocoder import process
from vaudio.vocoder.dataset import Clip, CropDataset, corpus_files, load_clips
from vaudio.vocoder.diffwave import DiffWave, DiffWaveConfig
from vaudio.vocoder.prior import fit_prior_gain
from vcore.errors import UserError
from vcore.io.checkpoint import read_config
from vcore.precision import use_bf16
from vcore.train import TrainConfig, train
from vcore.train.loop import CHECKPOINT_DIR, LossFn

logger = logging.getLogger(__name__)

VAL_CLIPS = 4
VAL_SECONDS = 2.0


@dataclass
class TrainOptions:
    """What `vaudio train vocoder` takes (see the command's help)."""

    data: list[Path]
    out: Path
    run_dir: Path | None = None
    resume: bool = False
    max_steps: int = 100000
    batch_size: int = 16
    crop_frames: int = 32
    residual_channels: int = 32
    residual_layers: int = 12
    dilation_cycle: int = 6
    prior: str = "priorgrad"
    lr: float = 2e-4
    seed: int = 0
    device: str = "cpu"
    quiet: bool = False
    checkpoint_every: int = 250
    log_every: int = 10
    eval_every: int = 1000
    ema_decay: float = 0.999
    precision: str = "auto"
    mel: MelConfig = field(default_factory=MelConfig)

    def run_folder(self) -> Path:
        return self.run_dir if self.run_dir is not None else self.out.with_name(self.out.name + ".run")


def make_loss_fn(bf16: bool) -> LossFn:
    """The eps objective on a batch of (audio, mel) crops, under bf16 autocast when `bf16`."""

    def loss_fn(model: nn.Module, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, dict[str, float]]:
        audio, mel = batch
        with torch.autocast(audio.device.type, dtype=torch.bfloat16, enabled=bf16):
            value = process.loss(model, audio, mel)  # type: ignore[arg-type]
        return value, {}

    return loss_fn


def _first_seconds(clip: Clip, config: MelConfig, seconds: float) -> tuple[Tensor, Tensor]:
    frames = min(clip.mel.shape[-1], max(1, int(seconds * config.sample_rate) // config.hop_length))
    return clip.audio[: frames * config.hop_length], clip.mel[:, :frames]


def save_mel_png(path: Path, mels: dict[str, Tensor], config: MelConfig) -> None:
    """Mels stacked top to bottom with their titles (matplotlib, Agg), written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vcore.io.atomic import atomic_file

    fig, axes = plt.subplots(len(mels), 1, figsize=(8, 2.2 * len(mels)), squeeze=False)
    seconds = config.hop_length / config.sample_rate
    for ax, (title, mel) in zip(axes[:, 0], mels.items(), strict=True):
        ax.imshow(
            mel.numpy(),
            origin="lower",
            aspect="auto",
            vmin=0,
            vmax=1,
            extent=(0, mel.shape[-1] * seconds, 0, mel.shape[0]),
        )
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("mel bin")
    axes[-1, 0].set_xlabel("seconds")
    fig.tight_layout()
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)


def make_eval_fn(val: list[Clip], config: MelConfig, run: Path, steps: dict[str, int]) -> Any:
    """Validation metrics, samples and mel PNGs (see the module docstring)."""

    def eval_fn(model: nn.Module) -> dict[str, float]:
        assert isinstance(model, DiffWave)
        generator = torch.Generator().manual_seed(1234)
        pairs = [_first_seconds(c, config, VAL_SECONDS) for c in val[:VAL_CLIPS]]
        losses = [float(process.loss(model, a[None], m[None], generator)) for a, m in pairs]
        vlbs = [float(process.vlb(model, a[None], m[None], generator)[0]) for a, m in pairs[:2]]
        folder = run / "validation" / f"step-{steps['step']:07d}"
        folder.mkdir(parents=True, exist_ok=True)
        l1 = []
        for clip, (audio, mel) in zip(val, pairs[:2], strict=False):
            fake = process.sample(model, mel, "fast", generator=generator)
            fake_mel = mel_spectrogram(fake, config)
            l1.append(float((fake_mel - mel).abs().mean()))
            save_audio(folder / f"{clip.name}.wav", fake.numpy(), config.sample_rate)
            reference = run / "validation" / f"{clip.name}.original.wav"
            if not reference.is_file():
                save_audio(reference, audio.numpy(), config.sample_rate)
            save_mel_png(
                folder / f"{clip.name}.png", {"original": mel, "DiffWave, 6 steps": fake_mel}, config
            )
        return {
            "val_loss": sum(losses) / len(losses),
            "val_vlb": sum(vlbs) / len(vlbs),
            "val_mel_l1": sum(l1) / len(l1),
        }

    return eval_fn


def check_options(options: TrainOptions) -> None:
    for name in (
        "max_steps",
        "batch_size",
        "crop_frames",
        "residual_channels",
        "residual_layers",
        "dilation_cycle",
    ):
        if getattr(options, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(options, name)}")
    if options.prior not in ("priorgrad", "standard"):
        raise UserError(f"--prior must be priorgrad or standard, got {options.prior!r}")
    if not 0.0 <= options.ema_decay < 1.0:
        raise UserError(f"--ema-decay must be in [0, 1), got {options.ema_decay}")
    if not options.data:
        raise UserError("give at least one --data folder")


def build_model(options: TrainOptions, clips: list[Clip]) -> DiffWave:
    config = DiffWaveConfig(
        mel=options.mel,
        residual_channels=options.residual_channels,
        residual_layers=options.residual_layers,
        dilation_cycle=options.dilation_cycle,
        prior=options.prior,
    )
    if options.prior == "priorgrad":
        saved = options.run_folder() / CHECKPOINT_DIR
        if options.resume and (saved / "config.json").is_file():
            # a resumed run keeps its prior gain (part of the model) even if the corpus changed since
            gain = float(read_config(saved)["config"].get("prior_gain", 1.0))
        else:
            gain = round(fit_prior_gain([c.audio for c in clips], [c.mel for c in clips], options.mel), 6)
        config = dataclasses.replace(config, prior_gain=gain)
    return DiffWave(config)


def run_training(options: TrainOptions) -> dict[str, Any]:
    """Train, export the averaged model to `options.out`, return a summary (steps, metrics, wall time)."""
    check_options(options)
    bf16 = use_bf16(options.precision, torch.device(options.device))
    files = [f for folder in options.data for f in corpus_files(folder, "train")]
    val_files = [f for folder in options.data for f in corpus_files(folder, "val")]
    if not files:
        raise UserError(f"no training clips in {', '.join(map(str, options.data))}")
    clips = load_clips(files, options.mel)
    val = load_clips(val_files, options.mel) if val_files else clips[:VAL_CLIPS]
    dataset = CropDataset(clips, options.mel, options.crop_frames)
    torch.manual_seed(options.seed)  # the initial weights
    model = build_model(options, clips)
    run = options.run_folder()
    config = TrainConfig(
        out_dir=str(run),
        max_steps=options.max_steps,
        batch_size=min(options.batch_size, len(dataset)),
        lr=options.lr,
        grad_clip=1.0,
        checkpoint_every=options.checkpoint_every,
        log_every=options.log_every,
        eval_every=options.eval_every,
        seed=options.seed,
        device=options.device,
        resume=options.resume,
        progress=not options.quiet,
        ema_decay=options.ema_decay,
    )
    logger.info(
        "training DiffWave on %.1f min of audio (%d clips, %d val), %d x %d channels, %.3fM parameters, "
        "prior %s, %s",
        dataset.seconds() / 60,
        len(clips),
        len(val),
        options.residual_layers,
        options.residual_channels,
        sum(p.numel() for p in model.parameters()) / 1e6,
        options.prior,
        "bf16 autocast" if bf16 else "fp32",
    )
    steps = {"step": 0}

    def track(record: dict[str, Any]) -> None:
        steps["step"] = int(record["step"])

    start = time.perf_counter()
    result = train(
        model,
        make_loss_fn(bf16),
        dataset,
        config,
        eval_fn=make_eval_fn(val, options.mel, run, steps),
        callbacks=[track],
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
        "train_minutes": dataset.seconds() / 60,
    }
