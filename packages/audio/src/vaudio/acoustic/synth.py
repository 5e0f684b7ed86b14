r"""Score -> mel -> waveform: what `vaudio synth` runs.

1. Read the score: a .ds file (`vaudio.score.ds.read_ds`, every segment at its offset) or MusicXML/MIDI
   (`vaudio.acoustic.scores`, one segment that has notes and phones but no durations or F0).
2. Phones: a `--phoneme-map` is applied first (`vaudio.acoustic.phones`); phones still unknown to the
   model, over all segments, end the run with one error listing them.
3. Notes (MIDI, after `--key`) must lie in `NOTE_RANGE` (C2..C6; the corpus sings A2..E4).
4. Durations from ph_dur, or from the score model (`vaudio.acoustic.pitch.place_phones`) for scores;
   F0 from f0_seq, or from the notes (`vaudio.acoustic.pitch.f0_curve`). `--key` shifts both.
5. Each segment is decoded (`vaudio.acoustic.diffusion.decode`: shallow diffusion from the checkpoint's
   boundary k by default) and its mel placed at round(offset / hop) frames of the song (overlaps keep
   the louder bin; gaps are silence, mel 0).
6. The song mel is vocoded once (`vaudio.vocoder.synthesis.vocode_mel` with the default vocoder choice).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaudio.acoustic.diffusion import Mode, decode
from vaudio.acoustic.frames import frame_times, hz_to_midi, phone_frames, segment_frames
from vaudio.acoustic.model import AcousticModel
from vaudio.acoustic.phones import PhonemeMap, UnknownPhonesError, apply_map, check_map
from vaudio.acoustic.pitch import PitchModel, f0_curve, place_phones
from vaudio.score.ds import DsSegment, read_ds
from vaudio.score.pitch import midi_to_name
from vcore.errors import UserError

logger = logging.getLogger(__name__)

NOTE_RANGE = (36, 84)
"""MIDI notes the model accepts after --key: C2..C6."""


@dataclass
class ScoreInput:
    """Segments of a score and whether their ph_dur are placeholders (MusicXML/MIDI)."""

    segments: list[DsSegment]
    needs_durations: bool
    source: str


@dataclass
class SynthResult:
    """The song's mel [n_mels, F] in [0, 1], its F0 input (Hz per frame, 0 outside segments), note
    events (start s, end s, MIDI) and timings."""

    mel: np.ndarray
    f0: np.ndarray
    notes: list[tuple[float, float, int]]
    timings: dict[str, float] = field(default_factory=dict)


def read_score_file(path: Path) -> ScoreInput:
    """Dispatch on the suffix: .ds, or MusicXML/MIDI through music21."""
    from vaudio.acoustic.scores import SCORE_SUFFIXES, read_score

    suffix = path.suffix.lower()
    if suffix == ".ds":
        return ScoreInput(read_ds(path), False, str(path))
    if suffix in SCORE_SUFFIXES:
        return ScoreInput(read_score(path), True, str(path))
    raise UserError(
        f"{path}: unknown score type {suffix or '(none)'}; expected .ds, .musicxml, .xml, .mxl or .mid"
    )


def map_segment(segment: DsSegment, mapping: PhonemeMap) -> DsSegment:
    """The segment with the phoneme map applied (ph_num adjusted to the expanded phones)."""
    if not mapping:
        return segment
    seq, dur, counts = apply_map(segment.ph_seq, segment.ph_dur, mapping)
    ph_num = segment.ph_num
    if ph_num is not None:
        new, first = [], 0
        for n in ph_num:
            new.append(sum(counts[first : first + n]))
            first += n
        ph_num = new
    return replace(segment, ph_seq=seq, ph_dur=dur, ph_num=ph_num)


def prepare(model: AcousticModel, score: ScoreInput, mapping: PhonemeMap, key: int) -> list[DsSegment]:
    """Mapped, checked segments with durations filled in (UserError naming segment and field)."""
    if mapping:
        check_map(mapping, model.phone_set, "--phoneme-map")
    segments = [map_segment(s, mapping) for s in score.segments]
    unknown: dict[str, list[int]] = {}
    for i, s in enumerate(segments):
        for p in model.phone_set.unknown(s.ph_seq):
            unknown.setdefault(p, []).append(i)
    if unknown:
        listed = ", ".join(
            f"{p} (segment {', '.join(map(str, v[:3]))}{'...' if len(v) > 3 else ''})"
            for p, v in unknown.items()
        )
        raise UnknownPhonesError(
            f"{score.source}: ph_seq has phones not in the model's phone set: {listed}; "
            "map them with --phoneme-map map.json"
        )
    pitch_model = PitchModel.from_dict(model.config.pitch_model)
    out = []
    for i, s in enumerate(segments):
        where = f"{score.source}: segment {i}"
        if s.note_seq is not None:
            for k, midi in enumerate(s.note_midi()):
                if midi is not None and not NOTE_RANGE[0] <= midi + key <= NOTE_RANGE[1]:
                    raise UserError(
                        f"{where}: note_seq[{k}] = {s.note_seq[k]}{f' (key {key:+d})' if key else ''} is outside "
                        f"the model's range {midi_to_name(NOTE_RANGE[0])}..{midi_to_name(NOTE_RANGE[1])}"
                    )
        if s.f0_seq is None and s.note_seq is None:
            raise UserError(f"{where}: f0_seq is missing and there are no notes (note_seq) to derive it from")
        if score.needs_durations:
            s = replace(s, ph_dur=place_phones(s, pitch_model, where))
            if any(d <= 0 for d in s.ph_dur):
                raise UserError(f"{where}: notes too short for their phones (ph_dur would be <= 0)")
        out.append(s)
    return out


def segment_inputs(
    model: AcousticModel, segment: DsSegment, key: int
) -> tuple[dict[str, torch.Tensor], np.ndarray]:
    """Batched model inputs of one segment and its F0 (Hz per frame, after --key)."""
    config = model.config.mel
    f0 = None
    if segment.f0_seq is None:
        count = int(phone_frames(segment.ph_dur, config).sum())
        f0 = f0_curve(segment, frame_times(count, config), PitchModel.from_dict(model.config.pitch_model))
    frames = segment_frames(segment, config, f0=f0, key=key)
    inputs = {
        "phones": torch.tensor([model.phone_set.ids(frames.phones)], dtype=torch.long),
        "ph_frames": torch.as_tensor(frames.ph_frames[None], dtype=torch.long),
        "midi": torch.as_tensor(hz_to_midi(frames.f0)[None], dtype=torch.float32),
    }
    return inputs, frames.f0


def synthesize(
    model: AcousticModel,
    segments: list[DsSegment],
    voice: str = "kal",
    key: int = 0,
    mode: Mode = "shallow",
    k: int | None = None,
    steps: int | None = None,
    seed: int = 0,
) -> SynthResult:
    """The song mel of prepared segments (see the module docstring, steps 4-5)."""
    config = model.config.mel
    voice_id = torch.tensor([model.voice_id(voice)])
    generator = torch.Generator().manual_seed(seed)
    pieces = []
    notes: list[tuple[float, float, int]] = []
    start_time = time.perf_counter()
    with torch.inference_mode():
        for s in segments:
            inputs, f0 = segment_inputs(model, s, key)
            cond, pad = model.encode(inputs["phones"], inputs["ph_frames"], inputs["midi"], voice_id)
            mel = decode(model, cond, pad, mode, k, steps, generator)[0].float().numpy()
            start = round(s.offset * config.sample_rate / config.hop_length)
            pieces.append((start, mel, f0))
            if s.note_seq is not None:
                onsets = s.note_onsets()
                for midi, onset, seconds in zip(s.note_midi(), onsets, s.note_dur or [], strict=False):
                    if midi is not None:
                        notes.append((s.offset + float(onset), s.offset + float(onset + seconds), midi + key))
    total = max(start + mel.shape[1] for start, mel, _ in pieces)
    song = np.zeros((config.n_mels, total), dtype=np.float32)
    f0_song = np.zeros(total)
    for start, mel, f0 in pieces:
        end = start + mel.shape[1]
        song[:, start:end] = np.maximum(song[:, start:end], mel)
        f0_song[start:end] = np.where(f0_song[start:end] > 0, f0_song[start:end], f0)
    return SynthResult(song, f0_song, notes, {"acoustic_s": time.perf_counter() - start_time})


def load_acoustic(checkpoint: Path | None, device: str = "cpu") -> AcousticModel:
    """The model of `checkpoint` (a run's checkpoint/ uses its weight average), else the shipped default."""
    from vaudio.pretrained import ACOUSTIC_DIR
    from vcore.io.checkpoint import load_weights, shipped_checkpoint
    from vcore.train import EMA_NAME

    folder = checkpoint if checkpoint is not None else shipped_checkpoint(ACOUSTIC_DIR, "vaudio acoustic")
    model = AcousticModel.from_pretrained(folder, map_location=device, dtype=torch.float32)  # shipped as fp16
    if (folder / EMA_NAME).is_file():
        load_weights(model, folder / EMA_NAME, map_location=device)
    return model


def render(
    model: AcousticModel,
    score: ScoreInput,
    mapping: PhonemeMap,
    voice: str,
    key: int,
    mode: Mode,
    k: int | None,
    steps: int | None,
    seed: int,
    vocoder: Any,
) -> tuple[np.ndarray, SynthResult]:
    """Audio (float32, the mel's length in samples) and the synthesis result of a score."""
    from vaudio.vocoder.synthesis import vocode_mel

    segments = prepare(model, score, mapping, key)
    result = synthesize(model, segments, voice, key, mode, k, steps, seed)
    start = time.perf_counter()
    audio = vocode_mel(vocoder, torch.from_numpy(result.mel), seed=seed)
    result.timings["vocoder_s"] = time.perf_counter() - start
    return audio, result


def save_plot(path: Path, result: SynthResult, hop_seconds: float) -> None:
    """The mel (top) and the F0 curve in semitones over the notes (bottom), PNG written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vcore.io.atomic import atomic_file

    seconds = result.mel.shape[1] * hop_seconds
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    top.imshow(
        result.mel, origin="lower", aspect="auto", vmin=0, vmax=1, extent=(0, seconds, 0, result.mel.shape[0])
    )
    top.set_ylabel("mel bin")
    for start, end, midi in result.notes:
        bottom.add_patch(plt.Rectangle((start, midi - 0.5), end - start, 1.0, color="tab:orange", alpha=0.4))
    times = np.arange(result.f0.size) * hop_seconds
    voiced = result.f0 > 0
    curve = np.where(voiced, hz_to_midi(np.where(voiced, result.f0, 1.0)), np.nan)
    bottom.plot(times, curve, color="tab:blue", linewidth=1.0, label="F0")
    if result.notes:
        low = min(n[2] for n in result.notes) - 3
        high = max(n[2] for n in result.notes) + 3
        bottom.set_ylim(low, high)
    bottom.set_ylabel("MIDI")
    bottom.set_xlabel("seconds")
    bottom.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80)
    plt.close(fig)
