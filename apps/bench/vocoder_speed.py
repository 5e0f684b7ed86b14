"""Vocoder speed: vaudio's DiffWave against the reference implementation (lmnt-com/diffwave 0.1.7), 6 fast steps.

Both synthesise the same mel, side by side in one process, with the same thread count, under
`torch.inference_mode()`, in float32:

- `vaudio`: `vaudio.vocoder.synthesis.vocode_mel(..., steps=6)`, i.e. `process.sample(model, mel, "fast")`:
  DiffWave's 6-step fractional fast schedule through vcore's `sample_ddpm`, the frame-rate conditioner computed
  once per mel (PriorGrad prior if the model has one). Also timed under bfloat16 autocast where bf16 is native
  (`vcore.precision.use_bf16("auto", cpu)`); the faster of the two is vaudio's figure, both are reported.
- `lmnt`: the PyPI package `diffwave`'s `DiffWave` with the same residual configuration (channels, layers,
  dilation cycle, 80 mels, training schedule linspace(1e-4, 0.05, 50)), hop 256 (its upsampler is fixed at
  16 x 16), run by the loop of its `inference.predict(..., fast_sampling=True)` reproduced below (`lmnt_fast`:
  the fractional steps T by interpolation, the ancestral update and the per-step clamp) on the same 6
  inference betas [0.0001, 0.001, 0.01, 0.05, 0.2, 0.5]. Its weights are random: timing only.

The mel is computed from real speech: pysptk's `arctic_a0007.wav` (4 s, 16 kHz) tiled to `--seconds` and
passed through `vaudio.features.mel.mel_spectrogram`. The real-time factor is synthesis seconds / audio
seconds. Each contender runs once to warm up, then best of 3 rounds that alternate the contenders.
Targets: vaudio RTF <= 1.0 on 2 cores, and lmnt seconds / vaudio seconds >= 1.5.

Weights: `--checkpoint` (loaded as `vaudio vocode --checkpoint` does), else the shipped default vocoder if
one ships, else a randomly initialised `DiffWaveConfig()` ("untrained weights, timing only"); the time does
not depend on the weights.

`PYTHONPATH=apps python -m bench.vocoder_speed --threads 2 [--checkpoint DIR] [--seconds 10]` prints JSON.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from bench.timing import time_interleaved

SPEECH = "arctic_a0007.wav"  # in pysptk's example_audio_data
FAST_STEPS = 6
LMNT_HOP = 256  # lmnt's SpectrogramUpsampler: two 16x transposed convolutions
TARGET_RTF = 1.0
TARGET_RATIO = 1.5
UNTRAINED = "untrained weights, timing only"


def speech_path() -> Path:
    """pysptk's example recording (found without importing pysptk)."""
    spec = importlib.util.find_spec("pysptk")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("pysptk is not installed: its arctic_a0007.wav is the benchmark's speech")
    return Path(spec.origin).parent / "example_audio_data" / SPEECH


def speech_mel(seconds: float, config: Any) -> Tensor:
    """Normalised log-mel [n_mels, frames] of arctic_a0007 tiled to `seconds` (`config` a MelConfig)."""
    from vaudio.features.mel import mel_spectrogram
    from vaudio.io.audio import load_audio

    speech = load_audio(speech_path(), config.sample_rate)
    n = max(config.hop_length, round(seconds * config.sample_rate))
    tiled = np.tile(speech, -(-n // speech.size))[:n]
    return mel_spectrogram(torch.from_numpy(np.ascontiguousarray(tiled)), config)


def load_vaudio(checkpoint: Path | None) -> tuple[Any, str]:
    """(DiffWave, where its weights come from): `checkpoint`, else the shipped default, else random."""
    from vaudio.pretrained import VOCODER_DIR
    from vaudio.vocoder.choice import load_diffwave
    from vaudio.vocoder.diffwave import DiffWave, DiffWaveConfig

    if checkpoint is not None:
        return load_diffwave(checkpoint), f"checkpoint {checkpoint}"
    if (VOCODER_DIR / "config.json").is_file():
        return load_diffwave(VOCODER_DIR), "the shipped default vocoder"
    torch.manual_seed(0)
    return DiffWave(DiffWaveConfig()), UNTRAINED


def lmnt_model(config: Any) -> Any:
    """lmnt's `DiffWave` with the residual configuration and schedules of a vaudio `DiffWaveConfig`."""
    from diffwave.model import DiffWave as LmntDiffWave
    from diffwave.params import AttrDict
    from diffwave.params import params as base_params

    from vcore.schedules.fractional import DIFFWAVE_FAST_BETAS

    if config.mel.hop_length != LMNT_HOP:
        raise ValueError(
            f"lmnt's upsampler is fixed at hop {LMNT_HOP}; the model's mel hop is {config.mel.hop_length}"
        )
    params = AttrDict(base_params).override(
        {
            "residual_channels": config.residual_channels,
            "residual_layers": config.residual_layers,
            "dilation_cycle_length": config.dilation_cycle,
            "n_mels": config.mel.n_mels,
            "hop_samples": LMNT_HOP,
            "sample_rate": config.mel.sample_rate,
            "noise_schedule": np.linspace(config.beta_start, config.beta_end, config.num_steps).tolist(),
            "inference_noise_schedule": list(DIFFWAVE_FAST_BETAS),
        }
    )
    return LmntDiffWave(params).eval()


def lmnt_fast_times(params: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(T, beta, alpha, alpha_cum) of lmnt's fast sampling, as `diffwave/inference.py` computes them."""
    # lmnt's notation: talpha/training_noise_schedule are the paper's alpha/beta, alpha/beta its gamma/eta.
    training_noise_schedule = np.array(params.noise_schedule)
    inference_noise_schedule = np.array(params.inference_noise_schedule)
    talpha = 1 - training_noise_schedule
    talpha_cum = np.cumprod(talpha)
    beta = inference_noise_schedule
    alpha = 1 - beta
    alpha_cum = np.cumprod(alpha)
    steps = []
    for s in range(len(inference_noise_schedule)):
        for t in range(len(training_noise_schedule) - 1):
            if talpha_cum[t + 1] <= alpha_cum[s] <= talpha_cum[t]:
                twiddle = (talpha_cum[t] ** 0.5 - alpha_cum[s] ** 0.5) / (
                    talpha_cum[t] ** 0.5 - talpha_cum[t + 1] ** 0.5
                )
                steps.append(t + twiddle)
                break
    return np.array(steps, dtype=np.float32), beta, alpha, alpha_cum


def lmnt_fast(model: Any, spectrogram: Tensor) -> Tensor:
    """lmnt-com/diffwave 0.1.7 `inference.predict(spectrogram, fast_sampling=True)` on a loaded model (CPU).

    The loop is theirs line for line (their global RNG, their per-step clamp to [-1, 1]); only the model
    loading and the unused `noise_scale` are left out.
    """
    T, beta, alpha, alpha_cum = lmnt_fast_times(model.params)
    if len(spectrogram.shape) == 2:
        spectrogram = spectrogram.unsqueeze(0)
    audio = torch.randn(spectrogram.shape[0], model.params.hop_samples * spectrogram.shape[-1])
    for n in range(len(alpha) - 1, -1, -1):
        c1 = 1 / alpha[n] ** 0.5
        c2 = beta[n] / (1 - alpha_cum[n]) ** 0.5
        audio = c1 * (audio - c2 * model(audio, spectrogram, torch.tensor([T[n]])).squeeze(1))
        if n > 0:
            noise = torch.randn_like(audio)
            sigma = ((1.0 - alpha_cum[n - 1]) / (1.0 - alpha_cum[n]) * beta[n]) ** 0.5
            audio += sigma * noise
        audio = torch.clamp(audio, -1.0, 1.0)
    return audio


def _check_same_schedule(model: Any, lmnt: Any) -> None:
    """lmnt's fractional steps equal vaudio's fast grid times (both run the same inference schedule)."""
    from vaudio.vocoder.process import time_grid

    ours = time_grid(model, "fast").t.flip(0).double()
    theirs = torch.from_numpy(lmnt_fast_times(lmnt.params)[0]).double()
    if ours.shape != theirs.shape or float((ours - theirs).abs().max()) > 1e-4:
        raise AssertionError(f"inference steps differ: vaudio {ours.tolist()} vs lmnt {theirs.tolist()}")


def run(
    seconds: float = 10.0, threads: int = 2, checkpoint: Path | None = None, rounds: int = 3
) -> dict[str, Any]:
    """Seconds and real-time factors of vaudio (fp32, bf16 where native) and lmnt on one mel; see the module doc."""
    if importlib.util.find_spec("diffwave") is None:
        return {"skipped": "the reference package is not installed: pip install --no-deps diffwave==0.1.7"}
    from vaudio.vocoder.choice import VocoderChoice
    from vaudio.vocoder.synthesis import vocode_mel
    from vcore.precision import use_bf16

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model, weights = load_vaudio(checkpoint)
        model = model.float().eval()
        config = model.config
        lmnt = lmnt_model(config).float()
        _check_same_schedule(model, lmnt)
        mel = speech_mel(seconds, config.mel)
        audio_seconds = mel.shape[-1] * config.mel.hop_length / config.mel.sample_rate
        choice = VocoderChoice("diffwave", model, weights)
        bf16 = use_bf16("auto", torch.device("cpu"))

        def vaudio_fp32() -> object:
            return vocode_mel(choice, mel, steps=FAST_STEPS, seed=0)

        def vaudio_bf16() -> object:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return vocode_mel(choice, mel, steps=FAST_STEPS, seed=0)

        def reference() -> object:
            return lmnt_fast(lmnt, mel)

        contenders = {"vaudio_fp32": vaudio_fp32, "lmnt": reference}
        if bf16:
            contenders["vaudio_bf16"] = vaudio_bf16
        torch.manual_seed(0)  # lmnt's loop draws from the global generator
        with torch.inference_mode():
            timed = time_interleaved(contenders, rounds=rounds, calls_per_round=1, warmup=1, statistic=min)
    finally:
        torch.set_num_threads(previous_threads)

    fp32, lmnt_s, bf16_s = timed["vaudio_fp32"], timed["lmnt"], timed.get("vaudio_bf16")
    best = "bf16" if bf16_s is not None and bf16_s < fp32 else "fp32"
    vaudio_s = min(fp32, bf16_s) if bf16_s is not None else fp32
    secs = {"vaudio_fp32": fp32, "vaudio_bf16": bf16_s, "lmnt": lmnt_s}
    rtf = {name: None if s is None else s / audio_seconds for name, s in secs.items()}
    vaudio_params = sum(p.numel() for p in model.parameters())
    lmnt_params = sum(p.numel() for p in lmnt.parameters())
    return {
        "case": (
            f"{audio_seconds:.2f} s of speech, {FAST_STEPS} fast steps, {config.residual_channels} ch x "
            f"{config.residual_layers} layers (dilation cycle {config.dilation_cycle}), hop {config.mel.hop_length}"
        ),
        "audio_seconds": audio_seconds,
        "threads": threads,
        "weights": weights,
        "configuration": {
            "residual_channels": config.residual_channels,
            "residual_layers": config.residual_layers,
            "dilation_cycle": config.dilation_cycle,
            "n_mels": config.mel.n_mels,
            "hop_length": config.mel.hop_length,
            "sample_rate": config.mel.sample_rate,
            "frames": int(mel.shape[-1]),
            "train_betas": [config.beta_start, config.beta_end, config.num_steps],
            "inference_betas": list(lmnt.params.inference_noise_schedule),
            "prior": config.prior,
            "vaudio_parameters": vaudio_params,
            "lmnt_parameters": lmnt_params,
            "speech": f"pysptk {SPEECH}, tiled",
            "timing": f"warm-up + best of {rounds} interleaved rounds, torch.inference_mode()",
        },
        "bf16_native": bf16,
        "seconds": secs,
        "rtf": rtf,
        "vaudio_precision": best,
        "vaudio_seconds": vaudio_s,
        "vaudio_rtf": vaudio_s / audio_seconds,
        "lmnt_seconds": lmnt_s,
        "lmnt_rtf": lmnt_s / audio_seconds,
        "ratio": lmnt_s / vaudio_s,
        "ratio_fp32": lmnt_s / fp32,
        "targets": {"vaudio_rtf": TARGET_RTF, "ratio": TARGET_RATIO},
        "meets_targets": {
            "vaudio_rtf": vaudio_s / audio_seconds <= TARGET_RTF,
            "ratio": lmnt_s / vaudio_s >= TARGET_RATIO,
        },
    }


def rows(result: dict[str, Any]) -> list[str]:
    """The Markdown rows of `run`'s result."""
    if "skipped" in result:
        return ["| vocoder speed vs lmnt DiffWave |", "|---|", f"| skipped: {result['skipped']} |"]
    secs, rtf = result["seconds"], result["rtf"]
    bf16 = (
        f"{secs['vaudio_bf16']:.2f} ({rtf['vaudio_bf16']:.2f})" if secs["vaudio_bf16"] is not None else "n/a"
    )
    return [
        f"| vocoder, {FAST_STEPS} fast steps | audio s | vaudio fp32 s (RTF) | vaudio bf16 s (RTF) "
        "| lmnt s (RTF) | lmnt / vaudio | target |",
        "|---|---|---|---|---|---|---|",
        f"| {result['configuration']['residual_channels']} ch x {result['configuration']['residual_layers']} "
        f"layers, {result['weights']}, {result['threads']} threads | {result['audio_seconds']:.1f} "
        f"| {secs['vaudio_fp32']:.2f} ({rtf['vaudio_fp32']:.2f}) | {bf16} "
        f"| {secs['lmnt']:.2f} ({rtf['lmnt']:.2f}) | {result['ratio']:.2f}x ({result['vaudio_precision']}; "
        f"fp32 {result['ratio_fp32']:.2f}x) | RTF <= {TARGET_RTF:g}, >= {TARGET_RATIO:g}x |",
    ]


def main(argv: list[str] | None = None) -> int:
    """Print `run`'s result as JSON (exit 2 with one line for a checkpoint that cannot be loaded)."""
    from vcore.errors import UserError

    parser = argparse.ArgumentParser(
        prog="bench.vocoder_speed", description="vaudio DiffWave vs lmnt DiffWave synthesis speed"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint", type=Path, default=None, help="a vaudio DiffWave checkpoint folder")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of audio to synthesise")
    args = parser.parse_args(argv)
    try:
        result = run(seconds=args.seconds, threads=args.threads, checkpoint=args.checkpoint)
    except UserError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
