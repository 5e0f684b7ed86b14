r"""Training the acoustic model (`vaudio.acoustic.model`) on a songs corpus with vcore's resumable loop.

Each step takes `batch_size` phrases, encodes their phones over the whole phrase, and trains the
auxiliary decoder and the denoiser on one random crop of `crop_frames` frames per phrase (the decoder's
attention is banded, the denoiser convolutional, so crops and whole songs look alike to both):

    loss = L1(m_aux, m) + L_simple (x0 by default)        (`vaudio.acoustic.diffusion`)

with the diffusion term Min-SNR weighted (gamma 5 by default: `diffusion_loss`), which puts the
x0 network's effort on the low-noise steps shallow diffusion uses.

AdamW, lr 4e-4 with 200 warmup steps, gradient-norm clip 1.0, an exponential moving average of the
weights (decay 0.998) that is what gets exported. Every `eval_every` steps the loop logs `val_l1` (the
auxiliary decoder's mean |m_aux - m| on whole validation phrases), `val_diff` (L_simple with a fixed
draw) and `val_vlb` (the full bound, nats per mel element, on one 128-frame crop).

At the end (`finalize`), the averaged model gets the statistics of the score-to-F0/duration model
(`vaudio.acoustic.pitch`, fitted on the training phrases) and the shallow-diffusion boundary k
(`vaudio.acoustic.boundary`, on the validation phrases) in its config, and is written to `out`. The
run folder (default ``<out>.run``) holds vcore's ``checkpoint/`` and ``metrics.jsonl``; `resume=True`
continues it (the phone inventory then comes from the run's checkpoint).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
from torch import Tensor, nn

from vaudio.acoustic.dataset import ClipDataset, SongClip, collate, load_corpus
from vaudio.acoustic.diffusion import diffusion_loss, vlb
from vaudio.acoustic.model import AcousticConfig, AcousticModel, to_model_scale
from vaudio.acoustic.phones import build_inventory
from vaudio.features.mel import MelConfig
from vcore.bounds.simple import simple_loss
from vcore.diffusion.gaussian import Prediction
from vcore.errors import UserError
from vcore.io.checkpoint import read_config
from vcore.train import CHECKPOINT_DIR, TrainConfig, train

logger = logging.getLogger(__name__)


@dataclass
class TrainOptions:
    """What `vaudio train acoustic` takes (see the command's help)."""

    data: list[Path]
    out: Path
    run_dir: Path | None = None
    resume: bool = False
    max_steps: int = 4000
    batch_size: int = 6
    crop_frames: int = 160
    hidden: int = 192
    filter_size: int = 384
    encoder_layers: int = 4
    decoder_layers: int = 4
    denoiser_channels: int = 128
    denoiser_layers: int = 20
    lr: float = 4e-4
    warmup_steps: int = 200
    seed: int = 0
    device: str = "cpu"
    quiet: bool = False
    checkpoint_every: int = 100
    log_every: int = 10
    eval_every: int = 500
    ema_decay: float = 0.998
    limit: int | None = None
    init: Path | None = None
    prediction: str = "x0"
    min_snr_gamma: float = 5.0
    mel: MelConfig = field(default_factory=MelConfig)

    def run_folder(self) -> Path:
        return self.run_dir if self.run_dir is not None else self.out.with_name(self.out.name + ".run")


def crop(batch: dict[str, Tensor], cond: Tensor, size: int) -> tuple[Tensor, Tensor]:
    """One random crop per item (global torch RNG): (condition [B, C, H], mel [B, n_mels, C])."""
    frames = batch["frames"]
    size = int(min(size, int(frames.min())))
    starts = (torch.rand(frames.shape[0]) * (frames - size + 1).float()).long()
    index = starts[:, None] + torch.arange(size)[None]
    cond_c = cond.gather(1, index[..., None].expand(-1, -1, cond.shape[-1]).to(cond.device))
    mel_c = batch["mel"].gather(2, index[:, None, :].expand(-1, batch["mel"].shape[1], -1).to(cond.device))
    return cond_c, mel_c


def loss_fn(size: int, min_snr_gamma: float = 0.0) -> Any:
    def compute(model: nn.Module, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        assert isinstance(model, AcousticModel)
        cond, _ = model.encode(batch["phones"], batch["ph_frames"], batch["midi"], batch["voice"])
        cond_c, mel_c = crop(batch, cond, size)
        x0 = to_model_scale(mel_c)
        no_pad = torch.zeros(cond_c.shape[:2], dtype=torch.bool, device=cond_c.device)
        l1 = (model.aux(cond_c, no_pad) - x0).abs().mean()
        diff = diffusion_loss(model, x0, cond_c.transpose(1, 2), min_snr_gamma).mean()
        return l1 + diff, {"l1": l1.detach(), "diff": diff.detach()}

    return compute


def make_eval_fn(val: ClipDataset) -> Any:
    def eval_fn(model: nn.Module) -> dict[str, float]:
        assert isinstance(model, AcousticModel)
        generator = torch.Generator().manual_seed(1234)
        batch = collate([val[i] for i in range(min(8, len(val)))])
        cond, pad = model.encode(batch["phones"], batch["ph_frames"], batch["midi"], batch["voice"])
        x0 = to_model_scale(batch["mel"])
        valid = (~pad).unsqueeze(1).float()
        l1 = float(((model.aux(cond, pad) - x0).abs() * valid).sum() / (valid.sum() * x0.shape[1]))
        size = min(128, int(batch["frames"].min()))
        c = cond[:2, :size].transpose(1, 2)
        x = x0[:2, :, :size]
        t = torch.randint(0, model.config.num_steps, (x.shape[0],), generator=generator)
        noise = torch.randn(x.shape, generator=generator)
        ab = model.schedule().alphas_cumprod.float()[t]
        from vcore.diffusion.gaussian import q_sample

        pred = model.denoiser(q_sample(x, ab[:, None, None], noise), t.float(), c)
        kind = cast(Prediction, model.config.prediction)
        return {
            "val_l1": l1 / 2.0,  # in [0, 1] mel units
            "val_diff": float(simple_loss(pred, x, noise, ab, kind).mean()),
            "val_vlb": float(vlb(model, x, c, generator).mean()),
        }

    return eval_fn


def _phones_for(options: TrainOptions, clips: list[SongClip]) -> list[str]:
    saved = options.run_folder() / CHECKPOINT_DIR
    if options.resume and (saved / "config.json").is_file():
        return list(read_config(saved)["config"]["phones"])
    phones = build_inventory(c.phones for c in clips)
    if options.init is not None:
        init = read_config(options.init)["config"]["phones"]
        phones = sorted(set(phones) | set(init))
    return phones


def warm_start(model: AcousticModel, init: Path) -> None:
    """Copy the weights of `init` (its weight average when it is a run checkpoint) into `model`: tensors
    of equal shape as they are, the phone embedding row by row by phone name (new phones keep theirs)."""
    from vaudio.acoustic.synth import load_acoustic

    source = load_acoustic(init)
    theirs = source.state_dict()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name == "encoder.embed.weight":
                for phone, row in model.phone_set.index.items():
                    if phone in source.phone_set.index:
                        tensor[row] = theirs[name][source.phone_set.index[phone]]
            elif name in theirs and theirs[name].shape == tensor.shape:
                tensor.copy_(theirs[name])
            else:
                logger.warning("warm start: %s keeps its initial values", name)


def build_config(options: TrainOptions, phones: list[str]) -> AcousticConfig:
    return AcousticConfig(
        phones=phones,
        mel=options.mel,
        hidden=options.hidden,
        filter_size=options.filter_size,
        encoder_layers=options.encoder_layers,
        decoder_layers=options.decoder_layers,
        denoiser_channels=options.denoiser_channels,
        denoiser_layers=options.denoiser_layers,
        prediction=options.prediction,
    )


def finalize(model: AcousticModel, train_clips: list[SongClip], val_clips: list[SongClip]) -> AcousticModel:
    """Fit the score model's statistics and the boundary k into the config (in place; returns the model)."""
    from vaudio.acoustic.boundary import find_boundary
    from vaudio.acoustic.pitch import fit_pitch_model

    model.config.pitch_model = fit_pitch_model([c.segment for c in train_clips]).to_dict()
    result = find_boundary(model, val_clips or train_clips[:16])
    model.config.boundary_k = result["k"]
    model.config.boundary = result
    return model


def export_run(options: TrainOptions) -> dict[str, Any]:
    """Finalize and export the weight average of the run's last checkpoint (after an interrupted run)."""
    from vaudio.acoustic.synth import load_acoustic

    ckpt = options.run_folder() / CHECKPOINT_DIR
    if not (ckpt / "config.json").is_file():
        raise UserError(f"{ckpt}: no run checkpoint to export")
    start = time.perf_counter()
    model = load_acoustic(ckpt)
    clips = load_corpus(options.data, "train", options.mel, options.limit)
    val_clips = load_corpus(options.data, "val", options.mel, 16) or clips[:4]
    finalize(model, clips, val_clips).save_pretrained(options.out)
    state = torch.load(ckpt / "training_state.pt", map_location="cpu", weights_only=True)
    return {
        "steps": int(state["step"]),
        "wall_s": time.perf_counter() - start,
        "out": str(options.out),
        "boundary_k": model.config.boundary_k,
    }


def save_half(model: AcousticModel, folder: Path) -> Path:
    """Save a float16 copy of `model` (the shipped checkpoint: half the size; `load_acoustic` reads it back
    as float32)."""
    import copy

    return copy.deepcopy(model).half().save_pretrained(folder)


def run_training(options: TrainOptions) -> dict[str, Any]:
    """Train, finalize and export the averaged model to `options.out`; return a summary."""
    for name in ("max_steps", "batch_size", "crop_frames", "hidden", "denoiser_channels", "denoiser_layers"):
        if getattr(options, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(options, name)}")
    if not options.data:
        raise UserError("give at least one --data folder")
    clips = load_corpus(options.data, "train", options.mel, options.limit)
    if not clips:
        raise UserError(f"no training phrases in {', '.join(map(str, options.data))}")
    val_clips = load_corpus(options.data, "val", options.mel, 16) or clips[:4]
    torch.manual_seed(options.seed)
    model = AcousticModel(build_config(options, _phones_for(options, clips)))
    if options.init is not None and not (options.resume and (options.run_folder() / CHECKPOINT_DIR).is_dir()):
        warm_start(model, options.init)
    dataset = ClipDataset(clips, model.phone_set, model.config.voices)
    val = ClipDataset(val_clips, model.phone_set, model.config.voices)
    run = options.run_folder()
    config = TrainConfig(
        out_dir=str(run),
        max_steps=options.max_steps,
        batch_size=min(options.batch_size, len(dataset)),
        lr=options.lr,
        warmup_steps=options.warmup_steps,
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
        "training the acoustic model on %.1f min of singing (%d phrases, %d val), %d phones, %.2fM parameters",
        dataset.seconds(options.mel) / 60,
        len(dataset),
        len(val),
        len(model.config.phones),
        sum(p.numel() for p in model.parameters()) / 1e6,
    )
    start = time.perf_counter()
    result = train(
        model,
        loss_fn(options.crop_frames, options.min_snr_gamma),
        dataset,
        config,
        collate_fn=collate,
        eval_fn=make_eval_fn(val),
    )
    if result.ema is not None:
        result.ema.copy_to(model)
    model = finalize(model.cpu().eval(), clips, val_clips)
    model.save_pretrained(options.out)
    return {
        "steps": result.step,
        "metrics": result.metrics,
        "wall_s": time.perf_counter() - start,
        "out": str(options.out),
        "run_dir": str(run),
        "boundary_k": model.config.boundary_k,
        "train_minutes": dataset.seconds(options.mel) / 60,
    }
