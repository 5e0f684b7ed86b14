"""`vaudio synth score.(ds|musicxml|xml|mxl|mid) -o song.wav`: singing from a score (DiffSinger).

The acoustic model (`--checkpoint`, default: the shipped one) turns the score into a mel with shallow
diffusion from its boundary k (`--k auto`, or `--k N`; `--mode aux` for the auxiliary decoder alone,
`--mode full` for full diffusion from noise); `--steps N` runs N DDIM steps instead of every step of
the chain. The mel is vocoded with the default vocoder choice (`vaudio.vocoder.choice`: the shipped
DiffWave when it beats Griffin-Lim, else Griffin-Lim with the reason logged). Bad input (malformed
JSON/MusicXML/MIDI, notes out of range, durations <= 0, lengths that disagree, phones the model does
not know) ends with exit code 2 and one line naming the segment and field; outputs are written
atomically.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from vcore.cli_support import check_seed, configure_logging, exits_2_on_user_error, set_threads
from vcore.errors import UserError

logger = logging.getLogger(__name__)


@exits_2_on_user_error
def synth_command(
    score: Annotated[Path, typer.Argument(help="score: .ds, .musicxml/.xml/.mxl or .mid")],
    out: Annotated[Path, typer.Option("--out", "-o", help="output .wav")],
    voice: Annotated[str, typer.Option("--voice", help="kal or ked")] = "kal",
    key: Annotated[int, typer.Option("--key", help="transpose by N semitones (+N / -N)")] = 0,
    k: Annotated[
        str, typer.Option("--k", help="shallow-diffusion step: auto (the checkpoint's boundary) or N")
    ] = "auto",
    steps: Annotated[
        int | None, typer.Option("--steps", help="DDIM steps (default: every step of the chain, DDPM)")
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help="shallow (default), aux (decoder only) or full")
    ] = "shallow",
    phoneme_map: Annotated[
        Path | None, typer.Option("--phoneme-map", help="JSON {score phone: model phone(s)}")
    ] = None,
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", help="acoustic model folder (default: the shipped one)")
    ] = None,
    mel_out: Annotated[
        Path | None, typer.Option("--mel-out", help="also save the mel [n_mels, frames] (.npy)")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="PNG of the mel and the F0 over the notes")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the diffusion noise")] = 0,
    device: Annotated[str, typer.Option("--device")] = "cpu",
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads for torch")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print a JSON summary")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no status lines")] = False,
) -> None:
    """Sing a score: acoustic model (shallow diffusion) + vocoder -> wav."""
    configure_logging(quiet)
    set_threads(threads)
    check_seed(seed)
    for path, suffix in ((out, ".wav"), (mel_out, ".npy"), (plot, ".png")):
        if path is None:
            continue
        if path.suffix.lower() != suffix:
            raise UserError(f"{path}: expected a {suffix} file")
        if not path.parent.is_dir():
            raise UserError(f"{path.parent}: no such output folder")
    if mode not in ("shallow", "aux", "full"):
        raise UserError(f"--mode must be shallow, aux or full, got {mode!r}")
    import time

    import numpy as np

    from vaudio.acoustic.phones import read_phoneme_map
    from vaudio.acoustic.synth import load_acoustic, read_score_file, render, save_plot
    from vaudio.io.audio import save_audio
    from vaudio.vocoder.choice import choose_vocoder
    from vcore.io.atomic import atomic_file

    start = time.perf_counter()
    mapping = read_phoneme_map(phoneme_map) if phoneme_map is not None else {}
    parsed = read_score_file(score)
    model = load_acoustic(checkpoint, device)
    model.voice_id(voice)
    total = model.config.num_steps
    if k == "auto":
        k_value = None
    else:
        try:
            k_value = int(k)
        except ValueError:
            raise UserError(f"--k must be auto or an integer step, got {k!r}") from None
        if not 1 <= k_value <= total:
            raise UserError(f"--k must lie in [1, {total}] (the model's diffusion steps), got {k_value}")
    if steps is not None and not 1 <= steps <= total:
        raise UserError(f"--steps must lie in [1, {total}], got {steps}")
    vocoder = choose_vocoder("auto", None)
    if vocoder.method == "griffin-lim":
        logger.warning("vocoder: Griffin-Lim (%s)", vocoder.reason)
    audio, result = render(model, parsed, mapping, voice, key, mode, k_value, steps, seed, vocoder)  # type: ignore[arg-type]
    config = model.config.mel
    save_audio(out, audio, config.sample_rate)
    if mel_out is not None:
        with atomic_file(mel_out) as tmp, open(tmp, "wb") as handle:
            np.save(handle, result.mel)
    if plot is not None:
        save_plot(plot, result, config.hop_length / config.sample_rate)
    seconds = len(audio) / config.sample_rate
    wall = time.perf_counter() - start
    summary = {
        "out": str(out),
        "seconds": round(seconds, 3),
        "mode": mode,
        "k": k_value or model.config.boundary_k or total // 2,
        "steps": steps,
        "vocoder": vocoder.method,
        "wall_s": round(wall, 3),
        "realtime_factor": round((result.timings["acoustic_s"] + result.timings["vocoder_s"]) / seconds, 3),
        **{key_: round(v, 3) for key_, v in result.timings.items()},
    }
    if json_out:
        typer.echo(json.dumps(summary, indent=2))
    elif not quiet:
        typer.echo(f"wrote {out} ({seconds:.2f} s, {mode}, k {summary['k']}, vocoder {vocoder.method})")
