"""`vaudio data songs`: a singing corpus (16 kHz wav + DiffSinger .ds per phrase) sung by Festival.

    DIR/wavs/<id>.wav    mono 16-bit PCM, 16 kHz, exactly sum(ph_dur) long
    DIR/f0/<id>.npy      raw Harvest F0 every 5 ms, float32, 0 on unvoiced frames (the voicing f0_seq lacks)
    DIR/ds/<id>.ds       one DiffSinger segment (`vaudio.score.ds`): ph_seq/ph_dur/ph_num, note_seq/note_dur/
                         note_slur, f0_seq every 5 ms, unvoiced frames interpolated (`vaudio.data.song_labels`)
    DIR/manifest.json    written last: the settings, per-split totals, F0 accuracy and one entry per item
                         (id, split, voice, melody, wav, ds, duration, ...)

Item ids are `<melody>-p<phrase>-<voice>`, e.g. `essen-han1-0005-p02-kal`. What is sung comes from
`vaudio.data.song_plan` (melodies, phrases, lyrics, splits), how it is sung from `vaudio.data.festival`.
Each item is one text2wave process; with `jobs` > 1 they run in a process pool. Every file is written
atomically, the .ds last, so an interrupted run leaves whole files only; a re-run keeps an item whose
three files exist and whose .ds reads back with the planned words, notes and length (hence tempo), and
renders the rest. Items Festival fails on are logged and listed under
`failed` in the manifest instead of stopping the run.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vaudio.data import song_plan
from vaudio.data.corpus import map_with_progress, prepare_out_dir, split_totals
from vaudio.data.festival import (
    FESTIVAL_BEAT_DIVISOR,
    SAMPLE_RATE,
    VOICES,
    RenderError,
    check_festival,
    clean_segments,
    render,
)
from vaudio.data.song_labels import F0_TIMESTEP, MAX_DRIFT_SECONDS, build_segment, note_cents_error
from vaudio.data.song_plan import SongItem, plan_songs
from vaudio.data.words import CMU_LEXICON, POS_LEXICON, one_syllable_words, word_list_digest
from vaudio.features.world import extract_f0
from vaudio.score.ds import DsSegment, read_ds, write_ds
from vaudio.score.pitch import midi_to_name
from vcore.errors import UserError

logger = logging.getLogger(__name__)

MAX_TAIL_SECONDS = 0.1
"""Largest allowed difference between the wav Festival writes and its last phone's end."""


@dataclass(frozen=True)
class ItemResult:
    """What rendering (or finding) one item gave: its manifest entry and per-frame F0 errors."""

    id: str
    entry: dict[str, Any] | None
    cents: np.ndarray
    rendered: bool
    error: str | None = None


def item_paths(out: Path, item_id: str) -> tuple[Path, Path, Path]:
    """(wav, raw F0 .npy, .ds) of an item."""
    return out / "wavs" / f"{item_id}.wav", out / "f0" / f"{item_id}.npy", out / "ds" / f"{item_id}.ds"


def _save_npy(path: Path, array: np.ndarray) -> None:
    from vcore.io.atomic import atomic_file

    with atomic_file(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, array)


def _entry(item: SongItem, duration: float, cents: np.ndarray) -> dict[str, Any]:
    phrase = item.phrase
    return {
        "id": item.id,
        "split": item.split,
        "voice": item.voice,
        "melody": phrase.melody.id,
        "title": phrase.title,
        "phrase": phrase.index,
        "wav": f"wavs/{item.id}.wav",
        "ds": f"ds/{item.id}.ds",
        "f0": f"f0/{item.id}.npy",
        "duration": round(duration, 4),
        "bpm": phrase.bpm,
        "transpose": phrase.transpose,
        "notes": phrase.n_sung,
        "f0_median_cents": round(float(np.median(cents)), 2) if cents.size else None,
    }


def _existing(item: SongItem, out: Path) -> ItemResult | None:
    """The result of an item already on disk that matches the plan, else None (it gets rendered)."""
    import soundfile as sf

    wav, f0_path, ds = item_paths(out, item.id)
    if not (wav.is_file() and f0_path.is_file() and ds.is_file()):
        return None
    try:
        segment = read_ds(ds)[0]
        f0 = np.load(f0_path).astype(np.float64)
        frames = sf.info(str(wav)).frames
    except (UserError, OSError, ValueError, RuntimeError) as err:
        logger.warning("%s: re-rendering (%s)", item.id, err)
        return None
    same_length = abs(segment.duration - item.phrase.duration) <= MAX_DRIFT_SECONDS  # i.e. the same tempo
    if segment.text != item.text or segment.note_seq != item.note_names or not same_length or f0.ndim != 1:
        logger.warning("%s: the files on disk sing something else; re-rendering", item.id)
        return None
    cents = note_cents_error(f0, segment)
    return ItemResult(item.id, _entry(item, frames / SAMPLE_RATE, cents), cents.astype(np.float32), False)


def render_item(task: tuple[SongItem, Path]) -> ItemResult:
    """Render one item to DIR/wavs + DIR/ds (or find it there); a Festival failure becomes `error`."""
    from vaudio.io.audio import save_audio

    item, out = task
    found = _existing(item, out)
    if found is not None:
        return found
    try:
        samples, raw_segments = render(item.xml(), item.voice)
        segments = clean_segments(raw_segments)
        n = round(segments[-1].end * SAMPLE_RATE)
        if abs(samples.size - n) > MAX_TAIL_SECONDS * SAMPLE_RATE:
            raise RenderError(
                f"the wav lasts {samples.size / SAMPLE_RATE:.3f} s, the phones {n / SAMPLE_RATE:.3f} s"
            )
        samples = np.pad(samples[:n], (0, max(0, n - samples.size)))
        f0, _ = extract_f0(samples, SAMPLE_RATE, "harvest", frame_period=F0_TIMESTEP * 1000)
        f0 = f0.astype(np.float32).astype(np.float64)  # as stored in f0/<id>.npy
        # as written (6 decimals), so that a re-run that reads the files back measures the same numbers
        segment = DsSegment.from_dict(build_segment(segments, item, f0).to_dict(), item.id)
        cents = note_cents_error(f0, segment)
    except RenderError as err:
        logger.warning("%s: %s", item.id, err)
        return ItemResult(item.id, None, np.zeros(0, np.float32), True, str(err))
    wav, f0_path, ds = item_paths(out, item.id)
    save_audio(wav, samples, SAMPLE_RATE)
    _save_npy(f0_path, f0.astype(np.float32))
    write_ds(ds, [segment])
    return ItemResult(item.id, _entry(item, n / SAMPLE_RATE, cents), cents.astype(np.float32), True)


def festival_version() -> str:
    try:
        done = subprocess.run(
            ["festival", "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() or "unknown"


def build_songs(
    out: Path,
    hours: float,
    seed: int = 0,
    voices: Sequence[str] = ("kal", "ked"),
    jobs: int = 1,
    quiet: bool = False,
) -> dict[str, Any]:
    """Render the corpus into `out` (resuming), write DIR/manifest.json last and return the manifest.

    The returned dict also holds a "run" entry (wall time, items rendered and kept) that is not written.
    """
    import music21

    import vaudio

    if hours <= 0:
        raise UserError(f"--hours must be > 0, got {hours}")
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {jobs}")
    voices = list(dict.fromkeys(voices))
    check_festival(voices)
    out = prepare_out_dir(out)
    start = time.perf_counter()
    words = one_syllable_words()
    items = plan_songs(seed, hours, voices, words)
    logger.info(
        "planned %d items (%d phrases x %d voices)", len(items), len(items) // len(voices), len(voices)
    )
    results = map_with_progress(render_item, [(it, out) for it in items], jobs, "singing", quiet)
    entries = [r.entry for r in results if r.entry is not None]
    failed = [{"id": r.id, "error": r.error} for r in results if r.error is not None]
    if not entries:
        raise UserError(f"Festival failed on every item (first: {failed[0]['error'] if failed else 'none'})")
    cents = np.concatenate([r.cents for r in results])
    rendered = [r for r in results if r.rendered and r.entry is not None]
    manifest: dict[str, Any] = {
        "dataset": "vaudio-songs",
        "description": "Phrases of folk songs and chorale melodies sung by Festival's diphone voices, "
        "with DiffSinger .ds labels (phones and their durations from Festival, notes, Harvest F0)",
        "seed": seed,
        "hours_requested": hours,
        "hours": round(sum(e["duration"] for e in entries) / 3600.0, 4),
        "sample_rate": SAMPLE_RATE,
        "voices": {v: VOICES[v] for v in voices},
        "sources": {
            "melodies": f"music21 {music21.__version__} bundled corpus: essenFolksong (Essen folk songs, ABC), "
            "bach (chorales, soprano line)",
            "lyrics": {
                "words": len(words),
                "sha256": word_list_digest(words),
                "from": [str(CMU_LEXICON), str(POS_LEXICON)],
                "rule": "one-syllable words (vaudio.data.words), one per note",
            },
            "synthesis": f"{festival_version()}, singing mode (text2wave -mode singing)",
        },
        "plan": {
            "voice_range": [midi_to_name(song_plan.VOICE_RANGE[0]), midi_to_name(song_plan.VOICE_RANGE[1])],
            "tempo_bpm": list(song_plan.TEMPO_RANGE),
            "min_note_seconds": song_plan.MIN_NOTE_SECONDS,
            "phrase_seconds": list(song_plan.PHRASE_SECONDS),
            "pad_seconds": song_plan.PAD_SECONDS,
            "max_rest_seconds": song_plan.MAX_REST_SECONDS,
            "split": "by melody, numbered per source in acceptance order: k % 20 == 3 val, k % 20 == 13 test, "
            "else train",
        },
        "festival_corrections": {
            "pitch": "notes are written with Festival's octave = scientific octave + 1 (its A5 is 440 Hz)",
            "tempo": f"BPM attribute = bpm * {FESTIVAL_BEAT_DIVISOR:g} / 60 (it divides BPM by "
            f"{FESTIVAL_BEAT_DIVISOR:g})",
            "pauses": "zero-length pauses dropped, adjacent pauses merged",
        },
        "ds": {
            "phones": "Festival's phone names, 'SP' for silence",
            "notes": "a note starts at its syllable's vowel (a rest at its pause); note_slur all 0",
            "f0": {
                "method": "pyworld harvest",
                "timestep": F0_TIMESTEP,
                "unvoiced": "log-linear interpolation between voiced frames, ends held; raw F0 with 0 for "
                "unvoiced frames in f0/<id>.npy",
            },
        },
        "splits": split_totals(entries, "melody", "melodies"),
        "f0_error_cents": {
            "what": "|1200 log2(f0 / note)| over voiced frames inside notes (raw Harvest F0)",
            "median": round(float(np.median(cents)), 2) if cents.size else None,
            "p90": round(float(np.percentile(cents, 90)), 2) if cents.size else None,
            "frames": int(cents.size),
        },
        "failed": failed,
        "items": entries,
        "versions": {"vaudio": vaudio.__version__, "music21": music21.__version__},
    }
    from vcore.io.atomic import atomic_write_json

    atomic_write_json(out / "manifest.json", manifest)
    listed = {e["id"] for e in entries}
    stale = sorted(f.name for f in (out / "wavs").glob("*.wav") if f.stem not in listed)
    if stale:
        logger.warning(
            "%d wav files in %s are not in this corpus (left by another plan), e.g. %s",
            len(stale),
            out / "wavs",
            stale[0],
        )
    wall = time.perf_counter() - start
    rendered_seconds = sum(r.entry["duration"] for r in rendered if r.entry is not None)
    manifest["run"] = {
        "wall_seconds": round(wall, 1),
        "rendered": len(rendered),
        "kept": sum(1 for r in results if not r.rendered),
        "failed": len(failed),
        "audio_seconds_rendered": round(rendered_seconds, 1),
        "realtime_factor": round(rendered_seconds / wall, 2) if rendered else None,
    }
    return manifest
