"""`vaudio vocode in.wav -o out.wav` (wav -> mel -> wav) and `vaudio mel2wav mel.npy -o out.wav`.

`--method auto` (default) uses the shipped DiffWave only when its held-out PESQ and STOI beat Griffin-Lim's
and otherwise says why and uses Griffin-Lim; `--checkpoint CKPT` uses that DiffWave. Bad input (a missing
or non-audio file, empty or NaN audio, a mel of the wrong shape, a checkpoint of another model) ends with
exit code 2 and one line; the output is written atomically, so nothing is half-written.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from vcore.cli_support import check_seed, configure_logging, exits_2_on_user_error
from vcore.errors import UserError

logger = logging.getLogger(__name__)

MethodOption = Annotated[
    str,
    typer.Option("--method", help="auto (DiffWave only if it beats Griffin-Lim), diffwave or griffin-lim"),
]
StepsOption = Annotated[
    int, typer.Option("--steps", help="DiffWave steps: 6 (fast schedule), 50 (full chain) or N (DDIM)")
]
CheckpointOption = Annotated[Path | None, typer.Option("--checkpoint", help="DiffWave checkpoint folder")]
SeedOption = Annotated[int, typer.Option("--seed", help="seed of the sampler's noise")]
ItersOption = Annotated[int, typer.Option("--gl-iters", help="Griffin-Lim iterations")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="no status lines")]


def _check_out(out: Path) -> None:
    if out.suffix.lower() != ".wav":
        raise UserError(f"{out}: the output must be a .wav file")
    if not out.parent.is_dir():
        raise UserError(f"{out.parent}: no such output folder")


def _write(out: Path, audio: object, sample_rate: int, method: str, quiet: bool) -> None:
    from vaudio.io.audio import save_audio

    save_audio(out, audio, sample_rate)  # type: ignore[arg-type]
    if not quiet:
        seconds = len(audio) / sample_rate  # type: ignore[arg-type]
        typer.echo(f"wrote {out} ({seconds:.2f} s, {method})")


def _choose(method: str, checkpoint: Path | None, steps: int, gl_iters: int, seed: int):  # type: ignore[no-untyped-def]
    from vaudio.vocoder.choice import choose_vocoder

    check_seed(seed)
    if gl_iters < 1:
        raise UserError(f"--gl-iters must be at least 1, got {gl_iters}")
    choice = choose_vocoder(method, checkpoint)
    if choice.method == "griffin-lim" and method == "auto":
        logger.warning("using Griffin-Lim: %s", choice.reason)
    if choice.model is not None:
        from vaudio.vocoder.synthesis import sampler_for

        sampler_for(steps, choice.model.config.num_steps)
    return choice


@exits_2_on_user_error
def vocode_command(
    wav: Annotated[
        Path, typer.Argument(help="audio file to re-synthesise (any rate; resampled, down-mixed)")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="output .wav")],
    method: MethodOption = "auto",
    steps: StepsOption = 6,
    checkpoint: CheckpointOption = None,
    seed: SeedOption = 0,
    gl_iters: ItersOption = 32,
    quiet: QuietOption = False,
) -> None:
    """Re-synthesise a recording from its mel spectrogram (wav -> mel -> wav)."""
    configure_logging(quiet)
    import torch

    from vaudio.features.mel import mel_spectrogram
    from vaudio.io.audio import load_audio
    from vaudio.vocoder.synthesis import mel_config_of, vocode_mel

    _check_out(out)
    choice = _choose(method, checkpoint, steps, gl_iters, seed)
    config = mel_config_of(choice)
    samples = load_audio(wav, config.sample_rate)
    if float(abs(samples).max()) == 0.0:
        raise UserError(f"{wav}: the audio is silent")
    mel = mel_spectrogram(torch.from_numpy(samples), config)
    with torch.inference_mode():
        audio = vocode_mel(choice, mel, steps=steps, seed=seed, gl_iters=gl_iters)
    _write(out, audio, config.sample_rate, choice.method, quiet)


@exits_2_on_user_error
def mel2wav_command(
    mel_file: Annotated[Path, typer.Argument(help="normalised log-mel .npy of shape (n_mels, frames)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="output .wav")],
    method: MethodOption = "auto",
    steps: StepsOption = 6,
    checkpoint: CheckpointOption = None,
    seed: SeedOption = 0,
    gl_iters: ItersOption = 32,
    quiet: QuietOption = False,
) -> None:
    """Synthesise audio from a mel spectrogram saved with numpy (e.g. `vaudio synth --mel-out`)."""
    configure_logging(quiet)
    import numpy as np
    import torch

    from vaudio.vocoder.synthesis import mel_config_of, vocode_mel

    _check_out(out)
    if not mel_file.is_file():
        raise UserError(f"{mel_file}: no such file")
    try:
        array = np.load(mel_file, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise UserError(f"{mel_file}: not a numpy .npy array ({err})") from None
    if not np.issubdtype(array.dtype, np.floating):
        raise UserError(f"{mel_file}: expected a float array, got {array.dtype}")
    choice = _choose(method, checkpoint, steps, gl_iters, seed)
    config = mel_config_of(choice)
    mel = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    from vaudio.features.mel import check_mel

    check_mel(mel, config, str(mel_file))
    with torch.inference_mode():
        audio = vocode_mel(choice, mel, steps=steps, seed=seed, gl_iters=gl_iters)
    _write(out, audio, config.sample_rate, choice.method, quiet)
