r"""Training items of the acoustic model: a `vaudio data songs` corpus read into memory.

Each item is one phrase: its .ds segment (phones, durations, f0_seq), the voice, and the log-mel of its
wav. Splits come from `manifest.json`; while a corpus is still being rendered (no manifest yet), from
the corpus plan (`vaudio.data.song_plan.plan_songs` with seed 0, which assigns every item id its split;
a longer plan extends a shorter one, so the split of an id does not depend on the planned hours), for
the items whose .ds and wav are both on disk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from vaudio.acoustic.frames import hz_to_midi, segment_frames
from vaudio.acoustic.phones import PhoneSet
from vaudio.data.corpus import manifest_items
from vaudio.features.mel import MelConfig, mel_spectrogram
from vaudio.score.ds import DsSegment, read_ds
from vcore.errors import UserError

logger = logging.getLogger(__name__)

PLAN_HOURS = 2.0


@dataclass
class SongClip:
    """One phrase: id, voice, segment, frame-level inputs and mel [n_mels, F] in [0, 1]."""

    id: str
    voice: str
    segment: DsSegment
    phones: list[str]
    ph_frames: np.ndarray
    midi: np.ndarray  # fractional MIDI of F0 per frame
    mel: Tensor
    wav: Path


@lru_cache(maxsize=2)
def _planned_splits(seed: int) -> dict[str, str]:
    from vaudio.data.song_plan import plan_songs
    from vaudio.data.words import one_syllable_words

    return {it.id: it.split for it in plan_songs(seed, PLAN_HOURS, ("kal", "ked"), one_syllable_words())}


def corpus_entries(folder: Path, split: str) -> list[tuple[str, str, Path, Path]]:
    """(id, voice, wav, ds) of the items of `split` in a songs corpus folder."""
    items = manifest_items(folder)
    if items is not None:
        return [
            (e["id"], e["voice"], folder / e["wav"], folder / e["ds"]) for e in items if e["split"] == split
        ]
    if not (folder / "ds").is_dir():
        raise UserError(f"{folder}: not a songs corpus (no manifest.json and no ds/ folder)")
    splits = _planned_splits(0)
    out = []
    for ds in sorted((folder / "ds").glob("*.ds")):
        wav = folder / "wavs" / f"{ds.stem}.wav"
        if wav.is_file() and splits.get(ds.stem) == split:
            out.append((ds.stem, ds.stem.rsplit("-", 1)[-1], wav, ds))
    return out


def load_clip(item_id: str, voice: str, wav: Path, ds: Path, config: MelConfig) -> SongClip:
    """Read one item and compute its mel (frames trimmed/padded to the segment's frame count)."""
    from vaudio.io.audio import load_audio

    segment = read_ds(ds)[0]
    frames = segment_frames(segment, config)
    audio = load_audio(wav, config.sample_rate)
    samples = torch.as_tensor(np.asarray(audio), dtype=torch.float32).reshape(-1)
    mel = mel_spectrogram(samples, config)
    n = frames.n_frames
    if mel.shape[1] < n:
        mel = torch.nn.functional.pad(mel, (0, n - mel.shape[1]))
    return SongClip(
        item_id, voice, segment, frames.phones, frames.ph_frames, hz_to_midi(frames.f0), mel[:, :n], wav
    )


def load_corpus(
    folders: list[Path], split: str, config: MelConfig, limit: int | None = None
) -> list[SongClip]:
    """Every item of `split` in `folders` (at most `limit`)."""
    entries = [e for folder in folders for e in corpus_entries(folder, split)]
    if limit is not None:
        entries = entries[:limit]
    return [load_clip(*e, config) for e in entries]


class ClipDataset(torch.utils.data.Dataset[dict[str, Tensor]]):
    """Clips as tensors for a given phone set and voice list (items with unknown phones are dropped)."""

    def __init__(self, clips: list[SongClip], phones: PhoneSet, voices: list[str]) -> None:
        self.items = []
        for clip in clips:
            if phones.unknown(clip.phones) or clip.voice not in voices:
                logger.warning("%s: skipped (phones or voice unknown to the model)", clip.id)
                continue
            self.items.append(
                {
                    "phones": torch.tensor(phones.ids(clip.phones), dtype=torch.long),
                    "ph_frames": torch.as_tensor(clip.ph_frames, dtype=torch.long),
                    "midi": torch.as_tensor(clip.midi, dtype=torch.float32),
                    "mel": clip.mel,
                    "voice": torch.tensor(voices.index(clip.voice)),
                }
            )

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return self.items[index]

    def seconds(self, config: MelConfig) -> float:
        return sum(int(it["mel"].shape[1]) for it in self.items) * config.hop_length / config.sample_rate


def collate(items: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """Pad phones (0) and frames (mel 0, MIDI 60) to the longest item."""
    p = max(int(it["phones"].shape[0]) for it in items)
    f = max(int(it["mel"].shape[1]) for it in items)
    n_mels = int(items[0]["mel"].shape[0])
    out = {
        "phones": torch.zeros(len(items), p, dtype=torch.long),
        "ph_frames": torch.zeros(len(items), p, dtype=torch.long),
        "midi": torch.full((len(items), f), 60.0),
        "mel": torch.zeros(len(items), n_mels, f),
        "voice": torch.stack([it["voice"] for it in items]),
        "frames": torch.tensor([int(it["mel"].shape[1]) for it in items]),
    }
    for i, it in enumerate(items):
        out["phones"][i, : it["phones"].shape[0]] = it["phones"]
        out["ph_frames"][i, : it["ph_frames"].shape[0]] = it["ph_frames"]
        out["midi"][i, : it["midi"].shape[0]] = it["midi"]
        out["mel"][i, :, : it["mel"].shape[1]] = it["mel"]
    return out
