"""`vaudio data songs` and `vaudio data speech`: build the singing and speech corpora offline.

    vaudio data songs --out DIR --hours 1.5 --seed 0 [--voices kal,ked] [--jobs N]
    vaudio data speech --out DIR [--sentences 330] [--seed 0] [--jobs N]

songs: phrases of music21-corpus melodies sung by Festival's kal and ked diphone voices, a 16 kHz wav and
a DiffSinger .ds and the raw F0 per phrase (`vaudio.data.songs`); speech: espeak-ng sentences in twelve voices at 16 kHz
(`vaudio.data.speech`). Both resume (finished items are kept) and write manifest.json last.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from vcore.cli_support import check_seed, configure_logging, fail
from vcore.errors import UserError

data_app = typer.Typer(
    name="data",
    help="Build corpora (offline: Festival, espeak-ng and music21's corpus; nothing is downloaded).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

OutOption = Annotated[
    Path, typer.Option("--out", "-o", help="corpus folder (created; finished items are kept)")
]
SeedOption = Annotated[int, typer.Option("--seed", help="seed of every choice (same seed, same corpus)")]
JobsOption = Annotated[int, typer.Option("--jobs", "-j", help="parallel synthesis processes")]
JsonOption = Annotated[bool, typer.Option("--json", help="print the manifest summary as JSON")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or log lines")]


@data_app.callback()
def data_group() -> None:
    """Corpus builders; `vaudio data songs --help`, `vaudio data speech --help`."""


def _summary(manifest: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in manifest.items() if k != "items"}


def _print_splits(manifest: dict[str, Any]) -> None:
    for split, totals in manifest["splits"].items():
        counts = ", ".join(f"{v} {k}" for k, v in totals.items() if k != "hours")
        typer.echo(f"  {split:5s} {totals['hours'] * 60:7.1f} min  ({counts})")


@data_app.command("songs")
def songs_command(
    out: OutOption,
    hours: Annotated[float, typer.Option("--hours", help="total audio to sing, all voices together")] = 1.5,
    seed: SeedOption = 0,
    voices: Annotated[
        str, typer.Option("--voices", help="comma-separated Festival voices: kal, ked")
    ] = "kal,ked",
    jobs: JobsOption = 1,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Sing music21-corpus melodies with Festival: DIR/{wavs/*.wav, ds/*.ds, f0/*.npy, manifest.json}."""
    from vaudio.data.songs import build_songs

    configure_logging(quiet)
    try:
        check_seed(seed)
        chosen = [v.strip() for v in voices.split(",") if v.strip()]
        if not chosen:
            raise UserError("--voices names no voice")
        manifest = build_songs(out, hours, seed, chosen, jobs, quiet)
    except UserError as err:
        raise fail(str(err)) from None
    if as_json:
        typer.echo(json.dumps(_summary(manifest), indent=2))
        return
    if quiet:
        return
    run = manifest["run"]
    typer.echo(f"{out}: {manifest['hours'] * 60:.1f} min of singing in {len(manifest['items'])} items")
    _print_splits(manifest)
    f0 = manifest["f0_error_cents"]
    typer.echo(f"F0 vs notes: median {f0['median']} cents, 90th percentile {f0['p90']} cents")
    speed = f" ({run['realtime_factor']}x real time)" if run["realtime_factor"] else ""
    typer.echo(
        f"rendered {run['rendered']}, kept {run['kept']}, failed {run['failed']} in {run['wall_seconds']} s{speed}"
    )


@data_app.command("speech")
def speech_command(
    out: OutOption,
    sentences: Annotated[int, typer.Option("--sentences", help="sentences to speak (~3.2 s each)")] = 330,
    seed: SeedOption = 0,
    jobs: JobsOption = 1,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Speak template sentences with espeak-ng in several voices: DIR/wavs/*.wav + DIR/manifest.json."""
    from vaudio.data.speech import build_speech

    configure_logging(quiet)
    try:
        check_seed(seed)
        manifest = build_speech(out, sentences, seed, jobs, quiet)
    except UserError as err:
        raise fail(str(err)) from None
    if as_json:
        typer.echo(json.dumps(_summary(manifest), indent=2))
        return
    if not quiet:
        typer.echo(f"{out}: {manifest['hours'] * 60:.1f} min of speech in {len(manifest['items'])} items")
        _print_splits(manifest)
        typer.echo(f"built in {manifest['run']['wall_seconds']} s")
