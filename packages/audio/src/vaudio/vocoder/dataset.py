"""Training clips for the vocoder: whole recordings in memory, random mel-aligned crops.

A corpus folder is either a `vaudio data songs|speech` folder (its `manifest.json` lists each item's
`wav` path and `split`) or any folder of .wav files (all used for training). Every clip is loaded once
at the model's sample rate (`vaudio.io.audio.load_audio`) and its normalised log-mel is computed once.
Item i of an epoch is segment k of clip c (the clip cut into `crop_frames`-frame segments); the crop
starts at a random frame inside the segment, drawn from torch's global generator in the main process,
so vcore's loop restores it exactly on resume.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from vaudio.data.corpus import manifest_items
from vaudio.features.mel import MelConfig, mel_spectrogram
from vaudio.io.audio import load_audio
from vcore.errors import UserError

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Clip:
    """One recording: samples [frames * hop] and its mel [n_mels, frames]."""

    name: str
    audio: Tensor
    mel: Tensor


def corpus_files(folder: Path, split: str) -> list[Path]:
    """The wav files of `split` in a corpus folder (manifest.json, or every *.wav as 'train')."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not folder.is_dir():
        raise UserError(f"{folder}: no such corpus folder")
    items = manifest_items(folder)
    if items is not None:
        return [folder / item["wav"] for item in items if item["split"] == split]
    files = sorted(folder.rglob("*.wav"))
    if not files:
        raise UserError(f"{folder}: no manifest.json and no .wav files")
    return files if split == "train" else []


def load_clips(files: list[Path], config: MelConfig) -> list[Clip]:
    """Load and featurise every file; the audio is cut to a whole number of frames."""
    clips = []
    for path in files:
        samples = torch.from_numpy(load_audio(path, config.sample_rate))
        frames = config.frames(samples.numel())
        if frames == 0:
            logger.warning("%s: shorter than one frame, skipped", path)
            continue
        clips.append(Clip(path.stem, samples[: frames * config.hop_length], mel_spectrogram(samples, config)))
    return clips


class CropDataset(Dataset[tuple[Tensor, Tensor]]):
    """(audio [crop_frames * hop], mel [n_mels, crop_frames]) crops of the clips."""

    def __init__(self, clips: list[Clip], config: MelConfig, crop_frames: int) -> None:
        if crop_frames < 1:
            raise UserError(f"crop length must be at least one frame, got {crop_frames}")
        self.clips = [c for c in clips if c.mel.shape[-1] >= crop_frames]
        if not self.clips:
            raise UserError(f"no clip is at least {crop_frames} frames long")
        self.config, self.crop = config, crop_frames
        self.index = [
            (c, k) for c, clip in enumerate(self.clips) for k in range(clip.mel.shape[-1] // crop_frames)
        ]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        c, k = self.index[i]
        clip = self.clips[c]
        last = clip.mel.shape[-1] - self.crop
        start = min(last, k * self.crop + int(torch.randint(0, self.crop, ())))
        hop = self.config.hop_length
        audio = clip.audio[start * hop : (start + self.crop) * hop]
        return audio, clip.mel[:, start : start + self.crop]

    def seconds(self) -> float:
        return sum(c.audio.numel() for c in self.clips) / self.config.sample_rate
